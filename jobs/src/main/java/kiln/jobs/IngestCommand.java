package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.WriteMode;
import kiln.ingest.IngestJob;
import kiln.ingest.IngestReport;
import kiln.ingest.IngestResult;
import kiln.ingest.IngestSchema;
import kiln.ingest.IngestSpec;
import kiln.ingest.SourceFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = {
      "Load raw files into a new version of a Delta table and print that version.",
      "Values are typed (by --schema, or inferred); records that cannot be parsed or typed go to",
      "TABLE_quarantine with the reason. Running the same load again writes nothing twice."
    })
final class IngestCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--source",
      required = true,
      paramLabel = "PATH_OR_URI",
      description = "File, directory or glob to read.")
  String source;

  @Option(
      names = "--format",
      required = true,
      paramLabel = "csv|json|parquet",
      description = "The files' format.")
  SourceFormat format;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "TABLE",
      description = "Delta table to write (path or URI).")
  String output;

  @Option(
      names = "--schema",
      paramLabel = "FILE",
      description = "Column names, types, nullability, formats (YAML).")
  Path schema;

  @Option(
      names = "--mode",
      paramLabel = "append|overwrite",
      defaultValue = "append",
      description = "append (default) or overwrite.")
  WriteMode mode;

  @Option(
      names = "--where",
      paramLabel = "SQL",
      description = "Ingest only the rows matching this Spark SQL condition.")
  String where;

  @Option(
      names = "--option",
      paramLabel = "KEY=VALUE",
      description = "A reader option, e.g. delimiter=;. May repeat.")
  Map<String, String> options = new LinkedHashMap<>();

  @Option(
      names = "--idempotency-key",
      paramLabel = "KEY",
      description =
          "Identifies this load (e.g. the scheduler's run id); by default derived from the source files.")
  String idempotencyKey;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    IngestSpec ingest =
        new IngestSpec(
            source,
            format,
            output,
            schema == null ? null : IngestSchema.read(schema),
            mode,
            where,
            options,
            idempotencyKey);
    kiln.core.KilnSettings settings = sparkOptions.settings();
    try (Session session = new Session(settings)) {
      IngestJob job = new IngestJob(session.spark(), console::step);
      // a missing source is said before the tracking server starts
      job.sourceFiles(source);
      IngestResult result;
      try (Reporting reporting = Reporting.open(settings, console)) {
        result =
            reporting.run(
                "ingest " + output,
                java.util.Map.of("kiln.job", "ingest"),
                run -> {
                  IngestReport.started(run, ingest);
                  IngestResult done = job.run(ingest);
                  IngestReport.report(run, ingest, done);
                  return done;
                });
      }
      print(console, result);
      json.print(spec, result);
      return 0;
    }
  }

  static void print(Console console, IngestResult result) {
    if (result.alreadyIngested()) {
      console.result(
          "Already ingested: "
              + result.table()
              + " holds this load ("
              + Console.count(result.rows())
              + " rows); nothing written.");
    } else {
      console.result(
          "Ingested "
              + Console.count(result.rows())
              + " rows into "
              + result.table().table()
              + ", version "
              + result.table().version()
              + " ("
              + Console.seconds(result.elapsed())
              + ").");
    }
    result
        .quarantine()
        .ifPresent(
            q ->
                console.result(
                    "Quarantined "
                        + Console.count(result.quarantined())
                        + " rows into "
                        + q.table()
                        + ", version "
                        + q.version()
                        + "; see `kiln datasets show "
                        + q
                        + "`."));
    if (result.quarantine().isEmpty() && !result.alreadyIngested()) {
      console.result("Quarantined 0 rows.");
    }
  }
}
