package kiln.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.WriteMode;
import kiln.jobs.data.SampleData;
import kiln.jobs.ingest.IngestJob;
import kiln.jobs.ingest.IngestResult;
import kiln.jobs.ingest.IngestSpec;
import kiln.jobs.ingest.SourceFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The lifecycle end to end on the flights sample, in Spark local mode. Each capability adds its step. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run Kiln's lifecycle end to end on the flights sample data (3M rows).",
        "Tables go to WORKDIR/demo (default .kiln/demo); a previous demo there is replaced."})
final class DemoCommand implements Callable<Integer> {
  private static final String MARKER = ".kiln-demo";
  static final String FIRST_QUARTER = "date < '2001-04-01'";
  static final String SECOND_QUARTER = "date >= '2001-04-01'";

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Override
  public Integer call() throws IOException {
    Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
    long started = System.nanoTime();
    try (Session session = new Session(sparkOptions.settings())) {
      Path demo = prepare(session.settings().workdirPath().resolve("demo"));
      String flights = demo.resolve("tables/flights").toAbsolutePath().toString();
      int steps = 4;

      console.step("[1/" + steps + "] sample data");
      Path sample = SampleData.flights(SampleData.defaultCacheDir(), console::step);

      IngestJob ingest = new IngestJob(session.spark(), console::step);
      console.step("[2/" + steps + "] ingest January-March 2001 as version 0");
      IngestResult first = ingest.run(IngestSpec.of(sample.toString(), SourceFormat.PARQUET, flights)
          .withWhere(FIRST_QUARTER));
      IngestCommand.print(console, first);

      console.step("[3/" + steps + "] append April-June 2001 as version 1");
      IngestResult second = ingest.run(IngestSpec.of(sample.toString(), SourceFormat.PARQUET, flights)
          .withWhere(SECOND_QUARTER).withMode(WriteMode.APPEND));
      IngestCommand.print(console, second);

      console.step("[4/" + steps + "] history");
      console.result(DatasetsCommand.format(flights, new Datasets(session.spark()).history(flights)));

      console.result("");
      console.result("Demo done in " + Console.seconds(java.time.Duration.ofNanos(System.nanoTime() - started))
          + ": " + flights + " has version " + first.table().version() + " (" + Console.count(first.rows())
          + " flights, January-March) and version " + second.table().version() + " (+"
          + Console.count(second.rows()) + ", April-June).");
      console.result("Try: bin/kiln datasets show " + flights + "@0 --limit 5");
    }
    return 0;
  }

  /** A fresh demo directory; only a directory an earlier demo made is ever deleted. */
  private static Path prepare(Path demo) throws IOException {
    if (Files.exists(demo)) {
      if (!Files.exists(demo.resolve(MARKER))) {
        throw Errors.badInput(demo + " exists and was not made by `kiln demo`",
            "pass --workdir to a new or empty directory");
      }
      try (var paths = Files.walk(demo)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }
    Files.createDirectories(demo);
    Files.createFile(demo.resolve(MARKER));
    return demo;
  }
}
