package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.tracking.MlflowClient;

/** The endpoints mlflow-client 2.17.2 lacks (log-inputs, artifacts), over plain HTTP. */
class HttpEndpointsTest {
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

  @Test
  void healthAnswersOk() {
    Http.Response health = http.send("GET", "/health", null);
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("OK");
  }

  @Test
  void logInputsRecordsDatasetsOnceAndShowsThemOnTheRun() {
    String runId = client.createRun(client.createExperiment("inputs")).getRunId();
    String body =
        "{\"run_id\":\""
            + runId
            + "\",\"datasets\":[{\"tags\":[{\"key\":\"mlflow.data.context\",\"value\":\"training\"}],"
            + "\"dataset\":{\"name\":\"flights\",\"digest\":\"v3-abc\",\"source_type\":\"delta\","
            + "\"source\":\"{\\\"path\\\":\\\"/data/flights\\\",\\\"version\\\":3}\",\"schema\":\"{}\"}}]}";
    assertThat(http.api("POST", "runs/log-inputs", body).status()).isEqualTo(200);
    // the client retries failed requests; a repeat must not duplicate the input
    assertThat(http.api("POST", "runs/log-inputs", body).status()).isEqualTo(200);

    Run run = client.getRun(runId);
    assertThat(run.getInputs().getDatasetInputsList())
        .singleElement()
        .satisfies(
            input -> {
              assertThat(input.getDataset().getName()).isEqualTo("flights");
              assertThat(input.getDataset().getDigest()).isEqualTo("v3-abc");
              assertThat(input.getDataset().getSource()).contains("\"version\":3");
              assertThat(input.getTagsList())
                  .extracting(t -> t.getKey() + "=" + t.getValue())
                  .containsExactly("mlflow.data.context=training");
            });
    JsonNode found =
        Http.json(
            http.api(
                    "POST",
                    "runs/search",
                    "{\"experiment_ids\":[\""
                        + run.getInfo().getExperimentId()
                        + "\"],\"filter\":\"datasets.name = 'flights' AND datasets.context = 'training'\"}")
                .body());
    assertThat(found.path("runs")).hasSize(1);

    Http.Response missingDigest =
        http.api(
            "POST",
            "runs/log-inputs",
            "{\"run_id\":\""
                + runId
                + "\",\"datasets\":[{\"dataset\":{\"name\":\"x\",\"source_type\":\"delta\",\"source\":\"s\"}}]}");
    assertThat(missingDigest.status()).isEqualTo(400);
    assertThat(Http.json(missingDigest.body()).path("message").asText()).contains("digest");
  }

  @Test
  void artifactsPutGetListDelete() throws Exception {
    Run run = client.getRun(client.createRun(client.createExperiment("artifacts")).getRunId());
    String prefix = run.getInfo().getExperimentId() + "/" + run.getInfo().getRunId() + "/artifacts";
    String base = "/api/2.0/mlflow-artifacts/artifacts/" + prefix;

    assertThat(
            http.send(
                    "PUT",
                    base + "/model/model.json",
                    "{\"trees\":3}".getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(200);
    assertThat(
            http.send(
                    "PUT", base + "/report%20v1.html", "<p>hi</p>".getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(200);
    Path onDisk = server.artifactRoot().resolve(prefix).resolve("model/model.json");
    assertThat(onDisk).hasContent("{\"trees\":3}");
    assertThat(server.artifactRoot().resolve(prefix).resolve("report v1.html")).exists();

    Http.Response download = http.send("GET", base + "/model/model.json", null);
    assertThat(download.status()).isEqualTo(200);
    assertThat(download.body()).isEqualTo("{\"trees\":3}");

    JsonNode listing =
        Http.json(
            http.send("GET", "/api/2.0/mlflow-artifacts/artifacts?path=" + prefix, null).body());
    assertThat(listing.path("files")).hasSize(2);
    assertThat(listing.path("files").get(0).path("path").asText()).isEqualTo("model");
    assertThat(listing.path("files").get(0).path("is_dir").asBoolean()).isTrue();
    assertThat(listing.path("files").get(1).path("path").asText()).isEqualTo("report v1.html");
    assertThat(listing.path("files").get(1).path("file_size").asText()).isEqualTo("9");
    JsonNode ajax =
        Http.json(
            http.send(
                    "GET",
                    "/ajax-api/2.0/mlflow-artifacts/artifacts?path=" + prefix + "/model",
                    null)
                .body());
    assertThat(ajax.path("files").get(0).path("path").asText()).isEqualTo("model.json");

    // overwriting replaces the whole file
    http.send("PUT", base + "/model/model.json", "{}".getBytes(StandardCharsets.UTF_8));
    assertThat(onDisk).hasContent("{}");

    assertThat(http.send("DELETE", base + "/model", null).status()).isEqualTo(200);
    assertThat(server.artifactRoot().resolve(prefix).resolve("model")).doesNotExist();
    assertThat(http.send("DELETE", base + "/model", null).status()).isEqualTo(200);
    Http.Response missing = http.send("GET", base + "/model/model.json", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(Http.json(missing.body()).path("error_code").asText())
        .isEqualTo("RESOURCE_DOES_NOT_EXIST");
    assertThat(Files.exists(server.artifactRoot().resolve(prefix).resolve("report v1.html")))
        .isTrue();
  }

  @Test
  void ajaxApiPrefixServesTheSameEndpoints() {
    Http.Response created =
        http.send(
            "POST",
            "/ajax-api/2.0/mlflow/experiments/create",
            "{\"name\":\"through-ajax\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(created.status()).isEqualTo(200);
    String id = Http.json(created.body()).path("experiment_id").asText();
    assertThat(client.getExperiment(id).getName()).isEqualTo("through-ajax");
  }

  @Test
  void int64FieldsAreStringsAndNonFiniteMetricsRoundTripOverJson() {
    String runId = client.createRun(client.createExperiment("wire-format")).getRunId();
    // Python clients send bare NaN / Infinity literals
    Http.Response logged =
        http.api(
            "POST",
            "runs/log-batch",
            "{\"run_id\":\""
                + runId
                + "\",\"metrics\":["
                + "{\"key\":\"a\",\"value\":NaN,\"timestamp\":1,\"step\":2},"
                + "{\"key\":\"b\",\"value\":-Infinity,\"timestamp\":1,\"step\":2},"
                + "{\"key\":\"c\",\"value\":\"Infinity\",\"timestamp\":1,\"step\":2}]}");
    assertThat(logged.status()).isEqualTo(200);
    JsonNode run = Http.json(http.api("GET", "runs/get?run_id=" + runId, null).body()).path("run");
    assertThat(run.path("info").path("start_time").isTextual()).isTrue();
    JsonNode metrics = run.path("data").path("metrics");
    assertThat(metrics.get(0).path("value").asText()).isEqualTo("NaN");
    assertThat(metrics.get(1).path("value").asText()).isEqualTo("-Infinity");
    assertThat(metrics.get(2).path("value").asText()).isEqualTo("Infinity");
    assertThat(metrics.get(0).path("step").asText()).isEqualTo("2");
    assertThat(metrics.get(0).path("step").isTextual()).isTrue();
  }
}
