package kiln.jobs.tracking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.EnvironmentException;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.RunOwner;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import kiln.tracking.server.TrackingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.tracking.MlflowClient;

/** Kiln's tracking facade against a real MLflow-protocol server (Kiln's own) on a loopback port. */
class MlflowTrackingTest {
  private final List<String> notices = new ArrayList<>();

  private static TrackingServer server(Path store, int port) throws Exception {
    return TrackingServer.builder()
        .host("127.0.0.1")
        .port(port)
        .storeDirectory(store)
        .build()
        .start();
  }

  private MlflowTracking connect(TrackingServer server, Path spool) {
    return MlflowTracking.connect(
        server.uri().toString(), Map.of(), spool, notices::add, 2, Duration.ofMillis(10));
  }

  @Test
  void aRunCarriesParamsMetricsTagsArtifactsAndInputs(@TempDir Path dir) throws Exception {
    try (TrackingServer server = server(dir.resolve("store"), 0);
        MlflowTracking tracking = connect(server, dir)) {
      String runId;
      try (TrackedRun run =
          tracking.startRun("kiln-test", "ingest flights", Map.of("kiln.job", "ingest"))) {
        runId = run.id();
        run.logParams(Map.of("table", "/data/flights", "mode", "append"));
        run.logMetrics(Map.of("rows", 1477911.0, "ratio", Double.NaN));
        run.logMetric("loss", 0.5, 1);
        run.logMetric("loss", 0.25, 2);
        run.setTags(Map.of("kiln.version", "test"));
        run.logText("hello", "reports/hello.txt");
        run.logInput(DatasetRef.atVersion("/data/flights", 3), "output");
        assertThat(run.url()).isEqualTo(server.uri() + "/#/experiments/1/runs/" + runId);
      }
      Run run = new MlflowClient(server.uri().toString()).getRun(runId);
      assertThat(run.getInfo().getStatus()).isEqualTo(RunStatus.FINISHED);
      assertThat(run.getInfo().getRunName()).isEqualTo("ingest flights");
      assertThat(run.getData().getParamsList())
          .extracting(p -> p.getKey() + "=" + p.getValue())
          .contains("table=/data/flights", "mode=append");
      assertThat(run.getData().getMetricsList())
          .extracting(m -> m.getKey() + "=" + m.getValue())
          .contains("rows=1477911.0", "ratio=NaN", "loss=0.25");
      assertThat(run.getData().getTagsList())
          .extracting(t -> t.getKey() + "=" + t.getValue())
          .contains("kiln.job=ingest", "kiln.version=test", "mlflow.runName=ingest flights");
      assertThat(run.getInputs().getDatasetInputsList()).hasSize(1);
      assertThat(run.getInputs().getDatasetInputs(0).getDataset().getSource())
          .contains("\"delta_table_version\":3");
      assertThat(run.getInputs().getDatasetInputs(0).getTags(0).getValue()).isEqualTo("output");
      Path artifact =
          server.artifactRoot().resolve("1").resolve(runId).resolve("artifacts/reports/hello.txt");
      assertThat(Files.readString(artifact)).isEqualTo("hello");
    }
  }

  @Test
  void aFailedJobEndsItsRunFailedWithTheError(@TempDir Path dir) throws Exception {
    try (TrackingServer server = server(dir.resolve("store"), 0);
        MlflowTracking tracking = connect(server, dir)) {
      TrackedRun run = tracking.startRun("kiln-test", "broken", Map.of());
      run.fail(new IllegalStateException("disk full"));
      run.close(); // a no-op once ended
      Run stored = new MlflowClient(server.uri().toString()).getRun(run.id());
      assertThat(stored.getInfo().getStatus()).isEqualTo(RunStatus.FAILED);
      assertThat(stored.getData().getTagsList())
          .extracting(t -> t.getKey() + "=" + t.getValue())
          .contains("kiln.error=disk full");
    }
  }

