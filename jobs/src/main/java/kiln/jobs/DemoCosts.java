package kiln.jobs;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import kiln.core.Errors;
import kiln.cost.CostLine;
import kiln.cost.CostReport;
import kiln.cost.CostTable;
import org.apache.spark.sql.SparkSession;

/**
 * The demo's costs at its end: each step's run (its cost table row), the whole run (the demo's own
 * row, which measured the steps too), and the HTML cost report of the run.
 */
final class DemoCosts {
  private DemoCosts() {}

  /**
   * What a run and its nested runs cost, from the cost table.
   *
   * @param steps the nested runs, in the order they started
   * @param whole the run itself: everything between its start and end, the steps included
   */
  record Summary(List<CostLine> steps, CostLine whole) {
    /** Each step and the whole as lines of text; an unknown cost is said, never 0. */
    String text() {
      StringBuilder out = new StringBuilder("Cost of the run, step by step (the cost table):\n");
      for (CostLine step : steps) {
        out.append(line(step.job(), step.total(), step.currency()));
      }
      double known =
          steps.stream().filter(s -> s.total() != null).mapToDouble(CostLine::total).sum();
      long unknown = steps.stream().filter(s -> s.total() == null).count();
      out.append(
          String.format(
              Locale.ROOT,
              "  %-22s %12.6f %s%s%n",
              "steps together",
              known,
              whole.currency(),
              unknown == 0 ? "" : " (+ " + unknown + " step(s) of unknown cost)"));
      out.append(line("whole run", whole.total(), whole.currency()).stripTrailing());
      if (whole.total() != null && unknown == 0) {
        out.append(
            String.format(
                Locale.ROOT,
                " (%.6f outside the steps: the sample, the history, reports)",
                Math.max(0, whole.total() - known)));
      }
      return out.toString();
    }

    private static String line(String name, Double total, String currency) {
      return total == null
          ? String.format(Locale.ROOT, "  %-22s %12s %s%n", name, "unknown", currency)
          : String.format(Locale.ROOT, "  %-22s %12.6f %s%n", name, total, currency);
    }
  }

  /**
   * The run {@code runId}'s row and its nested runs' rows (those tagged with it as parent) since
   * {@code since}.
   */
  static Summary summary(List<CostLine> lines, String runId) {
    CostLine whole = null;
    List<CostLine> steps = new ArrayList<>();
    for (CostLine l : lines) {
      if (runId.equals(l.runId())) {
        whole = l;
      } else if (runId.equals(l.tags().get(CostLine.PARENT_TAG))) {
        steps.add(l);
      }
    }
    if (whole == null) {
      throw Errors.notFound(
          "the cost table has no row of run " + runId,
          "see the run's \"Cost not recorded\" line for why");
    }
    steps.sort(Comparator.comparing(CostLine::start));
    return new Summary(steps, whole);
  }

  /**
   * Prints the run's costs and writes its HTML cost report to {@code html}; a failure is said, not
   * thrown (the demo's work is done).
   */
  static void report(
      SparkSession spark, String table, String runId, Instant since, Path html, Console console) {
    try {
      List<CostLine> lines = new CostTable(spark, table).lines(since);
      Summary summary = summary(lines, runId);
      console.result(summary.text());
      List<CostLine> run = new ArrayList<>(summary.steps());
      run.add(summary.whole());
      CostCommand.writeHtml(CostReport.of(since, List.of("job"), run), html);
      console.result("Cost report: " + html.toAbsolutePath());
    } catch (RuntimeException e) {
      console.result("Costs not summarised: " + Errors.rootMessage(e));
    }
  }
}
