package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mlflow.tracking.MlflowClient;

/**
 * Bad requests get MLflow's error code and status, never a 500 or a stack trace, and leave the
 * store as it was.
 */
class BadInputTest {
  @TempDir static Path store;

  private static TrackingServer server;
  private static Http http;
  private static String runId;
  private static String experimentId;

  @BeforeAll
  static void start() {
    server =
        TestServers.start(
            TrackingServer.builder()
                .storeDirectory(store)
                .maxRequestBytes(64 * 1024)
                .maxArtifactBytes(16 * 1024));
    http = new Http(server.uri());
    try (MlflowClient client = TestServers.client(server)) {
      experimentId = client.createExperiment("existing");
      runId = client.createRun(experimentId).getRunId();
      client.logParam(runId, "p", "1");
      client.sendPost("registered-models/create", "{\"name\":\"model\"}");
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Stream<Arguments> badRequests() {
    String big = "x".repeat(70 * 1024);
    return Stream.of(
        Arguments.of(
            "malformed JSON", "POST", "experiments/create", "{\"name\": ", 400, "BAD_REQUEST"),
        Arguments.of(
            "JSON that is not an object",
            "POST",
            "experiments/create",
            "[1, 2]",
            400,
            "BAD_REQUEST"),
        Arguments.of(
            "duplicate JSON keys",
            "POST",
            "experiments/create",
            "{\"name\":\"a\",\"name\":\"b\"}",
            400,
            "BAD_REQUEST"),
        Arguments.of(
            "wrong type: string for a double",
            "POST",
            "runs/log-batch",
            "{\"run_id\":\"RUN\",\"metrics\":[{\"key\":\"m\",\"value\":\"high\",\"timestamp\":1}]}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "wrong type: object for a string",
            "POST",
            "experiments/create",
            "{\"name\":{\"a\":1}}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "wrong type: scalar for a list",
            "POST",
            "runs/search",
            "{\"experiment_ids\":\"EXP\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "wrong type: text for an int64",
            "POST",
            "runs/log-metric",
            "{\"run_id\":\"RUN\",\"key\":\"m\",\"value\":1,\"timestamp\":\"yesterday\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "unknown enum value",
            "POST",
            "runs/update",
            "{\"run_id\":\"RUN\",\"status\":\"EXPLODED\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "missing experiment name",
            "POST",
            "experiments/create",
            "{}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "missing metric timestamp",
            "POST",
            "runs/log-metric",
            "{\"run_id\":\"RUN\",\"key\":\"m\",\"value\":1}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "missing run id",
            "POST",
            "runs/log-parameter",
            "{\"key\":\"k\",\"value\":\"v\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "missing model version source",
            "POST",
            "model-versions/create",
            "{\"name\":\"model\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "unknown run",
            "POST",
            "runs/log-parameter",
            "{\"run_id\":\"ffffffffffffffffffffffffffffffff\",\"key\":\"k\",\"value\":\"v\"}",
            404,
            "RESOURCE_DOES_NOT_EXIST"),
        Arguments.of(
            "unknown experiment",
            "POST",
            "runs/create",
            "{\"experiment_id\":\"4242\"}",
            404,
            "RESOURCE_DOES_NOT_EXIST"),
        Arguments.of(
            "experiment id that is not a number",
            "POST",
            "runs/create",
            "{\"experiment_id\":\"abc\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "unknown registered model",
            "POST",
            "model-versions/create",
            "{\"name\":\"nope\",\"source\":\"runs:/RUN/model\"}",
            404,
            "RESOURCE_DOES_NOT_EXIST"),
        Arguments.of(
            "duplicate experiment name",
            "POST",
            "experiments/create",
            "{\"name\":\"existing\"}",
            400,
            "RESOURCE_ALREADY_EXISTS"),
        Arguments.of(
            "duplicate registered model",
            "POST",
            "registered-models/create",
            "{\"name\":\"model\"}",
            400,
            "RESOURCE_ALREADY_EXISTS"),
        Arguments.of(
            "changed param value",
            "POST",
            "runs/log-parameter",
            "{\"run_id\":\"RUN\",\"key\":\"p\",\"value\":\"2\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "batch rejected as a whole",
            "POST",
            "runs/log-batch",
            "{\"run_id\":\"RUN\",\"params\":[{\"key\":\"q\","
                + "\"value\":\"1\"},{\"key\":\"p\",\"value\":\"3\"}],\"metrics\":[{\"key\":\"m\",\"value\":1,\"timestamp\":1}]}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "metric name with a path segment",
            "POST",
            "runs/log-metric",
            "{\"run_id\":\"RUN\",\"key\":\"a/../b\",\"value\":1,\"timestamp\":1}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "too long a param value",
            "POST",
            "runs/log-parameter",
            "{\"run_id\":\"RUN\",\"key\":\"long\",\"value\":\"" + "v".repeat(6001) + "\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "bad search filter",
            "POST",
            "runs/search",
            "{\"experiment_ids\":[\"EXP\"],\"filter\":\"metrics.m <\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "bad page token",
            "POST",
            "runs/search",
            "{\"experiment_ids\":[\"EXP\"],\"page_token\":\"garbage!\"}",
            400,
            "INVALID_PARAMETER_VALUE"),
        Arguments.of(
            "oversized body",
            "POST",
            "experiments/create",
            "{\"name\":\"" + big + "\"}",
            413,
            "BAD_REQUEST"),
        Arguments.of("unknown endpoint", "POST", "runs/explode", "{}", 404, "ENDPOINT_NOT_FOUND"),
        Arguments.of("wrong method", "GET", "runs/create", null, 404, "ENDPOINT_NOT_FOUND"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void badRequestGetsMlflowErrorAndChangesNothing(
      String what, String method, String endpoint, String body, int status, String errorCode) {
    Map<String, List<String>> before = StoreSnapshot.of(server.databaseFile());
    String json = body == null ? null : body.replace("RUN", runId).replace("EXP", experimentId);
    Http.Response response = http.api(method, endpoint, json);

    assertThat(response.status()).as(what).isEqualTo(status);
    JsonNode error = Http.json(response.body());
    assertThat(error.path("error_code").asText()).as(what).isEqualTo(errorCode);
    assertThat(error.path("message").asText())
        .as(what)
        .isNotBlank()
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(StoreSnapshot.of(server.databaseFile())).as(what).isEqualTo(before);
  }

  @Test
  void unknownPathsOutsideTheApiAreEndpointNotFound() {
    Http.Response response = http.send("GET", "/api/2.0/preview/whatever", null);
    assertThat(response.status()).isEqualTo(404);
    assertThat(Http.json(response.body()).path("error_code").asText())
        .isEqualTo("ENDPOINT_NOT_FOUND");
  }

  @Test
  void oversizedArtifactIsRejectedAndLeavesNoFile() {
    String path =
        "/api/2.0/mlflow-artifacts/artifacts/"
            + experimentId
            + "/"
            + runId
            + "/artifacts/new-dir/big.bin";
    Http.Response response = http.send("PUT", path, new byte[20 * 1024]);
    assertThat(response.status()).isEqualTo(413);
    assertThat(Http.json(response.body()).path("error_code").asText()).isEqualTo("BAD_REQUEST");
    assertThat(server.artifactRoot().resolve(experimentId)).doesNotExist();
  }

  @Test
  void unknownFieldsAreIgnoredAsMlflowDoes() {
    Http.Response response =
        http.api("POST", "experiments/create", "{\"name\":\"with-extra\",\"colour\":\"blue\"}");
    assertThat(response.status()).isEqualTo(200);
  }
}