  @Test
  void anUnreachableServerSpoolsAndReplaySendsItLater(@TempDir Path dir) throws Exception {
    Path store = dir.resolve("store");
    Path spoolDir = dir.resolve("spool");
    String runId;
    TrackingServer first = server(store, 0);
    int port = first.port();
    MlflowTracking tracking = connect(first, spoolDir);
    TrackedRun run = tracking.startRun("kiln-test", "survives an outage", Map.of());
    runId = run.id();
    run.logParams(Map.of("before", "outage"));
    first.close(); // the server goes away in the middle of the job

    run.logMetrics(Map.of("rows", 42.0));
    run.logText("report", "report.txt");
    run.finish();
    TrackedRun offline = tracking.startRun("kiln-test", "started offline", Map.of());
    offline.logParams(Map.of("when", "offline"));
    offline.finish();
    tracking.close();

    Path spool = tracking.spoolFile().orElseThrow();
    assertThat(notices)
        .anyMatch(n -> n.contains("cannot reach the tracking server") && n.contains("retrying"));
    assertThat(notices).anyMatch(n -> n.contains("spools its tracking data to " + spool));
    assertThat(notices)
        .anyMatch(n -> n.contains("send them with `kiln tracking replay " + spool + "`"));

    try (TrackingServer second = server(store, 0)) {
      int sent = MlflowTracking.replay(spool, second.uri().toString(), Map.of(), notices::add);
      assertThat(sent)
          .isEqualTo(7); // run 1: bind, metrics, artifact, end; run 2: create, params, end
      MlflowClient client = new MlflowClient(second.uri().toString());
      Run resumed = client.getRun(runId);
      assertThat(resumed.getInfo().getStatus()).isEqualTo(RunStatus.FINISHED);
      assertThat(resumed.getData().getParamsList()).extracting(p -> p.getKey()).contains("before");
      assertThat(resumed.getData().getMetricsList())
          .extracting(m -> m.getKey() + "=" + m.getValue())
          .contains("rows=42.0");
      assertThat(
              Files.readString(
                  second
                      .artifactRoot()
                      .resolve("1")
                      .resolve(runId)
                      .resolve("artifacts/report.txt")))
          .isEqualTo("report");
      assertThat(client.searchRuns(List.of("1"), "params.when = 'offline'")).hasSize(1);
      // a second replay sends nothing twice
      assertThat(MlflowTracking.replay(spool, second.uri().toString(), Map.of(), notices::add))
          .isZero();
      assertThat(client.searchRuns(List.of("1"), "")).hasSize(2);
      // a replay killed after the server created the offline run and before its progress was
      // written sends the creation again: the run is found by its local id, not made twice
      Files.delete(Path.of(spool + ".sent"));
      assertThat(MlflowTracking.replay(spool, second.uri().toString(), Map.of(), notices::add))
          .isEqualTo(7);
      assertThat(client.searchRuns(List.of("1"), "")).hasSize(2);
      assertThat(client.searchRuns(List.of("1"), "params.when = 'offline'")).hasSize(1);
    }
    assertThat(port).isPositive();
  }

  /**
   * Issue 17: MLflow's runs/create has no idempotency key, so a retry of a creation the server
   * carried out (its answer lost on the way back) made a second run, the first left RUNNING
   * forever. The retry now first looks for the run by its local id.
   */
  @Test
  void aRunCreationWhoseAnswerIsLostIsFoundByTheRetryNotMadeTwice(@TempDir Path dir)
      throws Exception {
    try (TrackingServer server = server(dir.resolve("store"), 0);
        LossyProxy proxy = LossyProxy.start(server.uri(), CREATE, LossyProxy.Loss.ANSWER)) {
      String runId = runThrough(proxy, dir);
      assertThat(proxy.requests()).filteredOn(CREATE::equals).hasSize(1);
      assertThat(proxy.requests()).contains("POST /api/2.0/mlflow/runs/search");
      assertThat(notices)
          .anyMatch(n -> n.contains("POST runs/create") && n.contains("not sent again"));
      assertOneFinishedRun(server, runId);
    }
  }

