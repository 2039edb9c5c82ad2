package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.KilnSettings;
import kiln.llm.PiiJob;
import kiln.llm.PiiJobConfig;
import kiln.llm.PiiRunResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kiln pii}: personal data redacted from a table's text columns, as the LLM job does. */
@Command(
    name = "pii",
    mixinStandardHelpOptions = true,
    description = "Personal data (PII) redaction of tables, with the LLM pipeline's own stages.",
    subcommands = {PiiCommand.Redact.class, CommandLine.HelpCommand.class})
final class PiiCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "redact",
      mixinStandardHelpOptions = true,
      description = {
        "Redact a table version's text columns into an output table, with counts per entity type.",
        "Entities: URL, EMAIL_ADDRESS, IBAN_CODE, CREDIT_CARD, US_SSN, IP_ADDRESS, PHONE_NUMBER;",
        "operators replace, mask and hash per type (see llm/README.md). One commit: a failed run",
        "writes nothing, a repeated one nothing twice. Options win over the --config file's keys."
      },
      footer = {"", "Exit codes: 0 done, 2 bad usage or input, 3 environment or internal."})
  static final class Redact implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;

    @Option(
        names = "--config",
        paramLabel = "JOB.yaml",
        description = "The job: input, columns, output, pii (entities, operators, regions).")
    Path config;

    @Option(
        names = "--input",
        paramLabel = "TABLE[@V|@TS]",
        description = "The input table and version.")
    String input;

    @Option(
        names = "--columns",
        split = ",",
        paramLabel = "C1,C2",
        description = "The string columns to redact.")
    List<String> columns;

    @Option(names = "--output", paramLabel = "TABLE", description = "The output Delta table.")
    String output;

    @Mixin JsonOption json;

    @Override
    public Integer call() {
      Console console = json.console(spec);
      PiiJobConfig job = PiiJobConfig.of(config, input, columns, output);
      KilnSettings kiln = sparkOptions.settings();
      try (Session session = new Session(kiln);
          Reporting reporting = Reporting.open(kiln, console)) {
        PiiRunResult result =
            reporting.run(
                "pii redact " + job.inputRef().table(),
                Map.of("kiln.job", "pii"),
                run -> new PiiJob(session.spark(), System.getenv(), console::step).run(job, run));
        console.result("Output: " + result.output());
        console.result(result.summary());
        json.print(spec, describe(result));
        return 0;
      }
    }

    private static Map<String, Object> describe(PiiRunResult r) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("input", r.input().toString());
      out.put("output", r.output().toString());
      out.put("columns", r.columns());
      out.put("rows", r.rows());
      out.put("rows_with_pii", r.rowsWithPii());
      out.put("redactions", r.redactions());
      out.put("already_written", r.alreadyWritten());
      return out;
    }
  }
}
