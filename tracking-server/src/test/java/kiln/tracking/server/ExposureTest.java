package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.tracking.MlflowClient;

/**
 * Item 9 of issue 17: beyond loopback only with authentication or an explicit opt-in, a Host
 * allow-list against DNS rebinding, cross-origin requests refused unless listed. Every request here
 * goes to a real server on a loopback port, written byte for byte so that the Host and Origin
 * headers are exactly what a browser or an attacker's page would send.
 */
class ExposureTest {
  @TempDir Path directory;

  record RawResponse(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** One HTTP/1.1 request with exactly the given header lines (no Host unless given). */
  static RawResponse request(
      int port, String method, String target, List<String> headerLines, String body) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
      headerLines.forEach(line -> head.append(line).append("\r\n"));
      head.append("Connection: close\r\n");
      head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(payload);
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int split = response.indexOf("\r\n\r\n");
      String[] lines = response.substring(0, split).split("\r\n");
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(
            lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).strip());
      }
      return new RawResponse(
          Integer.parseInt(lines[0].substring(9, 12)), headers, response.substring(split + 4));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void assertRefusedWithJson(RawResponse response, int status, String... words) {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.header("Content-Type")).startsWith("application/json");
    var error = Http.json(response.body());
    assertThat(error.path("error_code").asText())
        .isEqualTo(status == 403 ? "PERMISSION_DENIED" : "BAD_REQUEST");
    assertThat(error.path("message").asText())
        .contains(words)
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(response.header("Access-Control-Allow-Origin")).isNull();
  }

  @Test
  void bindingBeyondLoopbackWithoutAnAuthFileIsRefusedBeforeAnythingListens() {
    assertThatThrownBy(
            () ->
                TrackingServer.builder()
                    .host("0.0.0.0")
                    .port(0)
                    .storeDirectory(directory.resolve("store"))
                    .build()
                    .start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("0.0.0.0")
        .hasMessageContaining("auth file");
    assertThat(directory.resolve("store")).doesNotExist();
  }

  @Test
  void loopbackNamesAndLiteralsAreLoopbackAndTheWildcardIsNot() {
    assertThat(TrackingServer.isLoopback("127.0.0.1")).isTrue();
    assertThat(TrackingServer.isLoopback("127.1.2.3")).isTrue();
    assertThat(TrackingServer.isLoopback("localhost")).isTrue();
    assertThat(TrackingServer.isLoopback("::1")).isTrue();
    assertThat(TrackingServer.isLoopback("[::1]")).isTrue();
    assertThat(TrackingServer.isLoopback("0.0.0.0")).isFalse();
    assertThat(TrackingServer.isLoopback("::")).isFalse();
    assertThat(TrackingServer.isLoopback("10.0.0.1")).isFalse();
  }

  @Test
  void theWildcardBindNeedsTheExplicitOptInAndReportsWhereItListens() throws Exception {
    try (TrackingServer server =
        TrackingServer.builder()
            .host("0.0.0.0")
            .port(0)
            .threads(4)
            .storeDirectory(directory.resolve("open"))
            .allowUnauthenticatedRemote(true)
            .build()
            .start()) {
      assertThat(server.listensOnEveryInterface()).isTrue();
      assertThat(server.boundAddress().getPort()).isPositive();
      assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
      assertThat(server.uri().getPort()).isEqualTo(server.boundAddress().getPort());
      // the machine's own name is answered: other machines reach it by that name
      assertThat(server.allowedHosts())
          .contains(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
      try (MlflowClient client = TestServers.client(server)) {
        assertThat(client.createExperiment("reachable")).isNotBlank();
      }
    }
  }

  @Test
  void withAnAuthFileTheWildcardBindNeedsNoOptIn() throws Exception {
    Path users = directory.resolve("users");
    Files.writeString(users, "alice:s3cret\n");
    try (TrackingServer server =
        TrackingServer.builder()
            .host("0.0.0.0")
            .port(0)
            .threads(4)
            .storeDirectory(directory.resolve("authed"))
            .authFile(users)
            .build()
            .start()) {
      assertThat(server.listensOnEveryInterface()).isTrue();
      int port = server.port();
      assertThat(request(port, "GET", "/health", List.of("Host: 127.0.0.1:" + port), null).status())
          .isEqualTo(200);
    }
  }

  @Test
  void aHostHeaderOutsideTheAllowListIsRefusedAgainstDnsRebinding() {
    try (TrackingServer server = TestServers.start(directory.resolve("hosts"))) {
      int port = server.port();
      String create = "{\"name\":\"rebound\"}";
      // a page on attacker.example whose name now resolves to 127.0.0.1
      RawResponse rebound =
          request(
              port,
              "POST",
              "/api/2.0/mlflow/experiments/create",
              List.of("Host: attacker.example:" + port, "Content-Type: application/json"),
              create);
      assertRefusedWithJson(rebound, 403, "attacker.example", "--allowed-hosts");
      assertRefusedWithJson(
          request(port, "GET", "/health", List.of("Host: attacker.example"), null),
          403,
          "attacker.example");
      assertThat(
              StoreSnapshot.count(
                  server.databaseFile(), "SELECT COUNT(*) FROM experiments WHERE name='rebound'"))
          .isZero();

      for (String host :
          List.of("127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port)) {
        assertThat(request(port, "GET", "/health", List.of("Host: " + host), null).status())
            .as(host)
            .isEqualTo(200);
      }
      RawResponse noHost = request(port, "GET", "/health", List.of(), null);
      assertRefusedWithJson(noHost, 400, "Host");
      RawResponse garbage =
          request(port, "GET", "/health", List.of("Host: localhost:notaport"), null);
      assertRefusedWithJson(garbage, 403, "localhost:notaport");
    }
  }

  @Test
  void configuredHostsPatternsAndPortsAreAnsweredAndOthersAreNot() {
    try (TrackingServer server =
        TestServers.start(
            TrackingServer.builder()
                .storeDirectory(directory.resolve("configured"))
                .allowedHosts(
                    List.of("mlflow.internal", "*.corp.example", "pinned.example:8443")))) {
      int port = server.port();
      for (String allowed :
          List.of(
              "mlflow.internal:" + port,
              "MLflow.Internal",
              "a.corp.example:" + port,
              "x.y.corp.example",
              "pinned.example:8443",
              "localhost:" + port,
              "127.0.0.1")) {
        assertThat(request(port, "GET", "/health", List.of("Host: " + allowed), null).status())
            .as(allowed)
            .isEqualTo(200);
      }
      for (String refused :
          List.of(
              "corp.example",
              "evilcorp.example",
              "mlflow.internal.attacker.example",
              "pinned.example:" + port,
              "pinned.example")) {
        assertRefusedWithJson(
            request(port, "GET", "/health", List.of("Host: " + refused), null), 403, refused);
      }
    }
  }

  @Test
  void crossOriginRequestsAndPreflightsAreRefusedByDefault() {
    try (TrackingServer server = TestServers.start(directory.resolve("cors-default"))) {
      int port = server.port();
      String host = "Host: 127.0.0.1:" + port;
      // a "simple" request needs no preflight: without the refusal a foreign page could write runs
      RawResponse simplePost =
          request(
              port,
              "POST",
              "/api/2.0/mlflow/experiments/create",
              List.of(host, "Origin: https://evil.example", "Content-Type: text/plain"),
              "{\"name\":\"csrf\"}");
      assertRefusedWithJson(simplePost, 403, "https://evil.example", "--cors-origins");
      assertThat(
              StoreSnapshot.count(
                  server.databaseFile(), "SELECT COUNT(*) FROM experiments WHERE name='csrf'"))
          .isZero();
      RawResponse preflight =
          request(
              port,
              "OPTIONS",
              "/api/2.0/mlflow/experiments/create",
              List.of(
                  host,
                  "Origin: https://evil.example",
                  "Access-Control-Request-Method: POST",
                  "Access-Control-Request-Headers: content-type"),
              null);
      assertRefusedWithJson(preflight, 403, "https://evil.example");
      assertThat(preflight.header("Access-Control-Allow-Methods")).isNull();
      RawResponse crossGet =
          request(
              port,
              "GET",
              "/api/2.0/mlflow/experiments/search?max_results=10",
              List.of(host, "Origin: http://localhost:3000"),
              null);
      assertRefusedWithJson(crossGet, 403, "http://localhost:3000");

      // the same origin (a page the server itself served) is not cross-origin
      RawResponse sameOrigin =
          request(
              port,
              "POST",
              "/api/2.0/mlflow/experiments/create",
              List.of(host, "Origin: http://127.0.0.1:" + port, "Content-Type: application/json"),
              "{\"name\":\"same-origin\"}");
      assertThat(sameOrigin.status()).as(sameOrigin.body()).isEqualTo(200);
      assertThat(sameOrigin.header("Access-Control-Allow-Origin")).isNull();
      assertThat(sameOrigin.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }
  }

  @Test
  void listedOriginsGetCorsHeadersAndPreflightsEvenUnderAuth() throws Exception {
    Path users = directory.resolve("users");
    Files.writeString(users, "alice:s3cret\n");
    try (TrackingServer server =
        TestServers.start(
            TrackingServer.builder()
                .storeDirectory(directory.resolve("cors-listed"))
                .authFile(users)
                .corsOrigins(List.of("https://notebook.example:8888")))) {
      int port = server.port();
      String host = "Host: localhost:" + port;
      // browsers send preflights without credentials
      RawResponse preflight =
          request(
              port,
              "OPTIONS",
              "/api/2.0/mlflow/experiments/create",
              List.of(
                  host,
                  "Origin: https://notebook.example:8888",
                  "Access-Control-Request-Method: POST",
                  "Access-Control-Request-Headers: authorization, content-type"),
              null);
      assertThat(preflight.status()).isEqualTo(204);
      assertThat(preflight.header("Access-Control-Allow-Origin"))
          .isEqualTo("https://notebook.example:8888");
      assertThat(preflight.header("Access-Control-Allow-Methods")).contains("POST");
      assertThat(preflight.header("Access-Control-Allow-Headers"))
          .containsIgnoringCase("authorization")
          .containsIgnoringCase("content-type");

      String credentials =
          "Authorization: Basic "
              + java.util.Base64.getEncoder()
                  .encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
      RawResponse created =
          request(
              port,
              "POST",
              "/api/2.0/mlflow/experiments/create",
              List.of(
                  host,
                  "Origin: https://notebook.example:8888",
                  credentials,
                  "Content-Type: application/json"),
              "{\"name\":\"from-notebook\"}");
      assertThat(created.status()).as(created.body()).isEqualTo(200);
      assertThat(created.header("Access-Control-Allow-Origin"))
          .isEqualTo("https://notebook.example:8888");
      assertThat(created.header("Vary")).contains("Origin");
      RawResponse anonymous =
          request(
              port,
              "POST",
              "/api/2.0/mlflow/experiments/create",
              List.of(host, "Origin: https://notebook.example:8888"),
              "{\"name\":\"anonymous\"}");
      assertThat(anonymous.status()).isEqualTo(401);
      assertRefusedWithJson(
          request(
              port,
              "POST",
              "/api/2.0/mlflow/experiments/create",
              List.of(host, "Origin: https://notebook.example:9999", credentials),
              "{\"name\":\"other-port\"}"),
          403,
          "https://notebook.example:9999");
    }
  }
}