  /** The other side of the same retry: a creation that never reached the server is sent again. */
  @Test
  void aRunCreationThatNeverReachedTheServerIsSentAgain(@TempDir Path dir) throws Exception {
    try (TrackingServer server = server(dir.resolve("store"), 0);
        LossyProxy proxy = LossyProxy.start(server.uri(), CREATE, LossyProxy.Loss.REQUEST)) {
      String runId = runThrough(proxy, dir);
      assertThat(proxy.requests()).filteredOn(CREATE::equals).hasSize(2);
      assertThat(notices).noneMatch(n -> n.contains("not sent again"));
      assertOneFinishedRun(server, runId);
    }
  }

  /**
   * The same for the registry: model-versions/create has no idempotency key either, and a retry
   * whose first attempt the server carried out made a second version of the model.
   */
  @Test
  void aModelRegistrationWhoseAnswerIsLostMakesOneVersion(@TempDir Path dir) throws Exception {
    String register = "POST /api/2.0/mlflow/model-versions/create";
    try (TrackingServer server = server(dir.resolve("store"), 0);
        LossyProxy proxy = LossyProxy.start(server.uri(), register, LossyProxy.Loss.ANSWER);
        MlflowTracking tracking =
            MlflowTracking.connect(
                proxy.uri().toString(), Map.of(), dir, notices::add, 3, Duration.ofMillis(10))) {
      TrackedRun run = tracking.startRun("kiln-test", "train", Map.of());
      run.finish();
      String source = "mlflow-artifacts:/1/" + run.id() + "/artifacts/model";
      Tracking.ModelVersion lost = tracking.registerModel("delays", source, run.id(), Map.of());
      // a second registration of the same source is a new version: the retry matched its own
      Tracking.ModelVersion again = tracking.registerModel("delays", source, run.id(), Map.of());

      assertThat(lost.version()).isEqualTo("1");
      assertThat(again.version()).isEqualTo("2");
      assertThat(proxy.requests()).filteredOn(register::equals).hasSize(2);
      assertThat(notices)
          .anyMatch(n -> n.contains("POST model-versions/create") && n.contains("not sent again"));
      assertThat(
              new MlflowClient(server.uri().toString())
                  .searchModelVersions("name = 'delays'")
                  .getItems())
          .hasSize(2);
    }
  }

  private static final String CREATE = "POST /api/2.0/mlflow/runs/create";

  /** A run with one metric, sent through the proxy; returns its id. */
  private String runThrough(LossyProxy proxy, Path dir) {
    try (MlflowTracking tracking =
        MlflowTracking.connect(
            proxy.uri().toString(), Map.of(), dir, notices::add, 3, Duration.ofMillis(10))) {
      String runId;
      try (TrackedRun run = tracking.startRun("kiln-test", "answer lost", Map.of())) {
        runId = run.id();
        run.logMetrics(Map.of("rows", 42.0));
      }
      assertThat(tracking.spoolFile()).as("spooled: %s", notices).isEmpty();
      assertThat(notices)
          .anyMatch(n -> n.contains("POST runs/create") && n.contains("retrying in 10 ms"));
      return runId;
    }
  }

  private static void assertOneFinishedRun(TrackingServer server, String runId) {
    MlflowClient client = new MlflowClient(server.uri().toString());
    assertThat(client.searchRuns(List.of("1"), ""))
        .singleElement()
        .satisfies(info -> assertThat(info.getRunId()).isEqualTo(runId))
        .satisfies(info -> assertThat(info.getStatus()).isEqualTo(RunStatus.FINISHED));
    assertThat(client.getRun(runId).getData().getMetricsList())
        .extracting(m -> m.getKey() + "=" + m.getValue())
        .containsExactly("rows=42.0");
  }

