package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import kiln.core.testing.SharedSpark;
import kiln.cost.CostLine;
import kiln.cost.CostRecord;
import kiln.cost.CostTable;
import kiln.cost.PriceCatalog;
import kiln.cost.Pricing;
import kiln.cost.Usage;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The demo's closing cost lines and report, from a real cost table of a run and its steps. */
@ExtendWith(SharedSpark.class)
class DemoCostsTest {
  private static final Instant T0 = Instant.parse("2026-12-05T10:00:00Z");

  private static CostRecord run(
      String job, String id, String parent, int startSeconds, double cores) {
    Instant start = T0.plusSeconds(startSeconds);
    Usage usage =
        new Usage(
            start,
            start.plusSeconds(60),
            cores,
            cores / 2,
            0,
            null,
            cores,
            10,
            10,
            0,
            0,
            4,
            0,
            60,
            List.of());
    return new CostRecord(
        job,
        id,
        parent == null ? Map.of() : Map.of(CostLine.PARENT_TAG, parent),
        usage,
        List.of(),
        Pricing.price(usage, List.of(), PriceCatalog.defaults(), false));
  }

  @Test
  void eachStepsCostAndTheWholeRunsArePrintedAndTheReportWritten(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String table = dir.resolve("cost").toString();
    CostTable costs = new CostTable(spark, table);
    costs.append(run("train", "run-b", "run-d", 20, 3600));
    costs.append(run("ingest", "run-a", "run-d", 10, 1800));
    costs.append(run("drift", "run-x", null, 30, 7200)); // another run: not the demo's
    costs.append(run("demo", "run-d", null, 0, 7200));
    StringWriter out = new StringWriter();
    Console console = new Console(new PrintWriter(out, true), new PrintWriter(out, true));
    Path html = dir.resolve("reports/cost.html");

    DemoCosts.report(spark, table, "run-d", T0, html, console);

    String text = out.toString();
    double ingest =
        Pricing.price(
                run("ingest", "a", null, 10, 1800).usage(),
                List.of(),
                PriceCatalog.defaults(),
                false)
            .total();
    double train =
        Pricing.price(
                run("train", "b", null, 20, 3600).usage(),
                List.of(),
                PriceCatalog.defaults(),
                false)
            .total();
    double whole =
        Pricing.price(
                run("demo", "d", null, 0, 7200).usage(), List.of(), PriceCatalog.defaults(), false)
            .total();
    assertThat(text)
        .contains("Cost of the run, step by step")
        .containsPattern(
            "ingest\\s+" + String.format(java.util.Locale.ROOT, "%.6f", ingest) + " USD")
        .containsPattern("train\\s+" + String.format(java.util.Locale.ROOT, "%.6f", train) + " USD")
        .containsPattern(
            "steps together\\s+" + String.format(java.util.Locale.ROOT, "%.6f", ingest + train))
        .containsPattern("whole run\\s+" + String.format(java.util.Locale.ROOT, "%.6f", whole))
        .contains("Cost report: " + html.toAbsolutePath())
        .doesNotContain("drift");
    assertThat(text.indexOf("ingest")).isLessThan(text.indexOf("train"));
    String page = Files.readString(html);
    assertThat(page)
        .contains("<figure id=\"cost-over-time\">", "<td>train</td>", "<td>ingest</td>");

    StringWriter missing = new StringWriter();
    DemoCosts.report(
        spark,
        table,
        "run-none",
        T0,
        dir.resolve("other.html"),
        new Console(new PrintWriter(missing, true), new PrintWriter(missing, true)));
    assertThat(missing.toString())
        .contains("Costs not summarised: the cost table has no row of run run-none");
    assertThat(dir.resolve("other.html")).doesNotExist();
  }
}
