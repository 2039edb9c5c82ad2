package kiln.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import kiln.tracking.server.TrackingServer;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.ViewType;
import org.mlflow.tracking.MlflowClient;

/**
 * Measures the embedded server through the official Java client: log-batch throughput with batches
 * of 1000 metrics, and search-runs latency with 10,000 runs in the store. Usage: {@code
 * TrackingBenchmark [--batches N] [--runs N] [--searches N] [--store DIR]}.
 */
public final class TrackingBenchmark {
  private TrackingBenchmark() {}

  public static void main(String[] args) throws Exception {
    int batches = 100;
    int runs = 10_000;
    int searches = 200;
    Path store = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--batches" -> batches = Integer.parseInt(args[i + 1]);
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        case "--searches" -> searches = Integer.parseInt(args[i + 1]);
        case "--store" -> store = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("Unknown option " + args[i]);
      }
    }
    Path directory = store != null ? store : Files.createTempDirectory("kiln-tracking-bench");
    try (TrackingServer server =
            TrackingServer.builder().storeDirectory(directory).port(0).build().start();
        MlflowClient client = new MlflowClient(server.uri().toString())) {
      System.out.println("store " + directory + ", server " + server.uri());
      logBatchThroughput(client, batches);
      searchLatency(server, client, runs, searches);
    } finally {
      if (store == null) {
        deleteTree(directory);
      }
    }
  }

  private static void logBatchThroughput(MlflowClient client, int batches) {
    String runId = client.createRun(client.createExperiment("bench-log-batch")).getRunId();
    List<List<Metric>> payloads = new ArrayList<>();
    for (int b = 0; b < batches + 5; b++) {
      List<Metric> metrics = new ArrayList<>(1000);
      for (int i = 0; i < 1000; i++) {
        metrics.add(
            Metric.newBuilder()
                .setKey("metric_" + (i % 20))
                .setValue(Math.sin(b * 1000 + i))
                .setTimestamp(1_700_000_000_000L + b)
                .setStep(b * 50L + i / 20)
                .build());
      }
      payloads.add(metrics);
    }
    for (int b = 0; b < 5; b++) {
      client.logBatch(runId, payloads.get(b), List.of(), List.of());
    }
    long start = System.nanoTime();
    for (int b = 5; b < batches + 5; b++) {
      client.logBatch(runId, payloads.get(b), List.of(), List.of());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "log-batch: %d batches x 1000 metrics in %.2f s = %.0f metrics/s (%.1f ms per batch)%n",
        batches, seconds, batches * 1000 / seconds, seconds * 1000 / batches);
  }

  private static void searchLatency(
      TrackingServer server, MlflowClient client, int runs, int searches) throws Exception {
    String experimentId = client.createExperiment("bench-search");
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> work = new ArrayList<>();
    int perWorker = (runs + 3) / 4;
    for (int w = 0; w < 4; w++) {
      int first = w * perWorker;
      int last = Math.min(runs, first + perWorker);
      work.add(
          pool.submit(
              () -> {
                try (MlflowClient worker = new MlflowClient(server.uri().toString())) {
                  for (int r = first; r < last; r++) {
                    String runId = worker.createRun(experimentId).getRunId();
                    worker.logBatch(
                        runId,
                        List.of(
                            metric("accuracy", (r % 1000) / 1000.0),
                            metric("loss", 1 - (r % 1000) / 1000.0),
                            metric("f1", (r % 97) / 97.0)),
                        List.of(
                            Param.newBuilder()
                                .setKey("model")
                                .setValue(r % 3 == 0 ? "xgboost" : "linear")
                                .build(),
                            Param.newBuilder()
                                .setKey("depth")
                                .setValue(String.valueOf(r % 10))
                                .build()),
                        List.of(
                            RunTag.newBuilder()
                                .setKey("team")
                                .setValue(r % 2 == 0 ? "fraud" : "churn")
                                .build()));
                  }
                }
                return null;
              }));
    }
    for (Future<?> future : work) {
      future.get();
    }
    pool.shutdown();
    System.out.printf(
        "populated %d runs (create + log-batch each, 4 clients) in %.1f s%n",
        runs, (System.nanoTime() - start) / 1e9);

    List<String> experiments = List.of(experimentId);
    String[][] queries = {
      {"no filter, newest 100", "", null},
      {
        "metrics.accuracy > 0.9 AND params.model = 'xgboost', by metrics.accuracy DESC, 100",
        "metrics.accuracy > 0.9 AND params.model = 'xgboost'",
        "metrics.accuracy DESC"
      },
      {
        "tags.team = 'fraud' AND metrics.loss < 0.5, 100",
        "tags.team = 'fraud' AND metrics.loss < 0.5",
        null
      },
    };
    for (String[] query : queries) {
      List<String> orderBy = query[2] == null ? List.of() : List.of(query[2]);
      for (int i = 0; i < 10; i++) {
        client.searchRuns(experiments, query[1], ViewType.ACTIVE_ONLY, 100, orderBy);
      }
      long[] nanos = new long[searches];
      int found = 0;
      for (int i = 0; i < searches; i++) {
        long t = System.nanoTime();
        found =
            client
                .searchRuns(experiments, query[1], ViewType.ACTIVE_ONLY, 100, orderBy)
                .getItems()
                .size();
        nanos[i] = System.nanoTime() - t;
      }
      Arrays.sort(nanos);
      System.out.printf(
          "search-runs [%s] over %d runs: p50 %.1f ms, p99 %.1f ms (%d searches, %d runs returned)%n",
          query[0],
          runs,
          nanos[searches / 2] / 1e6,
          nanos[(int) Math.ceil(searches * 0.99) - 1] / 1e6,
          searches,
          found);
    }
  }

  private static Metric metric(String key, double value) {
    return Metric.newBuilder()
        .setKey(key)
        .setValue(value)
        .setTimestamp(System.currentTimeMillis())
        .setStep(0)
        .build();
  }

  private static void deleteTree(Path directory) throws IOException {
    try (var paths = Files.walk(directory)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
