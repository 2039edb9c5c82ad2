package kiln.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import kiln.contracts.CheckRun;
import kiln.contracts.CheckSpec;
import kiln.contracts.Contract;
import kiln.contracts.ContractCheck;
import kiln.contracts.ContractReports;
import kiln.contracts.ContractSuggestions;
import kiln.contracts.ContractTracking;
import kiln.contracts.Contracts;
import kiln.contracts.RuleResult;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.PinnedTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kiln contracts check|suggest}: data contracts (ODCS v3 layout) checked with Deequ. */
@Command(
    name = "contracts",
    mixinStandardHelpOptions = true,
    description =
        "Check Delta table versions against data contracts, or draft a contract from the data.",
    subcommands = {ContractsCommand.Check.class, ContractsCommand.Suggest.class})
final class ContractsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Check a version of a Delta table against a contract: the schema first, then every rule in one Deequ pass.",
        "Prints a table of the rules; writes report.json and report.html; appends the metrics to the metric",
        "history (TABLE_metrics); rows breaking a row-level error rule go to TABLE_quarantine with the rules' names.",
        "Exit 0 when it passes (warnings allowed), 1 when an error rule failed, 2 for a bad contract or input."
      })
  static final class Check implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--contract",
        required = true,
        paramLabel = "FILE",
        description = "The contract (YAML, ODCS v3).")
    Path contract;

    @Option(
        names = "--input",
        required = true,
        paramLabel = "TABLE[@V]",
        description = "The Delta table (and version) to check.")
    String input;

    @Option(
        names = "--object",
        paramLabel = "NAME",
        description = "The contract's schema object to check against (default: its only one).")
    String object;

    @Option(
        names = "--output",
        paramLabel = "TABLE",
        description = "Write the rows that keep to every row-level rule here.")
    String output;

    @Option(
        names = "--metrics-table",
        paramLabel = "TABLE",
        description = "The metric history (default: TABLE_metrics).")
    String metricsTable;

    @Option(
        names = "--no-quarantine",
        description = "Do not write breaking rows to TABLE_quarantine.")
    boolean noQuarantine;

    @Option(
        names = "--report-dir",
        paramLabel = "DIR",
        description =
            "Where report.json and report.html go (default: WORKDIR/contracts/ID/TABLE-vVERSION).")
    Path reportDirectory;

    /** What --json prints: whether the contract held, and everything the check wrote. */
    record Checked(boolean passed, CheckRun check) {}

    @Override
    public Integer call() {
      Console console = json.console(spec);
      Contract parsed = Contracts.read(contract);
      String yaml = readText(contract);
      DatasetRef ref = DatasetRef.parse(input);
      kiln.core.KilnSettings settings = sparkOptions.settings();
      try (Session session = new Session(settings)) {
        // the table and version are checked (and pinned, once) before the tracking server starts
        PinnedTable table = new Datasets(session.spark()).pin(ref);
        DatasetRef pinned = table.ref();
        Path reports =
            reportDirectory != null
                ? reportDirectory
                : session
                    .settings()
                    .workdirPath()
                    .resolve("contracts")
                    .resolve(safe(parsed.id()))
                    .resolve(safe(lastSegment(pinned.table())) + "-v" + pinned.version());
        CheckSpec checkSpec =
            new CheckSpec(parsed, object, pinned, metricsTable, !noQuarantine, output, reports);
        CheckRun run;
        try (Reporting reporting = Reporting.open(settings, console)) {
          run =
              reporting.run(
                  "contracts check " + pinned,
                  java.util.Map.of("kiln.job", "contracts check"),
                  tracked -> {
                    CheckRun checked =
                        new ContractCheck(session.spark(), console::step).run(checkSpec, table);
                    ContractTracking.report(tracked, checked, yaml);
                    ContractLineage.of(checked)
                        .ifPresent(quality -> reporting.dataQuality(tracked, quality));
                    return checked;
                  });
        }
        console.result(ContractReports.table(run.result()).stripTrailing());
        run.quarantine()
            .ifPresent(
                q ->
                    console.result(
                        "Quarantined "
                            + Console.count(run.quarantinedRows())
                            + " rows into "
                            + q.table()
                            + ", version "
                            + q.version()
                            + "; see `kiln datasets show "
                            + q
                            + "`."));
        run.clean()
            .ifPresent(
                c ->
                    console.result(
                        "Wrote "
                            + Console.count(run.cleanRows())
                            + " clean rows to "
                            + c.table()
                            + ", version "
                            + c.version()
                            + "."));
        console.result("Reports: " + run.jsonReport() + ", " + run.htmlReport());
        json.print(spec, new Checked(run.passed(), run));
        if (!run.passed()) {
          throw Errors.checkFailed(
              "contract broken: "
                  + String.join(", ", run.result().errors().stream().map(RuleResult::name).toList())
                  + (run.result().schemaDifferences().isEmpty()
                      ? ""
                      : (run.result().errors().isEmpty() ? "" : ", ") + "schema"),
              "see the failed rules above and the report "
                  + run.htmlReport()
                  + "; fix the data, or the contract if it is wrong");
        }
        return 0;
      }
    }
  }

  @Command(
      name = "suggest",
      mixinStandardHelpOptions = true,
      description = {
        "Draft a contract from Deequ's profile of a Delta table version and its constraint suggestions.",
        "`kiln contracts check` accepts the draft as it is; its rules have severity error."
      })
  static final class Suggest implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--input",
        required = true,
        paramLabel = "TABLE[@V]",
        description = "The Delta table (and version) to profile.")
    String input;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        description = "Write the contract here (default: standard output).")
    Path out;

    @Option(
        names = "--id",
        paramLabel = "ID",
        description = "The contract's id (default: the table's name).")
    String id;

    /** What --json prints: the table version profiled, the draft, and where it went. */
    record Suggestion(DatasetRef input, String contract, Path file, int properties) {}

    @Override
    public Integer call() throws IOException {
      Console console = json.console(spec);
      DatasetRef ref = DatasetRef.parse(input);
      if (out != null && out.getParent() != null && !Files.isDirectory(out.getParent())) {
        throw Errors.notFound(
            "the directory of --out " + out + " does not exist", "create it, or write elsewhere");
      }
      try (Session session = new Session(sparkOptions.settings())) {
        Datasets datasets = new Datasets(session.spark());
        PinnedTable table = datasets.pin(ref);
        DatasetRef pinned = table.ref();
        String name = lastSegment(pinned.table());
        console.step("profiling " + pinned + " with Deequ");
        Contract draft = ContractSuggestions.suggest(table.rows(), id != null ? id : name, name);
        String yaml =
            "# Drafted by `kiln contracts suggest` from "
                + pinned
                + "; review before use.\n"
                + Contracts.toYaml(draft);
        int properties = draft.schema().get(0).properties().size();
        if (out == null) {
          console.result(yaml.stripTrailing());
        } else {
          Files.writeString(out, yaml);
          console.result(
              "Wrote a draft contract with "
                  + properties
                  + " properties to "
                  + out
                  + "; check with `kiln contracts check --contract "
                  + out
                  + " --input "
                  + pinned
                  + "`.");
        }
        json.print(spec, new Suggestion(pinned, yaml, out, properties));
        return 0;
      }
    }
  }

  private static String readText(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot read " + file + ": " + e.getMessage(), "check the file's permissions", e);
    }
  }

  static String lastSegment(String table) {
    String trimmed = table.replaceAll("/+$", "");
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }

  private static String safe(String name) {
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }
}
