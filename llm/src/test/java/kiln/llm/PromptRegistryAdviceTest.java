package kiln.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import kiln.core.EnvironmentException;
import kiln.core.tracking.MlflowTracking;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Listing prompts against a tracking server that answers with an HTTP error (a real server on
 * loopback): the fix line fits the status, and "start the tracking server" only fits no answer.
 */
class PromptRegistryAdviceTest {
  @TempDir Path dir;

  /** A server answering every request with {@code status} and an MLflow-style error body. */
  private static HttpServer answering(int status) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] body =
              ("{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"answered "
                      + status
                      + "\"}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(status, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  private String listingFails(HttpServer server) {
    String uri = "http://127.0.0.1:" + server.getAddress().getPort();
    try (MlflowTracking tracking =
        MlflowTracking.connect(uri, Map.of(), dir.resolve("spool"), m -> {}, 1, Duration.ZERO)) {
      PromptRegistry prompts = new PromptRegistry(tracking, Map.of());
      Throwable error = org.assertj.core.api.Assertions.catchThrowable(prompts::list);
      assertThat(error).isInstanceOf(EnvironmentException.class);
      return error.getMessage();
    }
  }

  @Test
  void aServerAnswering400IsSaidToRejectTheNamedRequestNotToBeDown() throws Exception {
    HttpServer server = answering(400);
    try {
      String message = listingFails(server);
      assertThat(message)
          .contains("HTTP 400", "answered 400")
          .contains(
              "fix: the tracking server at http://127.0.0.1:"
                  + server.getAddress().getPort()
                  + " rejected the request GET registered-models/search (max_results=1000, no"
                  + " filter) as bad (HTTP 400)")
          .contains("MLflow version without the model registry's prompt support")
          .doesNotContain("start the tracking server");
    } finally {
      server.stop(0);
    }
  }

  @ParameterizedTest
  @CsvSource({
    "401, refused the credentials (HTTP 401): set MLFLOW_TRACKING_TOKEN",
    "403, refused the credentials (HTTP 403): set MLFLOW_TRACKING_TOKEN",
    "404, has no endpoint for GET registered-models/search",
    "503, failed (HTTP 503): see the server's log"
  })
  void everyOtherStatusGetsTheAdviceThatFitsIt(int status, String advice) throws Exception {
    HttpServer server = answering(status);
    try {
      assertThat(listingFails(server))
          .contains("HTTP " + status)
          .contains("fix: the tracking server at ")
          .contains(advice)
          .doesNotContain("start the tracking server");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void noAnswerAtAllStillAdvisesStartingTheServer() throws Exception {
    HttpServer server = answering(200);
    String uri = "http://127.0.0.1:" + server.getAddress().getPort();
    server.stop(0); // nothing listens on its port any more
    try (MlflowTracking tracking =
        MlflowTracking.connect(uri, Map.of(), dir.resolve("spool"), m -> {}, 1, Duration.ZERO)) {
      assertThatThrownBy(() -> new PromptRegistry(tracking, Map.of()).list())
          .isInstanceOf(EnvironmentException.class)
          .hasMessageContaining("cannot reach the tracking server")
          .hasMessageContaining("fix: start the tracking server or check the tracking URI");
    }
  }
}
