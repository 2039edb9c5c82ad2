package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.CreateRun;
import org.mlflow.api.proto.Service.Experiment;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunInfo;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.ViewType;
import org.mlflow.tracking.ExperimentsPage;
import org.mlflow.tracking.MlflowClient;
import org.mlflow.tracking.MlflowHttpException;
import org.mlflow.tracking.RunsPage;

/** Drives every endpoint the official mlflow-client 2.17.2 has against the server. */
class TrackingClientTest {
  @TempDir static Path store;

  private static TrackingServer server;
  private static MlflowClient client;
  private static Http http;

  @BeforeAll
  static void start() {
    server = TestServers.start(store);
    client = TestServers.client(server);
    http = new Http(server.uri());
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  private static MlflowHttpException httpError(Runnable call) {
    try {
      call.run();
    } catch (MlflowHttpException e) {
      return e;
    }
    throw new AssertionError("expected an MLflow HTTP error");
  }

  @Test
  void experimentLifecycle() {
    String id = client.createExperiment("exp-lifecycle");
    Experiment experiment = client.getExperiment(id);
    assertThat(experiment.getName()).isEqualTo("exp-lifecycle");
    assertThat(experiment.getArtifactLocation()).isEqualTo("mlflow-artifacts:/" + id);
    assertThat(experiment.getLifecycleStage()).isEqualTo("active");
    assertThat(client.getExperimentByName("exp-lifecycle"))
        .map(Experiment::getExperimentId)
        .contains(id);
    assertThat(client.getExperimentByName("no-such-experiment")).isEmpty();

    client.setExperimentTag(id, "team", "kiln");
    client.renameExperiment(id, "exp-lifecycle-renamed");
    experiment = client.getExperiment(id);
    assertThat(experiment.getName()).isEqualTo("exp-lifecycle-renamed");
    assertThat(experiment.getTagsList())
        .extracting(t -> t.getKey() + "=" + t.getValue())
        .containsExactly("team=kiln");

    client.deleteExperiment(id);
    assertThat(client.getExperiment(id).getLifecycleStage()).isEqualTo("deleted");
    assertThat(client.searchExperiments("name = 'exp-lifecycle-renamed'").getItems()).isEmpty();
    assertThat(
            client
                .searchExperiments(
                    "name = 'exp-lifecycle-renamed'", ViewType.DELETED_ONLY, 10, List.of())
                .getItems())
        .extracting(Experiment::getExperimentId)
        .containsExactly(id);
    client.restoreExperiment(id);
    assertThat(client.getExperiment(id).getLifecycleStage()).isEqualTo("active");

    MlflowHttpException duplicate =
        httpError(() -> client.createExperiment("exp-lifecycle-renamed"));
    assertThat(duplicate.getStatusCode()).isEqualTo(400);
    assertThat(duplicate.getBodyMessage()).contains("RESOURCE_ALREADY_EXISTS");
    MlflowHttpException missing = httpError(() -> client.getExperiment("987654"));
    assertThat(missing.getStatusCode()).isEqualTo(404);
    assertThat(missing.getBodyMessage()).contains("RESOURCE_DOES_NOT_EXIST");
  }

  @Test
  void searchExperimentsFiltersOrdersAndPages() {
    for (String name : List.of("page-c", "page-a", "page-b")) {
      client.setExperimentTag(client.createExperiment(name), "group", "paging");
    }
    ExperimentsPage first =
        client.searchExperiments(
            "tags.group = 'paging'", ViewType.ACTIVE_ONLY, 2, List.of("name ASC"));
    assertThat(first.getItems())
        .extracting(Experiment::getName)
        .containsExactly("page-a", "page-b");
    assertThat(first.hasNextPage()).isTrue();
    ExperimentsPage second =
        client.searchExperiments(
            "tags.group = 'paging'",
            ViewType.ACTIVE_ONLY,
            2,
            List.of("name ASC"),
            first.getNextPageToken().orElseThrow());
    assertThat(second.getItems()).extracting(Experiment::getName).containsExactly("page-c");
    assertThat(second.hasNextPage()).isFalse();
    assertThat(
            client
                .searchExperiments(
                    "name LIKE 'page-%'", ViewType.ACTIVE_ONLY, 10, List.of("name DESC"))
                .getItems())
        .extracting(Experiment::getName)
        .containsExactly("page-c", "page-b", "page-a");
    assertThat(client.searchExperiments("name ILIKE 'PAGE-A'").getItems())
        .extracting(Experiment::getName)
        .containsExactly("page-a");
    assertThat(client.searchExperiments("name LIKE 'PAGE-%'").getItems()).isEmpty();
  }

  @Test
  void runLifecycleWithParamsMetricsAndTags() {
    String experimentId = client.createExperiment("runs-lifecycle");
    RunInfo info =
        client.createRun(
            CreateRun.newBuilder()
                .setExperimentId(experimentId)
                .setRunName("first")
                .setUserId("ada")
                .addTags(RunTag.newBuilder().setKey("stage").setValue("dev"))
                .build());
    String runId = info.getRunId();
    assertThat(info.getRunName()).isEqualTo("first");
    assertThat(info.getStatus()).isEqualTo(RunStatus.RUNNING);
    assertThat(info.getArtifactUri())
        .isEqualTo("mlflow-artifacts:/" + experimentId + "/" + runId + "/artifacts");

    client.logParam(runId, "depth", "6");
    client.logParam(runId, "depth", "6");
    MlflowHttpException changed = httpError(() -> client.logParam(runId, "depth", "7"));
    assertThat(changed.getStatusCode()).isEqualTo(400);
    assertThat(changed.getBodyMessage())
        .contains("INVALID_PARAMETER_VALUE")
        .contains("Changing param values is not allowed");

    client.logMetric(runId, "nan", Double.NaN, 1000, 0);
    client.logMetric(runId, "pos", Double.POSITIVE_INFINITY, 1000, 0);
    client.logMetric(runId, "neg", Double.NEGATIVE_INFINITY, 1000, 0);
    client.logMetric(runId, "loss", 0.5, 1000, 1);
    client.logMetric(runId, "loss", 0.5, 1000, 1);
    client.setTag(runId, "note", "hello");
    client.setTag(runId, "gone", "soon");
    client.deleteTag(runId, "gone");
    client.logBatch(
        runId,
        List.of(
            Metric.newBuilder().setKey("acc").setValue(0.9).setTimestamp(2000).setStep(3).build()),
        List.of(Param.newBuilder().setKey("lr").setValue("0.1").build()),
        List.of(RunTag.newBuilder().setKey("batch").setValue("yes").build()));

    Run run = client.getRun(runId);
    Map<String, Double> metrics =
        run.getData().getMetricsList().stream()
            .collect(Collectors.toMap(Metric::getKey, Metric::getValue));
    assertThat(metrics.get("nan")).isNaN();
    assertThat(metrics.get("pos")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(metrics.get("neg")).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(metrics).containsEntry("loss", 0.5).containsEntry("acc", 0.9);
    assertThat(run.getData().getParamsList())
        .extracting(p -> p.getKey() + "=" + p.getValue())
        .containsExactlyInAnyOrder("depth=6", "lr=0.1");
    assertThat(run.getData().getTagsList())
        .extracting(RunTag::getKey)
        .contains("stage", "note", "batch", "mlflow.runName")
        .doesNotContain("gone");
    assertThat(run.getInfo().getUserId()).isEqualTo("ada");
    assertThat(client.getMetricHistory(runId, "loss")).hasSize(1);
    assertThat(client.getMetricHistory(runId, "nan"))
        .singleElement()
        .satisfies(m -> assertThat(m.getValue()).isNaN());

    client.setTerminated(runId, RunStatus.FINISHED, 5000);
    run = client.getRun(runId);
    assertThat(run.getInfo().getStatus()).isEqualTo(RunStatus.FINISHED);
    assertThat(run.getInfo().getEndTime()).isEqualTo(5000);

    client.deleteRun(runId);
    assertThat(client.getRun(runId).getInfo().getLifecycleStage()).isEqualTo("deleted");
    MlflowHttpException deletedRun = httpError(() -> client.logParam(runId, "late", "x"));
    assertThat(deletedRun.getBodyMessage()).contains("INVALID_PARAMETER_VALUE").contains("active");
    client.restoreRun(runId);
    assertThat(client.getRun(runId).getInfo().getLifecycleStage()).isEqualTo("active");

    MlflowHttpException unknown =
        httpError(() -> client.getRun("0123456789abcdef0123456789abcdef"));
    assertThat(unknown.getStatusCode()).isEqualTo(404);
    assertThat(unknown.getBodyMessage()).contains("RESOURCE_DOES_NOT_EXIST");
  }

  @Test
  void latestMetricIsTheHighestStepThenTimestampThenValue() {
    String runId = client.createRun(client.createExperiment("latest-metric")).getRunId();
    client.logMetric(runId, "m", 5.0, 100, 2);
    client.logMetric(runId, "m", 7.0, 900, 1);
    client.logMetric(runId, "m", 6.0, 100, 2);
    client.logMetric(runId, "m", 1.0, 50, 2);
    assertThat(client.getRun(runId).getData().getMetricsList())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getValue()).isEqualTo(6.0);
              assertThat(m.getStep()).isEqualTo(2);
              assertThat(m.getTimestamp()).isEqualTo(100);
            });
    assertThat(client.getMetricHistory(runId, "m"))
        .extracting(Metric::getValue)
        .containsExactly(1.0, 5.0, 6.0, 7.0);
  }

  @Test
  void metricHistoryPagesOverHttp() {
    String runId = client.createRun(client.createExperiment("history-paging")).getRunId();
    List<Metric> metrics = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      metrics.add(
          Metric.newBuilder().setKey("h").setValue(i).setTimestamp(1000 + i).setStep(i).build());
    }
    client.logBatch(runId, metrics, List.of(), List.of());
    Http.Response first =
        http.send(
            "GET",
            "/api/2.0/mlflow/metrics/get-history?run_id=" + runId + "&metric_key=h&max_results=10",
            null);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.body())
        .contains("\"next_page_token\"")
        .contains("\"step\":\"9\"")
        .doesNotContain("\"step\":\"10\"");
    String token = Http.json(first.body()).path("next_page_token").asText();
    Http.Response second =
        http.send(
            "GET",
            "/api/2.0/mlflow/metrics/get-history?run_id="
                + runId
                + "&metric_key=h&max_results=10&page_token="
                + java.net.URLEncoder.encode(token, java.nio.charset.StandardCharsets.UTF_8),
            null);
    assertThat(second.body())
        .contains("\"step\":\"10\"")
        .contains("\"step\":\"19\"")
        .doesNotContain("\"step\":\"20\"");
    assertThat(client.getMetricHistory(runId, "h")).hasSize(25);
  }

  /**
   * The official client's getMetricHistory asks for max_results=25000 and cannot follow a page
   * token, so a history longer than that comes whole, as MLflow 2.17's server returned it.
   */
  @Test
  void theOfficialClientReadsAMetricHistoryLongerThanOnePage() {
    String runId = client.createRun(client.createExperiment("history-long")).getRunId();
    int points = 26_000;
    for (int start = 0; start < points; start += 1000) {
      List<Metric> batch = new ArrayList<>();
      for (int i = start; i < start + 1000; i++) {
        batch.add(
            Metric.newBuilder()
                .setKey("long")
                .setValue(i)
                .setTimestamp(1000 + i)
                .setStep(i)
                .build());
      }
      client.logBatch(runId, batch, List.of(), List.of());
    }
    List<Metric> history = client.getMetricHistory(runId, "long");
    assertThat(history).hasSize(points);
    assertThat(history.get(points - 1).getStep()).isEqualTo(points - 1);
    // asked for smaller pages, it still pages
    Http.Response page =
        http.send(
            "GET",
            "/api/2.0/mlflow/metrics/get-history?run_id="
                + runId
                + "&metric_key=long&max_results=20000",
            null);
    assertThat(Http.json(page.body()).path("metrics").size()).isEqualTo(20_000);
    String token = Http.json(page.body()).path("next_page_token").asText();
    assertThat(token).isNotEmpty();
    Http.Response rest =
        http.send(
            "GET",
            "/api/2.0/mlflow/metrics/get-history?run_id="
                + runId
                + "&metric_key=long&max_results=25000&page_token="
                + java.net.URLEncoder.encode(token, java.nio.charset.StandardCharsets.UTF_8),
            null);
    assertThat(Http.json(rest.body()).path("metrics").size()).isEqualTo(6_000);
    assertThat(Http.json(rest.body()).path("next_page_token").asText()).isEmpty();
  }

  @Test
  void searchRunsFiltersOrdersAndPages() {
    String experimentId = client.createExperiment("search-runs");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String runId =
          client
              .createRun(
                  CreateRun.newBuilder()
                      .setExperimentId(experimentId)
                      .setRunName("run-" + i)
                      .setStartTime(1000 + i)
                      .build())
              .getRunId();
      ids.add(runId);
      client.logBatch(
          runId,
          List.of(
              Metric.newBuilder().setKey("score").setValue(i).setTimestamp(1).setStep(0).build()),
          List.of(Param.newBuilder().setKey("kind").setValue(i % 2 == 0 ? "even" : "odd").build()),
          List.of(
              RunTag.newBuilder().setKey("owner").setValue(i < 2 ? "Team-A" : "team-b").build()));
    }
    client.setTerminated(ids.get(4), RunStatus.FINISHED);
    List<String> experiments = List.of(experimentId);

    assertThat(
            names(
                client
                    .searchRuns(
                        experiments,
                        "metrics.score >= 2 AND params.kind = 'even'",
                        ViewType.ACTIVE_ONLY,
                        100,
                        List.of("metrics.score DESC"))
                    .getItems()))
        .containsExactly("run-4", "run-2");
    assertThat(names(search(experiments, "metrics.score > 3"))).containsExactly("run-4");
    assertThat(names(search(experiments, "metrics.score <= 1", "attributes.start_time ASC")))
        .containsExactly("run-0", "run-1");
    assertThat(names(search(experiments, "metrics.score < 1"))).containsExactly("run-0");
    assertThat(names(search(experiments, "metrics.score = 3"))).containsExactly("run-3");
    assertThat(names(search(experiments, "metrics.score != 3", "metrics.score ASC")))
        .containsExactly("run-0", "run-1", "run-2", "run-4");
    assertThat(names(search(experiments, "params.kind != 'even'", "attributes.run_name ASC")))
        .containsExactly("run-1", "run-3");
    assertThat(names(search(experiments, "tags.owner LIKE 'team-%'", "attributes.run_name ASC")))
        .containsExactly("run-2", "run-3", "run-4");
    assertThat(names(search(experiments, "tags.owner ILIKE 'team-%'", "attributes.run_name ASC")))
        .containsExactly("run-0", "run-1", "run-2", "run-3", "run-4");
    assertThat(names(search(experiments, "attributes.status = 'FINISHED'")))
        .containsExactly("run-4");
    assertThat(names(search(experiments, "attributes.run_name LIKE 'run-1%'")))
        .containsExactly("run-1");
    assertThat(names(search(experiments, "attributes.run_id = '" + ids.get(2) + "'")))
        .containsExactly("run-2");
    assertThat(names(search(experiments, "tags.`owner` = 'Team-A' AND metrics.score > 0")))
        .containsExactly("run-1");
    // default order: newest start_time first
    assertThat(names(search(experiments, "")))
        .containsExactly("run-4", "run-3", "run-2", "run-1", "run-0");

    RunsPage first =
        client.searchRuns(
            experiments,
            "",
            ViewType.ACTIVE_ONLY,
            2,
            List.of("params.kind ASC", "metrics.score ASC"));
    RunsPage second =
        client.searchRuns(
            experiments,
            "",
            ViewType.ACTIVE_ONLY,
            2,
            List.of("params.kind ASC", "metrics.score ASC"),
            first.getNextPageToken().orElseThrow());
    RunsPage third =
        client.searchRuns(
            experiments,
            "",
            ViewType.ACTIVE_ONLY,
            2,
            List.of("params.kind ASC", "metrics.score ASC"),
            second.getNextPageToken().orElseThrow());
    assertThat(names(first.getItems())).containsExactly("run-0", "run-2");
    assertThat(names(second.getItems())).containsExactly("run-4", "run-1");
    assertThat(names(third.getItems())).containsExactly("run-3");
    assertThat(third.hasNextPage()).isFalse();

    client.deleteRun(ids.get(0));
    assertThat(names(search(experiments, "params.kind = 'even'")))
        .containsExactly("run-4", "run-2");
    assertThat(names(client.searchRuns(experiments, "params.kind = 'even'", ViewType.DELETED_ONLY)))
        .containsExactly("run-0");

    MlflowHttpException or =
        httpError(() -> search(experiments, "metrics.score < 1 OR metrics.score > 3"));
    assertThat(or.getStatusCode()).isEqualTo(400);
    assertThat(or.getBodyMessage()).contains("INVALID_PARAMETER_VALUE").contains("AND");
    MlflowHttpException badComparator = httpError(() -> search(experiments, "params.kind > 'a'"));
    assertThat(badComparator.getBodyMessage()).contains("INVALID_PARAMETER_VALUE");
  }

  private static List<Run> search(List<String> experiments, String filter, String... orderBy) {
    return client
        .searchRuns(experiments, filter, ViewType.ACTIVE_ONLY, 1000, List.of(orderBy))
        .getItems();
  }

  private static List<String> names(List<?> runsOrInfos) {
    return runsOrInfos.stream()
        .map(
            item ->
                item instanceof Run run
                    ? run.getInfo().getRunName()
                    : ((RunInfo) item).getRunName())
        .toList();
  }
}
