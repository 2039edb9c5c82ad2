package kiln.tracking.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/**
 * Plain HTTP for the endpoints the official Java client lacks, and raw requests no client would
 * send.
 */
final class Http {
  record Response(int status, String body, java.net.http.HttpHeaders headers) {}

  private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER =
      new com.fasterxml.jackson.databind.ObjectMapper();

  static com.fasterxml.jackson.databind.JsonNode json(String body) {
    try {
      return MAPPER.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final URI base;
  private final String authorization;

  Http(URI base) {
    this(base, null);
  }

  private Http(URI base, String authorization) {
    this.base = base;
    this.authorization = authorization;
  }

  Http withBasicAuth(String user, String password) {
    return new Http(
        base,
        "Basic "
            + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
  }

  Response api(String method, String endpoint, String json) {
    return send(
        method,
        "/api/2.0/mlflow/" + endpoint,
        json == null ? null : json.getBytes(StandardCharsets.UTF_8));
  }

  Response send(String method, String rawPathAndQuery, byte[] body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + rawPathAndQuery))
            .timeout(Duration.ofSeconds(20))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    try {
      HttpResponse<String> response =
          CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.body(), response.headers());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Sends the request line exactly as given, so that paths such as {@code /a/../b} reach the server
   * without a client normalizing them first. Returns the status code and the body.
   */
  Response raw(String method, String rawTarget, byte[] body) {
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      StringBuilder head =
          new StringBuilder()
              .append(method)
              .append(' ')
              .append(rawTarget)
              .append(" HTTP/1.1\r\n")
              .append("Host: ")
              .append(base.getHost())
              .append(':')
              .append(base.getPort())
              .append("\r\n")
              .append("Connection: close\r\n")
              .append("Content-Length: ")
              .append(body == null ? 0 : body.length)
              .append("\r\n");
      if (authorization != null) {
        head.append("Authorization: ").append(authorization).append("\r\n");
      }
      head.append("\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(response.substring(9, 12));
      int split = response.indexOf("\r\n\r\n");
      return new Response(status, split < 0 ? "" : response.substring(split + 4), null);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
