package kiln.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.cost.Budgets;
import kiln.cost.CostLine;
import kiln.cost.CostRecord;
import kiln.cost.CostReport;
import kiln.cost.CostReportHtml;
import kiln.cost.CostTable;
import kiln.cost.GpuEstimate;
import kiln.cost.PriceCatalog;
import kiln.cost.TableStorage;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiln cost}: what jobs, models and teams spent (every job's run is priced into the cost
 * table).
 */
@Command(
    name = "cost",
    mixinStandardHelpOptions = true,
    description = "Report what jobs, models and teams spent, and check it against budgets.",
    subcommands = {
      CostCommand.Report.class,
      CostCommand.Check.class,
      CostCommand.Storage.class,
      CommandLine.HelpCommand.class
    })
final class CostCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The cost table: --input, else the settings' spark.kiln.cost.table, else WORKDIR/cost. */
  static String table(String input, KilnSettings settings) {
    if (input != null) {
      return input;
    }
    String fromSettings =
        settings.spark() == null || settings.spark().conf() == null
            ? null
            : settings.spark().conf().get(JobCost.TABLE);
    return fromSettings != null
        ? fromSettings
        : settings.workdirPath().resolve("cost").toAbsolutePath().toString();
  }

  static Instant since(String text, Instant now) {
    Instant since;
    try {
      since =
          text.contains("T")
              ? Instant.parse(text)
              : LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException e) {
      throw Errors.badInput(
          "--since " + text + " is not a date",
          "give YYYY-MM-DD (UTC) or an ISO instant, e.g. 2026-12-01");
    }
    if (since.isAfter(now)) {
      throw Errors.badInput(
          "--since " + text + " is in the future", "give a date on or before today");
    }
    return since;
  }

  @Command(
      name = "report",
      mixinStandardHelpOptions = true,
      description = {
        "Print what the priced job runs since a date cost, per job, team, model or any tag.",
        "Known costs are summed, the largest group first; runs whose cost is unknown (a GPU or model the",
        "catalog does not price) are counted, never added as zero."
      })
  static final class Report implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--since",
        required = true,
        paramLabel = "DATE",
        description = "From this day (UTC) or instant on.")
    String since;

    @Option(
        names = "--group-by",
        paramLabel = "KEY[,KEY...]",
        split = ",",
        description = "Group by job and/or tags, e.g. team,model,job (default job).")
    List<String> groupBy;

    @Option(
        names = "--input",
        paramLabel = "TABLE",
        description = "The cost table (default WORKDIR/cost).")
    String input;

    @Option(
        names = "--html",
        paramLabel = "FILE.html",
        description = "Also write a self-contained HTML report.")
    Path html;

    @Option(
        names = "--gpu-coverage",
        paramLabel = "FILE.json",
        description =
            "Also ESTIMATE what the CPU runs would cost on the gpu profile, from this output of"
                + " `kiln gpu check --json` (each job's GPU-eligible share) and --gpu-speedup.")
    Path gpuCoverage;

    @Option(
        names = "--gpu-speedup",
        paramLabel = "X",
        defaultValue = "" + GpuEstimates.DEFAULT_SPEEDUP,
        description =
            "How many times faster a GPU runs the GPU-eligible share (default ${DEFAULT-VALUE}:"
                + " RAPIDS on TPC-DS as GPU-SPEEDUP.md cites it).")
    double gpuSpeedup;

    @Option(
        names = "--gpu-type",
        paramLabel = "TYPE",
        defaultValue = GpuEstimates.DEFAULT_GPU_TYPE,
        description = "The GPU priced from the catalog (default ${DEFAULT-VALUE}).")
    String gpuType;

    @Option(
        names = "--cores-per-gpu",
        paramLabel = "N",
        defaultValue = "" + GpuEstimates.DEFAULT_CORES_PER_GPU,
        description = "Executor cores sharing one GPU (default ${DEFAULT-VALUE}).")
    int coresPerGpu;

    /** What --json prints with --gpu-coverage: the report, and the estimate beside it. */
    record WithGpuEstimate(
        @com.fasterxml.jackson.annotation.JsonUnwrapped CostReport report,
        GpuEstimate gpuEstimate) {}

    @Override
    public Integer call() {
      Console console = json.console(spec);
      Instant from = since(since, Instant.now());
      GpuEstimate.Assumptions assumptions =
          gpuCoverage == null
              ? null
              : new GpuEstimate.Assumptions(
                  gpuSpeedup,
                  gpuType,
                  coresPerGpu,
                  gpuSpeedup == GpuEstimates.DEFAULT_SPEEDUP
                      ? GpuEstimates.DEFAULT_SOURCE
                      : "given with --gpu-speedup");
      Map<String, Double> coverage =
          gpuCoverage == null ? null : GpuEstimates.coverage(gpuCoverage);
      KilnSettings settings = sparkOptions.settings();
      try (Session session = new Session(settings)) {
        List<CostLine> lines = new CostTable(session.spark(), table(input, settings)).lines(from);
        CostReport report = CostReport.of(from, groupBy, lines);
        console.result(report.text().stripTrailing());
        GpuEstimate estimate = null;
        if (coverage != null) {
          estimate = GpuEstimate.of(lines, coverage, assumptions, GpuEstimates.catalog(settings));
          console.result(
              estimate.text(lines.isEmpty() ? "USD" : lines.get(0).currency()).stripTrailing());
        }
        if (html != null) {
          writeHtml(report, html);
          console.result("HTML report: " + html.toAbsolutePath());
        }
        json.print(spec, estimate == null ? report : new WithGpuEstimate(report, estimate));
        return 0;
      }
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Check this day's, week's and month's spending (UTC) against budgets and exit 1 when one is exceeded.",
        "Each budget prints its tier and action: info (log) at 50%% or more of its limit, warning (notify) at",
        "80%%, critical (page) when exceeded; and a linear forecast to the period's end once a tenth of it has",
        "passed. --json prints the worst tier and its action first, for a scheduler to branch on."
      },
      footer = {
        "",
        "Exit codes: 0 within budgets (or below --fail-on), 1 a budget exceeded (or at --fail-on), 2 bad",
        "usage or input (a budget for a group no run has), 3 an environment or internal failure."
      })
  static final class Check implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--budgets",
        required = true,
        paramLabel = "FILE",
        description =
            "Budgets (YAML): budgets: [{team|model|job: NAME, period: day|month, limit: N}].")
    Path budgets;

    @Option(
        names = "--input",
        paramLabel = "TABLE",
        description = "The cost table (default WORKDIR/cost).")
    String input;

    @Option(
        names = "--fail-on",
        defaultValue = "critical",
        paramLabel = "TIER",
        description =
            "Exit 1 from this tier on: critical (default: a budget exceeded), warning or info.")
    Budgets.Tier failOn;

    @Override
    public Integer call() {
      Console console = json.console(spec);
      if (failOn == Budgets.Tier.OK) {
        throw Errors.badInput(
            "--fail-on ok would fail every check", "give --fail-on critical, warning or info");
      }
      Budgets file = Budgets.read(budgets);
      KilnSettings settings = sparkOptions.settings();
      try (Session session = new Session(settings)) {
        List<Budgets.Status> statuses =
            file.check(
                new CostTable(session.spark(), table(input, settings)).lines(Instant.EPOCH),
                Instant.now());
        for (Budgets.Status s : statuses) {
          console.result(
              String.format(
                  java.util.Locale.ROOT,
                  "%-8s %s %s per %s: %.6f of %.6f (%.0f%%)%s; action: %s%s",
                  s.tier(),
                  s.budget().key(),
                  s.budget().value(),
                  s.budget().period().name().toLowerCase(java.util.Locale.ROOT),
                  s.spent(),
                  s.budget().limit(),
                  100 * s.share(),
                  s.unknownRuns() > 0 ? " and " + s.unknownRuns() + " runs of unknown cost" : "",
                  s.action(),
                  s.forecast() == null
                      ? ""
                      : String.format(
                          java.util.Locale.ROOT,
                          "; forecast %.6f by %s (%.0f%%, %s)",
                          s.forecast(),
                          s.periodEnd(),
                          100 * s.forecast() / s.budget().limit(),
                          s.forecastTier())));
        }
        Budgets.Summary summary = Budgets.Summary.of(statuses);
        console.result("Worst tier: " + summary.tier() + " (action: " + summary.action() + ")");
        json.print(spec, summary);
        List<Budgets.Status> exceeded =
            statuses.stream().filter(s -> s.tier().compareTo(failOn) >= 0).toList();
        if (!exceeded.isEmpty()) {
          throw Errors.checkFailed(
              exceeded.size()
                  + (failOn == Budgets.Tier.CRITICAL
                      ? " budget(s) exceeded: "
                      : " budget(s) at " + failOn + " or worse: ")
                  + exceeded.stream()
                      .map(s -> s.budget().key() + " " + s.budget().value())
                      .collect(Collectors.joining(", ")),
              "see `kiln cost report --since "
                  + exceeded.get(0).periodStart().toString().substring(0, 10)
                  + " --group-by "
                  + exceeded.get(0).budget().key()
                  + "` for what spent it");
        }
        return 0;
      }
    }
  }

  @Command(
      name = "storage",
      mixinStandardHelpOptions = true,
      description = {
        "Price keeping tables per GB-month in the cost table, once per table and UTC day.",
        "The bytes under each table's directory (every version time travel can read, and the Delta log) x",
        "--days, at the catalog's storageGbMonth: a row of job storage, tagged table=PATH and --tag, so a",
        "daily schedule or a re-run counts a day once."
      })
  static final class Storage implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--table",
        required = true,
        paramLabel = "TABLE",
        description = "A table to price; may repeat.")
    List<String> tables;

    @Option(
        names = "--days",
        defaultValue = "1",
        paramLabel = "N",
        description = "The days this measurement stands for (default 1: schedule it daily).")
    double days;

    @Option(
        names = "--input",
        paramLabel = "TABLE",
        description = "The cost table to append to (default WORKDIR/cost).")
    String input;

    /** What --json prints per table. */
    record Priced(String table, long bytes, double days, Double cost, boolean alreadyPriced) {}

    @Override
    public Integer call() {
      Console console = json.console(spec);
      if (!(days > 0) || Double.isInfinite(days)) {
        throw Errors.badInput(
            "--days " + days + " is not a positive number of days", "give e.g. --days 1");
      }
      KilnSettings settings = sparkOptions.settings();
      Map<String, String> conf =
          settings.spark() == null || settings.spark().conf() == null
              ? Map.of()
              : settings.spark().conf();
      String prices = conf.get(JobCost.PRICES);
      PriceCatalog catalog = PriceCatalog.load(prices == null ? null : Path.of(prices));
      Instant now = Instant.now();
      List<Priced> priced = new java.util.ArrayList<>();
      try (Session session = new Session(settings)) {
        CostTable table = new CostTable(session.spark(), table(input, settings));
        for (String t : tables) {
          long bytes = TableStorage.bytes(session.spark(), t);
          CostRecord record = TableStorage.record(t, bytes, days, JobCost.tags(conf), catalog, now);
          boolean again = table.append(record).alreadyWritten();
          console.result(
              String.format(
                  java.util.Locale.ROOT,
                  "%s: %s bytes for %s day(s): %.6f %s%s",
                  t,
                  Console.count(bytes),
                  days,
                  record.cost().total(),
                  catalog.currency(),
                  again ? " (already priced today: not counted again)" : ""));
          priced.add(new Priced(t, bytes, days, record.cost().total(), again));
        }
      }
      json.print(spec, priced);
      return 0;
    }
  }

  /** One page, no external files: {@link CostReportHtml}. */
  static void writeHtml(CostReport report, Path file) {
    try {
      if (file.toAbsolutePath().getParent() != null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
      }
      Files.writeString(file, CostReportHtml.render(report));
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot write the HTML report " + file + ": " + e.getMessage(),
          "give --html a writable path",
          e);
    }
  }
}
