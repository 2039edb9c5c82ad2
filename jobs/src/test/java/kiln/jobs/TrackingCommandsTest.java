package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.TrackedRun;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.tracking.MlflowClient;

/**
 * `kiln server`, `kiln tracking replay` and a job whose tracking server is gone, from the command
 * line.
 */
@ExtendWith(SharedSpark.class)
class TrackingCommandsTest {

  @Test
  void aJobWhoseTrackingServerIsDownFinishesItsDataWorkAndReplaySendsTheRunOnce(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Path csv = dir.resolve("in.csv");
    Files.writeString(csv, "id,amount\n1,10\n2,x\n3,30\n");
    Path schema = dir.resolve("schema.yaml");
    Files.writeString(
        schema, "columns:\n  - {name: id, type: int}\n  - {name: amount, type: int}\n");
    String table = dir.resolve("t").toString();
    Path workdir = dir.resolve("work");
    String closedPort = "http://127.0.0.1:" + closedPort();

    KilnRun ingest =
        KilnRun.kiln(
            "ingest",
            "--source",
            csv.toString(),
            "--format",
            "csv",
            "--output",
            table,
            "--schema",
            schema.toString(),
            "--workdir",
            workdir.toString(),
            "--tracking-uri",
            closedPort);

    // as the README's MLflow section says: the data work is done, the run waits in the spool, exit
    // 0
    assertThat(ingest.exitCode()).as(ingest.err()).isZero();
    assertThat(ingest.out()).contains("Ingested 2 rows into " + table + ", version 0");
    assertThat(Path.of(table, "_delta_log", "00000000000000000000.json")).exists();
    List<Path> spooled = spoolFiles(workdir.resolve("tracking-spool"));
    assertThat(spooled).hasSize(1);
    Path spool = spooled.get(0);
    assertThat(ingest.err())
        .contains("cannot reach the tracking server at " + closedPort)
        .contains("retrying")
        .contains("the job goes on and spools its tracking data to " + spool)
        .contains("MLflow run: (not sent yet: spooled to " + spool + ")")
        .contains("send them with `kiln tracking replay " + spool + "`");

    // while the server is still down, a replay sends nothing and says where it will resume
    KilnRun down =
        KilnRun.kiln(
            "tracking", "replay", "--workdir", workdir.toString(), "--tracking-uri", closedPort);
    assertThat(down.exitCode()).isNotZero();
    assertThat(down.err())
        .contains("replay stopped at event 1 of " + Files.readAllLines(spool).size())
        .contains("it resumes at event 1");
    assertThat(Path.of(spool + ".sent")).doesNotExist();

    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start()) {
      String uri = server.uri().toString();
      // no FILE: every spool file of the work directory
      KilnRun replay =
          KilnRun.kiln(
              "tracking", "replay", "--workdir", workdir.toString(), "--tracking-uri", uri);
      assertThat(replay.exitCode()).as(replay.err()).isZero();
      Matcher sent =
          Pattern.compile(
                  "Replayed (\\d+) tracking event\\(s\\) from "
                      + Pattern.quote(spool.toString())
                      + " to "
                      + Pattern.quote(uri))
              .matcher(replay.out());
      assertThat(sent.find()).as(replay.out()).isTrue();
      assertThat(Integer.parseInt(sent.group(1))).isEqualTo(Files.readAllLines(spool).size());
      assertThat(replay.err()).containsPattern("created run [0-9a-f]{32}");

      MlflowClient client = new MlflowClient(uri);
      String experimentId = client.getExperimentByName("kiln").orElseThrow().getExperimentId();
      List<Run> runs = runs(client, experimentId);
      assertThat(runs).hasSize(1);
      Run run = client.getRun(runs.get(0).getInfo().getRunId());
      assertThat(run.getInfo().getStatus().toString()).isEqualTo("FINISHED");
      assertThat(run.getData().getParamsList())
          .extracting(p -> p.getKey() + "=" + p.getValue())
          .contains("table=" + table, "format=csv", "mode=append");
      assertThat(run.getData().getMetricsList())
          .extracting(m -> m.getKey() + "=" + m.getValue())
          .contains("rows=2.0", "quarantined_rows=1.0");
      assertThat(run.getData().getMetricsList())
          .extracting(m -> m.getKey())
          .contains(TrackedRun.ELAPSED_SECONDS);
      assertThat(run.getInputs().getDatasetInputsList()).hasSize(2);
      Path artifact =
          server
              .artifactRoot()
              .resolve(experimentId)
              .resolve(run.getInfo().getRunId())
              .resolve("artifacts/ingest/source.json");
      assertThat(Files.readString(artifact)).contains(csv.toString());

      // a second replay, by the file's name this time, sends nothing twice
      KilnRun again = KilnRun.kiln("tracking", "replay", spool.toString(), "--tracking-uri", uri);
      assertThat(again.exitCode()).as(again.err()).isZero();
      assertThat(again.out())
          .contains("Replayed 0 tracking event(s) from " + spool + " to " + uri + ".");
      assertThat(runs(client, experimentId)).hasSize(1);
      assertThat(client.getMetricHistory(run.getInfo().getRunId(), "rows")).hasSize(1);
      assertThat(client.getRun(run.getInfo().getRunId()).getInputs().getDatasetInputsList())
          .hasSize(2);
    }
  }

  @Test
  void replayWithNothingSpooledSaysSoAndWithoutAServerIsBadUsage(@TempDir Path dir)
      throws Exception {
    Path workdir = dir.resolve("work");
    KilnRun nothing =
        KilnRun.kiln(
            "tracking",
            "replay",
            "--workdir",
            workdir.toString(),
            "--tracking-uri",
            "http://127.0.0.1:" + closedPort());
    assertThat(nothing.exitCode()).as(nothing.err()).isZero();
    assertThat(nothing.out())
        .contains(
            "Nothing to replay: " + workdir.resolve("tracking-spool") + " holds no spool files.");

    // the settings file names the work directory like for every other command
    Path settings = dir.resolve("kiln.yaml");
    Files.writeString(
        settings,
        "workdir: " + workdir + "\ntracking:\n  uri: http://127.0.0.1:" + closedPort() + "\n");
    KilnRun fromSettings = KilnRun.kiln("tracking", "replay", "--settings", settings.toString());
    assertThat(fromSettings.exitCode()).as(fromSettings.err()).isZero();
    assertThat(fromSettings.out())
        .contains("Nothing to replay: " + workdir.resolve("tracking-spool"));

    assumeThat(System.getenv("MLFLOW_TRACKING_URI"))
        .as("the environment names no tracking server")
        .isNull();
    KilnRun noServer = KilnRun.kiln("tracking", "replay", "--workdir", workdir.toString());
    assertThat(noServer.exitCode()).isEqualTo(2);
    assertThat(noServer.err())
        .contains("no tracking server to replay to")
        .contains("fix: pass --tracking-uri URI");
  }

  @Test
  void sweepMarksKilledTheRunsOfDeadDriversInTheWorkDirectorysStore(@TempDir Path dir)
      throws Exception {
    Path workdir = dir.resolve("work");
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    String dead;
    String foreign;
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(workdir.resolve("mlflow"))
            .build()
            .start()) {
      MlflowClient client = new MlflowClient(server.uri().toString());
      String experiment = client.createExperiment("nightly");
      dead = client.createRun(experiment).getRunId();
      new kiln.core.tracking.RunOwner(kiln.core.tracking.RunOwner.current().host(), ended.pid(), 1L)
          .tags()
          .forEach((k, v) -> client.setTag(dead, k, v));
      foreign = client.createRun(experiment).getRunId();
    }
    KilnRun swept =
        KilnRun.kiln(
            "tracking", "sweep", "--workdir", workdir.toString(), "--experiment", "nightly");
    assertThat(swept.exitCode()).as(swept.err()).isZero();
    assertThat(swept.out())
        .contains("MLflow run " + dead + " marked KILLED: its driver (pid " + ended.pid())
        .contains("Marked 1 run(s) of experiment 'nightly' KILLED.");
    KilnRun again =
        KilnRun.kiln(
            "tracking", "sweep", "--workdir", workdir.toString(), "--experiment", "nightly");
    assertThat(again.out())
        .contains("Marked 0 run(s) of experiment 'nightly' KILLED: no RUNNING run");
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(workdir.resolve("mlflow"))
            .build()
            .start()) {
      MlflowClient client = new MlflowClient(server.uri().toString());
      assertThat(client.getRun(dead).getInfo().getStatus().toString()).isEqualTo("KILLED");
      assertThat(client.getRun(foreign).getInfo().getStatus().toString()).isEqualTo("RUNNING");
    }
    KilnRun tooShort =
        KilnRun.kiln("tracking", "sweep", "--workdir", workdir.toString(), "--stale-after", "1");
    assertThat(tooShort.exitCode()).isEqualTo(2);
    assertThat(tooShort.err()).contains("--stale-after 1 is too short");
  }

  @Test
  void serverKeepsItsStoreInTheWorkDirectoryOfTheSettingsFile(@TempDir Path dir) throws Exception {
    Path workdir = dir.resolve("work");
    Path settings = dir.resolve("kiln.yaml");
    Files.writeString(settings, "workdir: " + workdir + "\n");
    KilnInBackground serving =
        KilnInBackground.start(
            "kiln-server-test", "server", "--settings", settings.toString(), "--port", "0");
    try {
      Matcher started =
          serving.awaitOutput(
              Pattern.compile(
                  "Kiln tracking server at (http://127\\.0\\.0\\.1:\\d+) \\(store (.*?)\\)"));
      assertThat(started.find(0)).as(serving.out() + "\n" + serving.err()).isTrue();
      assertThat(Path.of(started.group(2))).isEqualTo(workdir.resolve("mlflow").toAbsolutePath());
      assertThat(workdir.resolve("mlflow").resolve(TrackingServer.DATABASE_FILE)).exists();
      HttpResponse<String> health =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(started.group(1) + "/health")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(health.body()).isEqualTo("OK");
    } finally {
      serving.stop();
    }
    assertThat(serving.running()).isFalse();
    assertThat(serving.exitCode()).isZero();
  }

  @Test
  void serverBadUsageExitsWithTwoAndSaysWhy() {
    KilnRun notANumber = KilnRun.kiln("server", "--port", "http");
    assertThat(notANumber.exitCode()).isEqualTo(2);
    assertThat(notANumber.err()).contains("--port").contains("http").contains("Usage: kiln server");
    KilnRun outOfRange = KilnRun.kiln("server", "--port", "70000");
    assertThat(outOfRange.exitCode()).isEqualTo(2);
    assertThat(outOfRange.err())
        .contains("--port 70000 is not a port number")
        .contains("fix: give 0 to 65535");
    KilnRun unknown = KilnRun.kiln("server", "--colour", "red");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unknown option").contains("--colour");
    KilnRun noValue = KilnRun.kiln("server", "--store");
    assertThat(noValue.exitCode()).isEqualTo(2);
    assertThat(noValue.err()).contains("Missing required parameter for option '--store'");
    assertThat(KilnRun.kiln("server", "--help").exitCode()).isZero();
  }

  /** A loopback port that nothing listens on: connections to it are refused. */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static List<Path> spoolFiles(Path directory) throws Exception {
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).toList();
    }
  }

  private static List<Run> runs(MlflowClient client, String experimentId) {
    return client.searchRuns(List.of(experimentId), "tags.`kiln.job` = 'ingest'").stream()
        .map(info -> client.getRun(info.getRunId()))
        .toList();
  }
}
