package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.ViewType;
import org.mlflow.tracking.MlflowClient;

class PersistenceAndConcurrencyTest {
  @TempDir Path store;

  @Test
  void everythingSurvivesARestart() {
    String experimentId;
    String runId;
    try (TrackingServer server = TestServers.start(store);
        MlflowClient client = TestServers.client(server)) {
      experimentId = client.createExperiment("persisted");
      runId = client.createRun(experimentId).getRunId();
      client.logParam(runId, "p", "1");
      client.logMetric(runId, "m", Double.NaN, 10, 0);
      client.setTerminated(runId, RunStatus.FINISHED, 99);
      client.sendPost("registered-models/create", "{\"name\":\"kept\"}");
      client.sendPost(
          "model-versions/create", "{\"name\":\"kept\",\"source\":\"runs:/" + runId + "/m\"}");
      Http http = new Http(server.uri());
      http.api(
          "POST",
          "registered-models/alias",
          "{\"name\":\"kept\",\"alias\":\"champion\",\"version\":\"1\"}");
      http.send(
          "PUT",
          "/api/2.0/mlflow-artifacts/artifacts/" + experimentId + "/" + runId + "/artifacts/a.txt",
          "artifact".getBytes(StandardCharsets.UTF_8));
    }
    try (TrackingServer server = TestServers.start(store);
        MlflowClient client = TestServers.client(server)) {
      Run run = client.getRun(runId);
      assertThat(run.getInfo().getStatus()).isEqualTo(RunStatus.FINISHED);
      assertThat(run.getInfo().getEndTime()).isEqualTo(99);
      assertThat(run.getData().getParamsList()).extracting(Param::getValue).containsExactly("1");
      assertThat(run.getData().getMetricsList())
          .singleElement()
          .satisfies(m -> assertThat(m.getValue()).isNaN());
      assertThat(client.getExperimentByName("persisted")).isPresent();
      Http http = new Http(server.uri());
      assertThat(
              Http.json(
                      http.api("GET", "registered-models/alias?name=kept&alias=champion", null)
                          .body())
                  .path("model_version")
                  .path("version")
                  .asText())
          .isEqualTo("1");
      assertThat(
              http.send(
                      "GET",
                      "/api/2.0/mlflow-artifacts/artifacts/"
                          + experimentId
                          + "/"
                          + runId
                          + "/artifacts/a.txt",
                      null)
                  .body())
          .isEqualTo("artifact");
      // ids continue after the restart instead of colliding
      assertThat(client.createExperiment("after-restart"))
          .isEqualTo(String.valueOf(Long.parseLong(experimentId) + 1));
    }
  }

  /** Eight writers at once, split over two servers on the same store as two jobs would be. */
  @Test
  void eightConcurrentWritersOnTwoServersLoseNothing() throws Exception {
    int writers = 8;
    int batches = 10;
    int metricsPerBatch = 50;
    try (TrackingServer first = TestServers.start(store);
        TrackingServer second = TestServers.start(store)) {
      String experimentId;
      try (MlflowClient client = TestServers.client(first)) {
        experimentId = client.createExperiment("concurrent");
      }
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      List<Future<String>> results = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        TrackingServer target = w % 2 == 0 ? first : second;
        int writer = w;
        Callable<String> job =
            () -> {
              try (MlflowClient client = TestServers.client(target)) {
                String runId = client.createRun(experimentId).getRunId();
                for (int b = 0; b < batches; b++) {
                  List<Metric> metrics = new ArrayList<>();
                  for (int i = 0; i < metricsPerBatch; i++) {
                    metrics.add(
                        Metric.newBuilder()
                            .setKey("m" + (i % 5))
                            .setValue(b * 1000 + i)
                            .setTimestamp(1000 + b)
                            .setStep(b * metricsPerBatch + i)
                            .build());
                  }
                  client.logBatch(
                      runId,
                      metrics,
                      List.of(Param.newBuilder().setKey("p" + b).setValue("v").build()),
                      List.of(
                          RunTag.newBuilder()
                              .setKey("writer")
                              .setValue(String.valueOf(writer))
                              .build()));
                }
                client.setTerminated(runId);
                return runId;
              }
            };
        results.add(pool.submit(job));
      }
      List<String> runIds = new ArrayList<>();
      for (Future<String> result : results) {
        runIds.add(result.get(90, TimeUnit.SECONDS));
      }
      pool.shutdown();

      assertThat(StoreSnapshot.count(first.databaseFile(), "SELECT COUNT(*) FROM metrics"))
          .isEqualTo((long) writers * batches * metricsPerBatch);
      try (MlflowClient client = TestServers.client(second)) {
        List<Run> runs =
            client
                .searchRuns(
                    List.of(experimentId), "attributes.status = 'FINISHED'", ViewType.ALL, 100)
                .getItems();
        assertThat(runs)
            .extracting(run -> run.getInfo().getRunId())
            .containsExactlyInAnyOrderElementsOf(runIds);
        for (Run run : runs) {
          assertThat(run.getData().getParamsList()).hasSize(batches);
          assertThat(run.getData().getMetricsList()).hasSize(5);
          // the last batch's last step of key m4 is the latest
          assertThat(run.getData().getMetricsList())
              .filteredOn(m -> m.getKey().equals("m4"))
              .singleElement()
              .satisfies(
                  m -> assertThat(m.getStep()).isEqualTo((long) batches * metricsPerBatch - 1));
          assertThat(client.getMetricHistory(run.getInfo().getRunId(), "m0"))
              .hasSize(batches * metricsPerBatch / 5);
        }
      }
    }
  }
}
