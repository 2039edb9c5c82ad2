package kiln.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import kiln.core.Datasets;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import kiln.llm.LlmJob;
import kiln.llm.LlmJobConfig;
import kiln.llm.LlmRunResult;
import kiln.llm.PromptRef;
import kiln.llm.PromptRegistry;
import kiln.llm.internal.Completion;
import kiln.llm.internal.Engine;
import kiln.llm.internal.Engines;
import kiln.llm.internal.TinyGguf;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code LlmBenchmark [--rows N] [--max-tokens N] [--slots N] [--repetitions N] [--only-slots]}:
 * the local engine (llama.cpp on Kiln's tiny random-weight GGUF, no real weights being reachable
 * here) through {@code kiln llm run}'s job (redaction, rendering, Delta write, tracking) against a
 * direct loop over the same engine in the same JVM, with 1 slot and with N slots: rows/s and
 * completion tokens/s. Every row is a distinct prompt (nothing deduplicated, no cache); EOS is
 * ignored so that every row decodes max-tokens tokens. {@code --only-slots} skips the 1-slot
 * comparison (N slots only: half the time of a run).
 */
public final class LlmBenchmark {
  private LlmBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rows = 24;
    int maxTokens = 24;
    int slots = 4;
    int repetitions = 3;
    boolean onlySlots = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Integer.parseInt(args[++i]);
        case "--max-tokens" -> maxTokens = Integer.parseInt(args[++i]);
        case "--slots" -> slots = Integer.parseInt(args[++i]);
        case "--repetitions" -> repetitions = Integer.parseInt(args[++i]);
        case "--only-slots" -> onlySlots = true;
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    System.setProperty("kiln.llm.ignoreEos", "true");
    Path work = Files.createTempDirectory("kiln-bench-llm-");
    Path model = work.resolve("tiny.gguf");
    TinyGguf.write(model, 7);
    System.out.printf(
        Locale.ROOT,
        "[bench] llm: %d rows, %d tokens each, 1 vs %d slots, load average %.2f at start%n",
        rows,
        maxTokens,
        slots,
        load());
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try (TrackingServer server =
            TrackingServer.builder()
                .host("127.0.0.1")
                .port(0)
                .storeDirectory(work.resolve("mlflow"))
                .build()
                .start();
        MlflowTracking tracking =
            MlflowTracking.connect(
                server.uri().toString(), Map.of(), work.resolve("spool"), m -> {})) {
      PromptRegistry prompts = new PromptRegistry(tracking, Map.of());
      prompts.register("bench", "Summarize the ticket in one line: {{text}}");
      String input = work.resolve("tickets").toString();
      List<Row> list = new ArrayList<>();
      for (int i = 0; i < rows; i++) {
        list.add(
            RowFactory.create(
                (long) i, "ticket " + i + ": the parcel arrived late and the box was damaged"));
      }
      StructType schema =
          new StructType().add("id", DataTypes.LongType).add("body", DataTypes.StringType);
      new Datasets(spark)
          .write(
              spark.createDataFrame(list, schema).repartition(2),
              input,
              WriteOptions.of(WriteMode.OVERWRITE));
      // the prompts the job sends (nothing in them to redact), for the direct loop
      List<String> rendered = new ArrayList<>();
      list.forEach(r -> rendered.add("Summarize the ticket in one line: " + r.getString(1)));

      Bench bench = new Bench(System.out, 1, repetitions);
      List<String> table = new ArrayList<>();
      for (int n : slots == 1 || onlySlots ? new int[] {slots} : new int[] {1, slots}) {
        EngineConfig engine =
            EngineConfig.builder()
                .type(EngineType.LOCAL)
                .temperature(0.0)
                .maxTokens(maxTokens)
                .modelPath(model.toString())
                .contextSize(2048)
                .slots(n)
                .nGpuLayers(0)
                .build();
        AtomicInteger runs = new AtomicInteger();
        AtomicLong kilnTokens = new AtomicLong();
        AtomicLong directTokens = new AtomicLong();
        LlmJob job = new LlmJob(spark, prompts, Map.of(), m -> {});
        Bench.Comparison c =
            bench.compare(
                "llm local, " + n + " slot(s)",
                () -> {
                  String output =
                      work.resolve("out-" + n + "-" + runs.incrementAndGet()).toString();
                  LlmJobConfig config =
                      LlmJobConfig.builder()
                          .input(input)
                          .key("id")
                          .text("body")
                          .prompt(new PromptRef("bench", "1", null))
                          .engine(engine)
                          .output(output)
                          .maxErrorRate(1.0)
                          .deduplicate(false)
                          .build();
                  try (TrackedRun run = tracking.startRun("bench-llm", "llm " + n, Map.of())) {
                    LlmRunResult r = job.run(config, run, work.resolve("pipelines"));
                    if (r.errors() > 0) {
                      throw new IllegalStateException(r.errors() + " rows failed");
                    }
                    kilnTokens.set(r.completionTokens());
                  }
                  return null;
                },
                () -> {
                  Engine direct = Engines.open(engine);
                  long tokens = 0;
                  int window = n * 4;
                  for (int i = 0; i < rendered.size(); i += window) {
                    for (Completion done :
                        direct.complete(
                            rendered.subList(i, Math.min(rendered.size(), i + window)))) {
                      if (done.error() != null) {
                        throw new IllegalStateException(done.error());
                      }
                      tokens += done.completionTokens();
                    }
                  }
                  directTokens.set(tokens);
                  return null;
                });
        table.add(
            String.format(
                Locale.ROOT,
                "| %d | %.2f | %.1f | %.1f | %.2f | %.1f | %.1f | %.3f |",
                n,
                c.candidateSeconds(),
                rows / c.candidateSeconds(),
                kilnTokens.get() / c.candidateSeconds(),
                c.baselineSeconds(),
                rows / c.baselineSeconds(),
                directTokens.get() / c.baselineSeconds(),
                c.baselineSeconds() / c.candidateSeconds()));
      }
      System.out.printf(Locale.ROOT, "[bench] load average %.2f at the end%n", load());
      System.out.println(
          "| slots | kiln job (s) | kiln rows/s | kiln completion tokens/s | direct loop (s) |"
              + " direct rows/s | direct completion tokens/s | kiln/direct throughput |");
      System.out.println("|---|---|---|---|---|---|---|---|");
      table.forEach(System.out::println);
    } finally {
      spark.stop();
    }
    // llama.cpp's threads keep the JVM alive (STACK.md)
    System.exit(0);
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
