package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 6: concurrent clients against a real server on a loopback port, bounded in time
 * and in requests; no request fails, the latencies are printed, and the SQLite store holds exactly
 * what the clients were told was written.
 *
 * <p>{@code kiln.load.seconds} (default 3) and {@code kiln.load.clients} (default 8) change the
 * bounds for a longer run.
 */
class ServerUnderLoadTest {
  private static final int CLIENTS = Integer.getInteger("kiln.load.clients", 8);
  private static final long SECONDS = Long.getLong("kiln.load.seconds", 3);
  // a bound besides time, so that a fast machine does not write without end
  private static final int MAX_REQUESTS_PER_CLIENT = 20_000;
  private static final int METRICS_PER_BATCH = 10;

  @TempDir Path store;

  /** What one client wrote and measured. */
  record Tally(
      List<String> runIds, long metrics, long params, long tags, long[] nanos, int requests) {}

  @Test
  void concurrentClientsGetNoErrorsAndTheStoreHoldsExactlyWhatWasWritten() throws Exception {
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .threads(16)
            .storeDirectory(store)
            .build()
            .start()) {
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      String base = server.uri() + "/api/2.0/mlflow/";
      String experimentId =
          post(http, base + "experiments/create", "{\"name\":\"load\"}")
              .path("experiment_id")
              .asText();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      List<Future<Tally>> futures = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Callable<Tally> work =
            () -> clientLoop(http, base, experimentId, client, deadline, MAX_REQUESTS_PER_CLIENT);
        futures.add(pool.submit(work));
      }
      List<Tally> tallies = new ArrayList<>();
      for (Future<Tally> future : futures) {
        tallies.add(future.get(SECONDS + 120, TimeUnit.SECONDS));
      }
      pool.shutdown();

      long[] all = tallies.stream().flatMapToLong(t -> Arrays.stream(t.nanos())).sorted().toArray();
      int requests = tallies.stream().mapToInt(Tally::requests).sum();
      long runs = tallies.stream().mapToLong(t -> t.runIds().size()).sum();
      long metrics = tallies.stream().mapToLong(Tally::metrics).sum();
      long params = tallies.stream().mapToLong(Tally::params).sum();
      long tags = tallies.stream().mapToLong(Tally::tags).sum();
      System.out.printf(
          Locale.ROOT,
          "[load] %d clients x %d s: %d requests, %.0f requests/s, p50 %.2f ms, p99 %.2f ms,"
              + " max %.2f ms; wrote %d runs, %d metrics, %d params%n",
          CLIENTS,
          SECONDS,
          requests,
          requests / (double) SECONDS,
          percentile(all, 0.50) / 1e6,
          percentile(all, 0.99) / 1e6,
          all[all.length - 1] / 1e6,
          runs,
          metrics,
          params);
      assertThat(requests).isEqualTo(all.length).isGreaterThan(CLIENTS * 10);

      Path db = server.databaseFile();
      assertThat(StoreSnapshot.count(db, "SELECT COUNT(*) FROM runs")).isEqualTo(runs);
      assertThat(StoreSnapshot.count(db, "SELECT COUNT(*) FROM metrics")).isEqualTo(metrics);
      assertThat(StoreSnapshot.count(db, "SELECT COUNT(*) FROM params")).isEqualTo(params);
      // every run has its mlflow.runName tag besides the client's own
      assertThat(StoreSnapshot.count(db, "SELECT COUNT(*) FROM tags WHERE key NOT LIKE 'mlflow.%'"))
          .isEqualTo(tags);
      // every run ended FINISHED, and each metric key's latest value is the last step written
      assertThat(StoreSnapshot.count(db, "SELECT COUNT(*) FROM runs WHERE status <> 'FINISHED'"))
          .isZero();
      assertThat(
              StoreSnapshot.count(
                  db,
                  "SELECT COUNT(*) FROM latest_metrics l WHERE l.step <> (SELECT MAX(m.step) FROM"
                      + " metrics m WHERE m.run_uuid = l.run_uuid AND m.key = l.key)"))
          .isZero();
      assertThat(StoreSnapshot.text(db, "PRAGMA integrity_check")).isEqualTo("ok");
    }
  }

  /**
   * One client: a run at a time, ten metric batches into it (each with a param and a tag), a read
   * of the run and a search between batches, then the run is finished and the next begins.
   */
  private static Tally clientLoop(
      HttpClient http, String base, String experimentId, int client, long deadline, int max)
      throws Exception {
    List<String> runIds = new ArrayList<>();
    long[] nanos = new long[max + 64];
    int n = 0;
    long metrics = 0;
    long params = 0;
    long tags = 0;
    while (System.nanoTime() < deadline && n < max) {
      long start = System.nanoTime();
      String runId =
          post(http, base + "runs/create", "{\"experiment_id\":\"" + experimentId + "\"}")
              .path("run")
              .path("info")
              .path("run_id")
              .asText();
      nanos[n++] = System.nanoTime() - start;
      runIds.add(runId);
      for (int batch = 0; batch < 10 && n < max; batch++) {
        StringBuilder body =
            new StringBuilder("{\"run_id\":\"").append(runId).append("\",\"metrics\":[");
        for (int i = 0; i < METRICS_PER_BATCH; i++) {
          body.append(i == 0 ? "" : ",")
              .append("{\"key\":\"m")
              .append(i % 3)
              .append("\",\"value\":")
              .append(client * 1000 + batch * METRICS_PER_BATCH + i)
              .append(",\"timestamp\":1,\"step\":")
              .append(batch * METRICS_PER_BATCH + i)
              .append('}');
        }
        body.append("],\"params\":[{\"key\":\"p")
            .append(batch)
            .append("\",\"value\":\"v\"}],\"tags\":[{\"key\":\"client\",\"value\":\"")
            .append(client)
            .append("\"}]}");
        start = System.nanoTime();
        post(http, base + "runs/log-batch", body.toString());
        nanos[n++] = System.nanoTime() - start;
        metrics += METRICS_PER_BATCH;
        params += 1;
        if (batch == 0) {
          tags += 1; // the same key again overwrites
        }
        start = System.nanoTime();
        JsonNode run = get(http, base + "runs/get?run_id=" + runId);
        nanos[n++] = System.nanoTime() - start;
        assertThat(run.path("run").path("data").path("params").size()).isEqualTo(batch + 1);
        if (batch % 5 == 4) {
          start = System.nanoTime();
          post(
              http,
              base + "runs/search",
              "{\"experiment_ids\":[\""
                  + experimentId
                  + "\"],\"filter\":\"tags.client = '"
                  + client
                  + "'\",\"max_results\":50}");
          nanos[n++] = System.nanoTime() - start;
        }
      }
      start = System.nanoTime();
      post(
          http,
          base + "runs/update",
          "{\"run_id\":\"" + runId + "\",\"status\":\"FINISHED\",\"end_time\":2}");
      nanos[n++] = System.nanoTime() - start;
    }
    return new Tally(runIds, metrics, params, tags, Arrays.copyOf(nanos, n), n);
  }

  private static JsonNode post(HttpClient http, String uri, String json) throws Exception {
    return send(
        http,
        HttpRequest.newBuilder(URI.create(uri))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)));
  }

  private static JsonNode get(HttpClient http, String uri) throws Exception {
    return send(http, HttpRequest.newBuilder(URI.create(uri)).GET());
  }

  private static JsonNode send(HttpClient http, HttpRequest.Builder request) throws Exception {
    HttpResponse<String> response =
        http.send(
            request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode())
        .as(request.build().uri() + ": " + response.body())
        .isEqualTo(200);
    return Http.json(response.body());
  }

  static double percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