  @Test
  void credentialsComeFromTheEnvironment(@TempDir Path dir) throws Exception {
    Path auth = dir.resolve("auth");
    Files.writeString(auth, "kiln:secret\n");
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("s"))
            .authFile(auth)
            .build()
            .start()) {
      Map<String, String> good =
          Map.of("MLFLOW_TRACKING_USERNAME", "kiln", "MLFLOW_TRACKING_PASSWORD", "secret");
      try (MlflowTracking tracking =
          MlflowTracking.connect(server.uri().toString(), good, dir, notices::add)) {
        tracking.startRun("kiln-test", "with auth", Map.of()).finish();
      }
      Map<String, String> bad =
          Map.of("MLFLOW_TRACKING_USERNAME", "kiln", "MLFLOW_TRACKING_PASSWORD", "wrong");
      try (MlflowTracking tracking =
          MlflowTracking.connect(server.uri().toString(), bad, dir, notices::add)) {
        assertThatThrownBy(() -> tracking.startRun("kiln-test", "refused", Map.of()))
            .isInstanceOf(EnvironmentException.class)
            .hasMessageContaining("the tracking server refused a request")
            .hasMessageContaining("HTTP 401");
      }
    }
  }

  /**
   * What a real MLflow server (3.17) answers for an alias the model does not have: HTTP 400, not
   * 404.
   */
  @Test
  void anAliasTheRealMlflowDoesNotKnowIsNoAlias(@TempDir Path dir) throws Exception {
    com.sun.net.httpserver.HttpServer mlflow =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    mlflow.createContext(
        "/api/2.0/mlflow/registered-models/alias",
        exchange -> {
          String alias =
              exchange.getRequestURI().getQuery().contains("alias=champion") ? "champion" : "other";
          byte[] body =
              ("{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \""
                      + ("champion".equals(alias)
                          ? "Registered model alias champion not found."
                          : "Invalid alias name")
                      + "\"}")
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(400, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    mlflow.start();
    try (MlflowTracking tracking =
        MlflowTracking.connect(
            "http://127.0.0.1:" + mlflow.getAddress().getPort(),
            Map.of(),
            dir,
            notices::add,
            2,
            Duration.ofMillis(10))) {
      assertThat(tracking.versionByAlias("delays", "champion")).isEmpty();
      // any other refusal is still an error
      assertThatThrownBy(() -> tracking.versionByAlias("delays", "bad alias"))
          .hasMessageContaining("Invalid alias name");
    } finally {
      mlflow.stop(0);
    }
  }

  @Test
  void registryVersionsAndAliases(@TempDir Path dir) throws Exception {
    try (TrackingServer server = server(dir.resolve("store"), 0);
        MlflowTracking tracking = connect(server, dir)) {
      TrackedRun run = tracking.startRun("kiln-test", "train", Map.of());
      run.logText("model", "model/MLmodel");
      run.finish();
      String source = "mlflow-artifacts:/1/" + run.id() + "/artifacts/model";
      Tracking.ModelVersion v1 =
          tracking.registerModel("delays", source, run.id(), Map.of("kiln.data", "/t@0"));
      Tracking.ModelVersion v2 = tracking.registerModel("delays", source, run.id(), Map.of());
      assertThat(v1.version()).isEqualTo("1");
      assertThat(v2.version()).isEqualTo("2");
      assertThat(tracking.versionByAlias("delays", "champion")).isEmpty();
      tracking.setAlias("delays", "champion", "2");
      assertThat(tracking.versionByAlias("delays", "champion"))
          .get()
          .extracting(Tracking.ModelVersion::version)
          .isEqualTo("2");
      tracking.deleteAlias("delays", "champion");
      assertThat(tracking.versionByAlias("delays", "champion")).isEmpty();
      assertThat(tracking.versionByAlias("no-such-model", "champion")).isEmpty();
    }
  }

  /**
   * Issue 17: a driver killed with SIGKILL leaves its run RUNNING. Every run records its driver
   * (host, pid, start time); a later command marks KILLED the runs whose driver is certainly gone,
   * and leaves alone the live ones, the ones of other hosts that still beat, and foreign runs.
   */
  @Test
  void runsWhoseDriverIsGoneAreMarkedKilledWithTheReasonAndLiveOnesAreLeftRunning(@TempDir Path dir)
      throws Exception {
    try (TrackingServer server = server(dir.resolve("store"), 0);
        MlflowTracking tracking = connect(server, dir)) {
      MlflowClient client = new MlflowClient(server.uri().toString());
      TrackedRun live = tracking.startRun("kiln-test", "ingest", Map.of());
      Map<String, String> liveTags = tags(client.getRun(live.id()));
      RunOwner self = RunOwner.current();
      assertThat(liveTags)
          .containsEntry(RunOwner.HOST_TAG, self.host())
          .containsEntry(RunOwner.PID_TAG, String.valueOf(ProcessHandle.current().pid()))
          .containsEntry(RunOwner.STARTED_TAG, String.valueOf(self.startedMillis()));
      String experimentId = client.getRun(live.id()).getInfo().getExperimentId();

      // a driver of this host that has ended: a real process, waited for
      Process ended = new ProcessBuilder("true").start();
      ended.waitFor();
      ProcessHandle endedHandle = ended.toHandle();
      String dead =
          run(client, experimentId, new RunOwner(self.host(), ended.pid(), 1_000L).tags());
      // this JVM's pid, but a process started at another moment: the pid was reused
      String reused =
          run(client, experimentId, new RunOwner(self.host(), self.pid(), 1_000L).tags());
      long now = System.currentTimeMillis();
      Map<String, String> stale =
          new java.util.HashMap<>(new RunOwner("elsewhere", 7, now - 3_600_000).tags());
      stale.put(RunOwner.HEARTBEAT_TAG, String.valueOf(now - 1_800_000));
      String silent = run(client, experimentId, stale);
      Map<String, String> beating =
          new java.util.HashMap<>(new RunOwner("elsewhere", 8, now - 3_600_000).tags());
      beating.put(RunOwner.HEARTBEAT_TAG, String.valueOf(now - 30_000));
      String elsewhere = run(client, experimentId, beating);
      String foreign = run(client, experimentId, Map.of("mlflow.user", "someone"));

      List<String> marked = tracking.markDeadRuns("kiln-test", Duration.ofMinutes(10));

      assertThat(marked).hasSize(3);
      assertThat(endedHandle.isAlive()).isFalse();
      for (String id : List.of(dead, reused, silent)) {
        Run run = client.getRun(id);
        assertThat(run.getInfo().getStatus()).as(id).isEqualTo(RunStatus.KILLED);
        assertThat(tags(run).get(RunOwner.KILLED_REASON_TAG))
            .startsWith("marked KILLED: its driver (pid ")
            .contains("found by pid " + self.pid());
      }
      assertThat(tags(client.getRun(dead)).get(RunOwner.KILLED_REASON_TAG))
          .contains("pid " + ended.pid() + " on " + self.host() + ") is no longer running");
      assertThat(tags(client.getRun(reused)).get(RunOwner.KILLED_REASON_TAG))
          .contains("is another process now");
      assertThat(tags(client.getRun(silent)).get(RunOwner.KILLED_REASON_TAG))
          .contains("on elsewhere) sent no heartbeat since");
      // it ended at its last sign of life, not when it was found
      assertThat(client.getRun(silent).getInfo().getEndTime()).isEqualTo(now - 1_800_000);
      for (String id : List.of(live.id(), elsewhere, foreign)) {
        assertThat(client.getRun(id).getInfo().getStatus()).as(id).isEqualTo(RunStatus.RUNNING);
      }
      // a second look finds nothing more to mark
      assertThat(tracking.markDeadRuns("kiln-test", Duration.ofMinutes(10))).isEmpty();
      live.finish();
      assertThat(client.getRun(live.id()).getInfo().getStatus()).isEqualTo(RunStatus.FINISHED);
    }
  }

  private static String run(MlflowClient client, String experimentId, Map<String, String> tags) {
    String id = client.createRun(experimentId).getRunId();
    tags.forEach((k, v) -> client.setTag(id, k, v));
    return id;
  }

  private static Map<String, String> tags(Run run) {
    Map<String, String> tags = new java.util.HashMap<>();
    run.getData().getTagsList().forEach(t -> tags.put(t.getKey(), t.getValue()));
    return tags;
  }
}
