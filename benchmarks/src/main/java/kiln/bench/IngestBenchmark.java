package kiln.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import kiln.core.LocalFiles;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.ingest.IngestJob;
import kiln.ingest.IngestResult;
import kiln.ingest.IngestSpec;
import kiln.ingest.SourceFormat;
import kiln.jobs.data.SampleData;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/kiln-bench ingest [FLIGHTS_PARQUET] [--repetitions N]}: Kiln's ingest of the flights
 * sample against a plain {@code spark.read.parquet(...).write.format("delta")}, alternating in one
 * JVM, at 1x and 10x the rows. Targets: ratio at most 1.10; time(10x) / time(1x) at most 11.
 */
public final class IngestBenchmark {
  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    int repetitions = 3;
    String source = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--repetitions")) {
        repetitions = Integer.parseInt(args[++i]);
      } else {
        source = args[i];
      }
    }
    if (source == null) {
      source =
          SampleData.flights(SampleData.defaultCacheDir(), m -> System.out.println("[bench] " + m))
              .toString();
    }
    Path work = Files.createTempDirectory("kiln-bench-ingest-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try {
      Bench bench = new Bench(System.out, 1, repetitions);
      String tenfold = work.resolve("flights-30m.parquet").toString();
      System.out.println("[bench] writing 10x the rows to " + tenfold);
      Bench.replicate(spark, source, 10, tenfold);

      List<Bench.Comparison> comparisons = new ArrayList<>();
      AtomicInteger counter = new AtomicInteger();
      for (String[] input :
          List.of(
              new String[] {"1x (3M rows)", source}, new String[] {"10x (30M rows)", tenfold})) {
        String path = input[1];
        comparisons.add(
            bench.compare(
                "ingest parquet -> Delta, " + input[0],
                () -> {
                  Path table = work.resolve("kiln-" + counter.incrementAndGet());
                  IngestResult result =
                      new IngestJob(spark, m -> {})
                          .run(IngestSpec.of(path, SourceFormat.PARQUET, table.toString()));
                  LocalFiles.deleteTree(table);
                  return result;
                },
                () -> {
                  Path table = work.resolve("plain-" + counter.incrementAndGet());
                  spark.read().parquet(path).write().format("delta").save(table.toString());
                  LocalFiles.deleteTree(table);
                  return null;
                }));
      }
      double scaling =
          comparisons.get(1).candidateSeconds() / comparisons.get(0).candidateSeconds();
      Map<String, String> extra = new LinkedHashMap<>();
      extra.put("kiln time(10x) / time(1x)", String.format(Locale.ROOT, "%.2f", scaling));
      System.out.println();
      System.out.println(Bench.markdown(comparisons, extra));
      System.out.printf(
          Locale.ROOT,
          "Targets: ratio <= 1.10 (got %.3f at 1x, %.3f at 10x); time(10x)/time(1x) <= 11 (got %.2f)%n",
          comparisons.get(0).ratio(),
          comparisons.get(1).ratio(),
          scaling);
    } finally {
      spark.stop();
      LocalFiles.deleteTree(work);
    }
  }
}
