package kiln.core.tracking.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import kiln.core.tracking.TrackingException;

/**
 * MLflow's REST API over java.net.http, with bounded retries and exponential backoff. The official
 * Java client is not used here: it lacks aliases and the artifact API, needs Python for artifacts,
 * and retries without backoff, which leaves no room for spooling.
 */
public final class RestClient {
  static final ObjectMapper JSON = new ObjectMapper();
  private final URI base;
  private final String authorization;
  private final HttpClient http;
  private final int attempts;
  private final Duration firstBackoff;
  private final Consumer<String> notices;

  public RestClient(
      URI base,
      String authorization,
      int attempts,
      Duration firstBackoff,
      Consumer<String> notices) {
    String text = base.toString();
    this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    this.authorization = authorization;
    this.attempts = Math.max(1, attempts);
    this.firstBackoff = firstBackoff;
    this.notices = notices;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** Basic credentials from a user and password, or a bearer token; null when neither is given. */
  public static String authorization(String user, String password, String token) {
    if (token != null && !token.isBlank()) {
      return "Bearer " + token;
    }
    if (user != null && !user.isBlank()) {
      String pair = user + ":" + (password == null ? "" : password);
      return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }
    return null;
  }

  public URI base() {
    return base;
  }

  public JsonNode post(String endpoint, Object body) {
    return post(endpoint, body, null);
  }

  /**
   * A POST the server must not carry out twice (a creation): an attempt whose answer was lost (the
   * connection dropped, the answer timed out) may have been carried out, so before each retry
   * {@code carriedOut} asks the server; what it returns (not null) stands for the lost answer and
   * nothing is sent again. When the server cannot be reached to ask, the attempt counts as failed
   * and the question is asked again before the next one; when it refuses the question, the retries
   * are plain ones.
   */
  public JsonNode post(String endpoint, Object body, Supplier<JsonNode> carriedOut) {
    return send(
        "POST " + endpoint,
        HttpRequest.newBuilder(uri("/api/2.0/mlflow/" + endpoint))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json(body))),
        attempts,
        carriedOut);
  }

  /** A POST tried once: for the question a retry asks (its caller's own retries go on). */
  public JsonNode postOnce(String endpoint, Object body) {
    return send(
        "POST " + endpoint,
        HttpRequest.newBuilder(uri("/api/2.0/mlflow/" + endpoint))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json(body))),
        1,
        null);
  }

  public JsonNode patch(String endpoint, Object body) {
    return send(
        "PATCH " + endpoint,
        HttpRequest.newBuilder(uri("/api/2.0/mlflow/" + endpoint))
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(json(body))));
  }

  public JsonNode delete(String endpoint, Object body) {
    return send(
        "DELETE " + endpoint,
        HttpRequest.newBuilder(uri("/api/2.0/mlflow/" + endpoint))
            .header("Content-Type", "application/json")
            .method("DELETE", HttpRequest.BodyPublishers.ofString(json(body))));
  }

  public JsonNode get(String endpoint, Map<String, String> query) {
    return send(
        "GET " + endpoint,
        HttpRequest.newBuilder(uri("/api/2.0/mlflow/" + endpoint + "?" + query(query))).GET());
  }

  /** A GET tried once: for the question a retry asks (its caller's own retries go on). */
  public JsonNode getOnce(String endpoint, Map<String, String> query) {
    return send(
        "GET " + endpoint,
        HttpRequest.newBuilder(uri("/api/2.0/mlflow/" + endpoint + "?" + query(query))).GET(),
        1,
        null);
  }

  private static String query(Map<String, String> query) {
    return query.entrySet().stream()
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  /**
   * Uploads a file through the mlflow-artifacts API: PUT {@code
   * /api/2.0/mlflow-artifacts/artifacts/<path>}.
   */
  public void putArtifact(String artifactPath, Path file) {
    String encoded =
        java.util.Arrays.stream(artifactPath.split("/"))
            .map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"))
            .collect(Collectors.joining("/"));
    try {
      send(
          "PUT artifact " + artifactPath,
          HttpRequest.newBuilder(uri("/api/2.0/mlflow-artifacts/artifacts/" + encoded))
              .header("Content-Type", "application/octet-stream")
              .PUT(HttpRequest.BodyPublishers.ofFile(file)));
    } catch (java.io.FileNotFoundException e) {
      throw new TrackingException("artifact file " + file + " is missing", false, e);
    }
  }

  /**
   * Downloads a file through the mlflow-artifacts API: GET {@code
   * /api/2.0/mlflow-artifacts/artifacts/<path>}.
   */
  public void getArtifact(String artifactPath, Path destination) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                uri("/api/2.0/mlflow-artifacts/artifacts/" + encodePath(artifactPath)))
            .GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    request.timeout(Duration.ofSeconds(300));
    try {
      HttpResponse<Path> response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofFile(destination));
      if (response.statusCode() / 100 != 2) {
        String body = java.nio.file.Files.readString(destination);
        java.nio.file.Files.deleteIfExists(destination);
        throw new TrackingException(
            "GET artifact "
                + artifactPath
                + " from "
                + base
                + " failed with HTTP "
                + response.statusCode()
                + ": "
                + errorMessage(body),
            response.statusCode() >= 500,
            null);
      }
    } catch (IOException e) {
      throw new TrackingException(
          "GET artifact "
              + artifactPath
              + ": cannot reach the tracking server at "
              + base
              + " ("
              + e.getMessage()
              + ")",
          true,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TrackingException("GET artifact " + artifactPath + " was interrupted", true, e);
    }
  }

  /**
   * Lists a directory through the mlflow-artifacts API: {@code {"files": [{"path", "is_dir",
   * "file_size"}]}}.
   */
  public JsonNode listArtifacts(String directory) {
    return send(
        "GET artifacts of " + directory,
        HttpRequest.newBuilder(
                uri(
                    "/api/2.0/mlflow-artifacts/artifacts?path="
                        + URLEncoder.encode(directory, StandardCharsets.UTF_8)))
            .GET());
  }

  private static String encodePath(String artifactPath) {
    return java.util.Arrays.stream(artifactPath.split("/"))
        .map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"))
        .collect(Collectors.joining("/"));
  }

  private URI uri(String path) {
    return URI.create(base + path);
  }

  private JsonNode send(String what, HttpRequest.Builder request) {
    return send(what, request, attempts, null);
  }

  private JsonNode send(
      String what, HttpRequest.Builder request, int attempts, Supplier<JsonNode> carriedOut) {
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    request.timeout(Duration.ofSeconds(60));
    Duration backoff = firstBackoff;
    TrackingException last = null;
    for (int attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1 && carriedOut != null) {
        try {
          JsonNode done = carriedOut.get();
          if (done != null) {
            notices.accept(
                what
                    + ": the server had carried out the earlier attempt (its answer was lost); not"
                    + " sent again");
            return done;
          }
        } catch (TrackingException e) {
          if (e.unreachable()) {
            last = e;
            pause(attempt, attempts, last, backoff);
            backoff = backoff.multipliedBy(2);
            continue;
          }
          // a server that cannot answer the question (an older MLflow's search) gets the plain
          // retry, as before
          notices.accept(
              what
                  + ": cannot ask whether the earlier attempt was carried out ("
                  + e.getMessage()
                  + ")");
          carriedOut = null;
        }
      }
      try {
        HttpResponse<String> response =
            http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status / 100 == 2) {
          return response.body().isBlank()
              ? JSON.createObjectNode()
              : JSON.readTree(response.body());
        }
        String message =
            what
                + " to "
                + base
                + " failed with HTTP "
                + status
                + ": "
                + errorMessage(response.body());
        if (status != 429 && status < 500) {
          throw new TrackingException(message, false, status, null);
        }
        last = new TrackingException(message, true, status, null);
      } catch (IOException e) {
        last =
            new TrackingException(
                what
                    + ": cannot reach the tracking server at "
                    + base
                    + " ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + ")",
                true,
                e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TrackingException(what + " was interrupted", true, e);
      }
      pause(attempt, attempts, last, backoff);
      backoff = backoff.multipliedBy(2);
    }
    throw last;
  }

  /** Waits {@code backoff} before the next attempt, if there is one. */
  private void pause(int attempt, int attempts, TrackingException last, Duration backoff) {
    if (attempt < attempts) {
      notices.accept(last.getMessage() + "; retrying in " + backoff.toMillis() + " ms");
      try {
        Thread.sleep(backoff.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw last;
      }
    }
  }

  /** MLflow's {error_code, message}, or the start of whatever came back. */
  static String errorMessage(String body) {
    try {
      JsonNode error = JSON.readTree(body);
      if (error.has("error_code")) {
        return error.path("error_code").asText() + " " + error.path("message").asText();
      }
    } catch (IOException ignored) {
      // not JSON: fall through to the raw text
    }
    return body.length() > 300 ? body.substring(0, 300) + "..." : body;
  }

  static String json(Object body) {
    try {
      return JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize a request body", e);
    }
  }
}
