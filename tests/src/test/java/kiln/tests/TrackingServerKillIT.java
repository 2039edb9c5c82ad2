package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 3: the real {@code kiln server} process killed with SIGKILL while a job reports to
 * it, and started again on the same port and store. The job goes on and spools what it could not
 * send; {@code kiln tracking replay} sends it; the run then holds exactly what an undisturbed run
 * of the same job holds (params, metrics with one point each, tags, dataset inputs, artifacts),
 * ends FINISHED, and a second replay changes nothing. A second outage, short enough for the
 * client's retries, is checked the same way.
 */
class TrackingServerKillIT {
  static final Duration TIMEOUT = Duration.ofMinutes(5);
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir static Path dir;
  static Path logs;
  static Path store;
  static int port;
  static KilnProcess server;

  @BeforeAll
  static void startServer() throws Exception {
    logs = Path.of("target", "faults-logs", "tracking-server-kill").toAbsolutePath();
    store = dir.resolve("store");
    port = SparkCluster.freePort();
    server = startKilnServer();
    for (String day : List.of("a", "b", "c")) {
      Path landing = Files.createDirectories(dir.resolve("landing-" + day));
      Files.writeString(landing.resolve("part-1.csv"), DriverKillIT.csv(0, 2000, true));
    }
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.kill();
    }
  }

  static KilnProcess startKilnServer() throws Exception {
    KilnProcess started =
        KilnProcess.start(
            logs,
            List.of(
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(port),
                "--store",
                store.toString()));
    SparkCluster.waitFor(
        () -> {
          if (!started.process.isAlive()) {
            throw new IllegalStateException("kiln server exited: " + started.stderr());
          }
          return listening(port);
        },
        Duration.ofSeconds(120),
        "kiln server to listen on " + port);
    return started;
  }

  static boolean listening(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static String uri() {
    return "http://127.0.0.1:" + port;
  }

  static List<String> ingest(String day) {
    return List.of(
        "ingest",
        "--source",
        dir.resolve("landing-" + day).toString(),
        "--format",
        "csv",
        "--output",
        dir.resolve("tables/amounts-" + day).toString(),
        "--master",
        "local[2]",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        "--conf",
        "spark.ui.enabled=false",
        "--tracking-uri",
        uri(),
        "--experiment",
        "faults",
        "--workdir",
        dir.resolve("work-" + day).toString());
  }

  @Test
  void aJobWhoseServerIsKilledSpoolsAndItsReplayLeavesTheRunWholeAndNothingTwice()
      throws Exception {
    // the undisturbed run: what a run of this job holds
    KilnProcess.Result reference = KilnProcess.run(logs, TIMEOUT, ingest("a"));
    assertThat(reference.exitCode()).as(reference.output()).isZero();
    assertThat(reference.err()).doesNotContain("spool");
    List<JsonNode> runs = runs();
    assertThat(runs).hasSize(1);
    RunContent expected = RunContent.of(runs.get(0));
    assertThat(expected.status).isEqualTo("FINISHED");
    assertThat(expected.metrics).isNotEmpty();

    Random random = new Random(Long.getLong("kiln.faults.seed", 17L));
    List<String> lines = new ArrayList<>();
    // day b: the server stays down until the job has ended; day c: it comes back at once
    for (String day : List.of("b", "c")) {
      KilnProcess job = KilnProcess.start(logs, ingest(day));
      SparkCluster.waitFor(
          () -> {
            if (!job.process.isAlive()) {
              throw new IllegalStateException(
                  "the job ended before its run began: " + job.stderr());
            }
            return runs().stream().anyMatch(r -> r.at("/info/status").asText().equals("RUNNING"));
          },
          Duration.ofMinutes(3),
          "the job's run to start");
      long delay = random.nextLong(1500);
      Thread.sleep(delay);
      server.kill();
      if (day.equals("c")) {
        server = startKilnServer();
      }
      KilnProcess.Result result = job.await(TIMEOUT);
      assertThat(result.exitCode()).as(result.output()).isZero();
      if (day.equals("b")) {
        assertThat(result.err()).contains("tracking event(s) were spooled to");
        server = startKilnServer();
      }
      boolean spooled = spoolFiles(day) > 0;
      int sent = 0;
      if (spooled) {
        KilnProcess.Result replay = KilnProcess.run(logs, TIMEOUT, replay(day));
        assertThat(replay.exitCode()).as(replay.output()).isZero();
        assertThat(replay.out() + replay.err()).contains("Replayed ");
        sent = replayed(replay);
        assertThat(sent).isPositive();
      }
      JsonNode run = runOf(day);
      RunContent content = RunContent.of(run);
      assertThat(content.status).as("day %s's run", day).isEqualTo("FINISHED");
      assertThat(content.sameShapeAs(expected))
          .as("day %s's run %s against the undisturbed run %s", day, content, expected)
          .isTrue();
      for (String metric : content.metrics.keySet()) {
        assertThat(history(run.at("/info/run_id").asText(), metric))
            .as("points of %s in day %s's run", metric, day)
            .isEqualTo(1);
      }
      if (spooled) {
        // a second replay sends nothing, and the run does not change
        KilnProcess.Result again = KilnProcess.run(logs, TIMEOUT, replay(day));
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(replayed(again)).isZero();
        assertThat(RunContent.of(runOf(day)).toString()).isEqualTo(content.toString());
      }
      lines.add(
          String.format(
              "  day %s: server killed %d ms after the run began, restarted %s; %s; run FINISHED,"
                  + " %d params, %d metrics (one point each), %d dataset inputs, as undisturbed",
              day,
              delay,
              day.equals("b") ? "after the job ended" : "at once",
              spooled
                  ? sent + " spooled event(s) replayed, a second replay sent 0"
                  : "nothing spooled",
              content.params.size(),
              content.metrics.size(),
              content.inputs));
    }
    // one run per job: nothing created twice
    assertThat(runs()).hasSize(3);
    String summary =
        "tracking server killed: 2 kills during ingest (seed "
            + Long.getLong("kiln.faults.seed", 17L)
            + "), nothing lost, nothing twice\n"
            + String.join("\n", lines)
            + "\n";
    System.err.print("[faults] " + summary);
    Files.writeString(
        Path.of("target", "faults-summary.txt"),
        summary,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  static List<String> replay(String day) {
    return List.of(
        "tracking",
        "replay",
        "--tracking-uri",
        uri(),
        "--workdir",
        dir.resolve("work-" + day).toString());
  }

  static int replayed(KilnProcess.Result replay) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("Replayed (\\d+) tracking event")
            .matcher(replay.out() + replay.err());
    int total = 0;
    while (m.find()) {
      total += Integer.parseInt(m.group(1));
    }
    return total;
  }

  static long spoolFiles(String day) throws IOException {
    Path spool = dir.resolve("work-" + day).resolve("tracking-spool");
    if (!Files.isDirectory(spool)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(spool)) {
      return files.filter(f -> !f.getFileName().toString().endsWith(".sent")).count();
    }
  }

  /** What a run holds, by key (values that name the day's table or time are left out). */
  record RunContent(
      String status,
      TreeMap<String, String> params,
      TreeMap<String, Double> metrics,
      List<String> tags,
      int inputs) {
    static RunContent of(JsonNode run) {
      TreeMap<String, String> params = new TreeMap<>();
      run.at("/data/params")
          .forEach(p -> params.put(p.path("key").asText(), p.path("value").asText()));
      TreeMap<String, Double> metrics = new TreeMap<>();
      run.at("/data/metrics")
          .forEach(m -> metrics.put(m.path("key").asText(), m.path("value").asDouble()));
      List<String> tags = new ArrayList<>();
      run.at("/data/tags").forEach(t -> tags.add(t.path("key").asText()));
      // a liveness signal, sent each minute a run lasts and never spooled: not the run's content
      tags.remove("kiln.driver.heartbeat");
      tags.sort(null);
      return new RunContent(
          run.at("/info/status").asText(),
          params,
          metrics,
          tags,
          run.at("/inputs/dataset_inputs").size());
    }

    boolean sameShapeAs(RunContent other) {
      return params.keySet().equals(other.params.keySet())
          && metrics.keySet().equals(other.metrics.keySet())
          && tags.equals(other.tags)
          && inputs == other.inputs
          // the same file in every day's landing: the same counts (times and costs differ)
          && metrics.keySet().stream()
              .filter(k -> k.matches("(?i).*(rows|quarantin|records|files).*"))
              .allMatch(k -> metrics.get(k).equals(other.metrics.get(k)));
    }
  }

  static JsonNode runOf(String day) throws Exception {
    String table = dir.resolve("tables/amounts-" + day).toString();
    List<JsonNode> matching =
        runs().stream().filter(r -> r.at("/data/params").toString().contains(table)).toList();
    assertThat(matching).as("runs that name " + table).hasSize(1);
    return matching.get(0);
  }

  static List<JsonNode> runs() throws Exception {
    JsonNode experiment = get("experiments/get-by-name?experiment_name=faults").path("experiment");
    if (experiment.isMissingNode()) {
      return List.of();
    }
    JsonNode found =
        post(
            "runs/search",
            Map.of(
                "experiment_ids",
                List.of(experiment.path("experiment_id").asText()),
                "max_results",
                100));
    List<JsonNode> runs = new ArrayList<>();
    found.path("runs").forEach(runs::add);
    return runs;
  }

  static int history(String runId, String metric) throws Exception {
    return get("metrics/get-history?run_id="
            + runId
            + "&metric_key="
            + URLEncoder.encode(metric, StandardCharsets.UTF_8))
        .path("metrics")
        .size();
  }

  static JsonNode get(String path) throws Exception {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(uri() + "/api/2.0/mlflow/" + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    return response.statusCode() == 404 && response.body().contains("RESOURCE_DOES_NOT_EXIST")
        ? JSON.missingNode()
        : JSON.readTree(response.body());
  }

  static JsonNode post(String path, Object body) throws Exception {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(uri() + "/api/2.0/mlflow/" + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }
}
