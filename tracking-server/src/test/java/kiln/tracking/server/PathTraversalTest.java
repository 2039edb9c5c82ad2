package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mlflow.tracking.MlflowClient;

/**
 * The path forms behind MLflow's traversal CVEs, sent as raw request lines so that no client
 * normalizes them: every one gets a 400 and nothing on disk or in the database changes.
 */
class PathTraversalTest {
  @TempDir static Path base;

  private static TrackingServer server;
  private static Http http;
  private static String experimentId;
  private static String runId;
  private static String otherRunId;

  @BeforeAll
  static void start() throws IOException {
    Files.writeString(base.resolve("outside.txt"), "keep");
    server = TestServers.start(base.resolve("store"));
    http = new Http(server.uri());
    try (MlflowClient client = TestServers.client(server)) {
      experimentId = client.createExperiment("traversal");
      runId = client.createRun(experimentId).getRunId();
      otherRunId = client.createRun(experimentId).getRunId();
      client.sendPost("registered-models/create", "{\"name\":\"guarded\"}");
    }
    assertThat(
            http.send(
                    "PUT",
                    "/api/2.0/mlflow-artifacts/artifacts/"
                        + experimentId
                        + "/"
                        + runId
                        + "/artifacts/model/MLmodel",
                    "flavors: {}".getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Stream<String> artifactPaths() {
    return Stream.of(
        "../outside.txt",
        "../../outside.txt",
        "EXP/../../../outside.txt",
        "../store/mlflow.db",
        "%2e%2e/%2e%2e/outside.txt",
        "%2e%2e%2f%2e%2e%2foutside.txt",
        "%2E%2E%2F%2E%2E%2Foutside.txt",
        "..%2f..%2foutside.txt",
        "%252e%252e%252f%252e%252e%252foutside.txt",
        "%25252e%25252e%25252foutside.txt",
        "..%5c..%5coutside.txt",
        "%252e%252e%255coutside.txt",
        "%5c%5cserver%5cshare%5cfile",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "%252fetc%252fpasswd",
        "C:%5cWindows%5cwin.ini",
        "C:/Windows/win.ini",
        "EXP/RUN/artifacts/model%23/../../../../../outside.txt",
        "EXP/RUN/artifacts/model%23fragment",
        "EXP/RUN/artifacts/a%00b",
        "./outside.txt",
        "EXP/./RUN",
        "~/outside.txt",
        "file:%2f%2f%2fetc%2fpasswd");
  }

  private static String target(String payload) {
    return payload.replace("EXP", experimentId).replace("RUN", runId);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("artifactPaths")
  void traversalIsRejectedForEveryArtifactMethod(String payload) {
    Map<String, String> filesBefore = files();
    Map<String, List<String>> databaseBefore = StoreSnapshot.of(server.databaseFile());
    String path = "/api/2.0/mlflow-artifacts/artifacts/" + target(payload);
    for (String method : List.of("PUT", "GET", "DELETE")) {
      Http.Response response =
          http.raw(
              method, path, method.equals("PUT") ? "pwned".getBytes(StandardCharsets.UTF_8) : null);
      assertThat(response.status()).as(method + " " + payload).isEqualTo(400);
      assertThat(Http.json(response.body()).path("error_code").asText())
          .as(method + " " + payload)
          .isEqualTo("INVALID_PARAMETER_VALUE");
    }
    Http.Response listing =
        http.raw("GET", "/api/2.0/mlflow-artifacts/artifacts?path=" + target(payload), null);
    assertThat(listing.status()).as("list " + payload).isEqualTo(400);
    assertThat(files()).isEqualTo(filesBefore);
    assertThat(StoreSnapshot.of(server.databaseFile())).isEqualTo(databaseBefore);
    assertThat(base.resolve("outside.txt")).hasContent("keep");
  }

  static Stream<String> badSources() {
    return Stream.of(
        "file:///etc/passwd",
        "/etc/passwd",
        "file://ROOT/EXP/OTHER/artifacts/model",
        "file://ROOT/EXP/RUN/artifacts/../../OTHER/artifacts/model",
        "ROOT/EXP/RUN/artifacts/model/../../../../../outside.txt",
        "file://otherhost/ROOT/EXP/RUN/artifacts/model",
        "relative/model",
        "mlflow-artifacts:/../../outside.txt",
        "mlflow-artifacts:/EXP/RUN/artifacts/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside.txt",
        "runs:/RUN/../../model",
        "runs:/RUN/%252e%252e/%252e%252e/model",
        "models:/guarded/1%2f..%2f..",
        "s3://bucket/model#fragment",
        "s3://bucket/..%5cmodel",
        "C:\\\\models\\\\model");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badSources")
  void modelVersionSourceOutsideTheRunIsRejected(String source) {
    Map<String, List<String>> databaseBefore = StoreSnapshot.of(server.databaseFile());
    String resolved =
        source
            .replace("ROOT", server.artifactRoot().toString())
            .replace("EXP", experimentId)
            .replace("OTHER", otherRunId)
            .replace("RUN", runId);
    Http.Response response =
        http.api(
            "POST",
            "model-versions/create",
            "{\"name\":\"guarded\",\"run_id\":\""
                + runId
                + "\",\"source\":"
                + quote(resolved)
                + "}");
    assertThat(response.status()).as(resolved).isEqualTo(400);
    assertThat(Http.json(response.body()).path("error_code").asText())
        .isEqualTo("INVALID_PARAMETER_VALUE");
    assertThat(StoreSnapshot.of(server.databaseFile())).isEqualTo(databaseBefore);
  }

  @Test
  void sourcesInsideTheRunOrRemoteAreAccepted() {
    String runDirectory =
        server.artifactRoot().resolve(experimentId).resolve(runId).resolve("artifacts").toString();
    for (String source :
        List.of(
            "file://" + runDirectory + "/model",
            runDirectory + "/model",
            "runs:/" + runId + "/model",
            "mlflow-artifacts:/" + experimentId + "/" + runId + "/artifacts/model",
            "s3://bucket/models/churn")) {
      Http.Response response =
          http.api(
              "POST",
              "model-versions/create",
              "{\"name\":\"guarded\",\"run_id\":\""
                  + runId
                  + "\",\"source\":"
                  + quote(source)
                  + "}");
      assertThat(response.status()).as(source).isEqualTo(200);
    }
  }

  @Test
  void plainNamesWithDotsAreStillAllowed() {
    String path =
        "/api/2.0/mlflow-artifacts/artifacts/"
            + experimentId
            + "/"
            + runId
            + "/artifacts/v1..2/model.tar.gz";
    assertThat(http.raw("PUT", path, "x".getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(200);
    assertThat(
            server
                .artifactRoot()
                .resolve(experimentId + "/" + runId + "/artifacts/v1..2/model.tar.gz"))
        .hasContent("x");
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /**
   * Every file under the temporary directory with its size and content hash, leaving out the
   * database files.
   */
  private static Map<String, String> files() {
    try (Stream<Path> paths = Files.walk(base)) {
      Map<String, String> files = new TreeMap<>();
      paths
          .filter(path -> !path.getFileName().toString().startsWith("mlflow.db"))
          .forEach(
              path -> {
                try {
                  files.put(
                      base.relativize(path).toString(),
                      Files.isDirectory(path)
                          ? "dir"
                          : Files.size(path)
                              + ":"
                              + java.util.Arrays.hashCode(Files.readAllBytes(path)));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
