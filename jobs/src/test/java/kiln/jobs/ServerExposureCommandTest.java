package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `kiln server` beyond loopback, from the command line (issue 17, item 9). */
class ServerExposureCommandTest {

  @Test
  void theWildcardHostWithoutAnAuthFileExitsTwoNamingTheHostAndTheFix(@TempDir Path dir) {
    KilnRun refused =
        KilnRun.kiln("server", "--workdir", dir.toString(), "--host", "0.0.0.0", "--port", "0");
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.err())
        .contains("--host 0.0.0.0")
        .contains("without authentication")
        .contains("fix:")
        .contains("--auth-file")
        .contains("--allow-unauthenticated-remote")
        .doesNotContain("Exception");
    assertThat(refused.out()).isEmpty();
    // refused before the store is made
    assertThat(dir.resolve("mlflow")).doesNotExist();
  }

  @Test
  void badAllowedHostsAndCorsOriginsExitTwo(@TempDir Path dir) {
    KilnRun badOrigin =
        KilnRun.kiln(
            "server", "--workdir", dir.toString(), "--port", "0", "--cors-origins", "evil.example");
    assertThat(badOrigin.exitCode()).isEqualTo(2);
    assertThat(badOrigin.err()).contains("'evil.example' is not an origin").contains("fix:");
    KilnRun badHost =
        KilnRun.kiln(
            "server", "--workdir", dir.toString(), "--port", "0", "--allowed-hosts", "a/b");
    assertThat(badHost.exitCode()).isEqualTo(2);
    assertThat(badHost.err()).contains("'a/b' is not a host name").contains("fix:");
  }

  @Test
  void theExplicitOptInServesOnEveryInterfaceWarnsAndPrintsTheRealAddress(@TempDir Path dir)
      throws Exception {
    KilnInBackground serving =
        KilnInBackground.start(
            "kiln-server-exposure-test",
            "server",
            "--workdir",
            dir.toString(),
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--allow-unauthenticated-remote",
            "--allowed-hosts",
            "mlflow.internal",
            "--cors-origins",
            "https://notebook.example");
    try {
      Matcher started =
          serving.awaitOutput(
              Pattern.compile(
                  "listening on every interface \\(0\\.0\\.0\\.0:(\\d+)\\): (http://127\\.0\\.0\\.1:\\d+)"
                      + " from this machine, http://\\S+:\\d+ from others"));
      assertThat(started.find(0)).as(serving.out() + "\n" + serving.err()).isTrue();
      assertThat(started.group(2)).endsWith(":" + started.group(1));
      assertThat(serving.err())
          .contains("WARNING")
          .contains("WITHOUT authentication")
          .contains("mlflow.internal")
          .contains("https://notebook.example");
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> health =
          client.send(
              HttpRequest.newBuilder(URI.create(started.group(2) + "/health")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.body()).isEqualTo("OK");
      HttpResponse<String> foreign =
          client.send(
              HttpRequest.newBuilder(URI.create(started.group(2) + "/health"))
                  .header("Origin", "https://evil.example")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(foreign.statusCode()).isEqualTo(403);
      assertThat(foreign.body()).contains("PERMISSION_DENIED").contains("--cors-origins");
      assertThat(foreign.headers().allValues("Access-Control-Allow-Origin")).isEmpty();
    } finally {
      serving.stop();
    }
    assertThat(serving.running()).isFalse();
    assertThat(serving.exitCode()).isZero();
  }
}
