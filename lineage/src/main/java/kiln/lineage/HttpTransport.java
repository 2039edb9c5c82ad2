package kiln.lineage;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * POSTs events to a Marquez-compatible endpoint ({@code POST /api/v1/lineage}). Each event gets a
 * timeout and a few retries; what the endpoint does not take is spooled to {@code
 * WORKDIR/lineage/spool.jsonl} and sent, oldest first, before the next event, so a down endpoint
 * loses nothing and never fails a job. An event the endpoint refuses as malformed (a 4xx other than
 * 408 and 429) would be refused forever: it goes to {@code rejected.jsonl} instead of blocking the
 * spool.
 */
public final class HttpTransport implements Transport {
  public static final String SPOOL = "spool.jsonl";
  public static final String REJECTED = "rejected.jsonl";

  /** How to reach the endpoint. */
  public record Settings(
      URI endpoint,
      String apiKey,
      Duration timeout,
      int retries,
      Duration backoff,
      Duration cooldown) {
    public Settings {
      Objects.requireNonNull(endpoint, "endpoint is null");
      Objects.requireNonNull(timeout, "timeout is null");
      Objects.requireNonNull(backoff, "backoff is null");
      Objects.requireNonNull(cooldown, "cooldown is null");
      if (retries < 0) {
        throw new IllegalArgumentException("retries cannot be negative: " + retries);
      }
    }

    /**
     * {@code URL} plus {@code endpoint} (default {@code api/v1/lineage}), as OpenLineage's clients
     * read them.
     */
    public static Settings of(String url, String endpoint, String apiKey) {
      String base = url.endsWith("/") ? url : url + "/";
      String path =
          endpoint == null || endpoint.isBlank()
              ? "api/v1/lineage"
              : endpoint.replaceFirst("^/", "");
      return new Settings(
          URI.create(base + path),
          apiKey,
          Duration.ofSeconds(5),
          2,
          Duration.ofMillis(500),
          Duration.ofMinutes(1));
    }
  }

  private enum Outcome {
    SENT,
    REJECTED,
    FAILED
  }

  private final Settings settings;
  private final Path spool;
  private final Path rejected;
  private final Consumer<String> notices;
  private final HttpClient client;

  /**
   * Until when an endpoint that just failed is not tried again: a job pays for a dead endpoint
   * once, not per event.
   */
  private long quietUntilNanos = Long.MIN_VALUE;

  public HttpTransport(Settings settings, Path directory, Consumer<String> notices) {
    this.settings = Objects.requireNonNull(settings, "settings is null");
    this.spool = directory.resolve(SPOOL);
    this.rejected = directory.resolve(REJECTED);
    this.notices = notices;
    this.client = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
  }

  public Path spool() {
    return spool;
  }

  @Override
  public synchronized void emit(String event) {
    List<String> pending = new ArrayList<>(readSpool());
    int spooled = pending.size();
    pending.add(event);
    int done = 0;
    boolean resting = quietUntilNanos != Long.MIN_VALUE && System.nanoTime() - quietUntilNanos < 0;
    for (String next : resting ? List.<String>of() : pending) {
      Outcome outcome = send(next);
      if (outcome == Outcome.FAILED) {
        quietUntilNanos = System.nanoTime() + settings.cooldown().toNanos();
        break;
      }
      if (outcome == Outcome.REJECTED) {
        append(rejected, List.of(next));
      }
      done++;
    }
    if (spooled > 0 && done >= spooled) {
      notices.accept("lineage: sent " + spooled + " spooled event(s) to " + settings.endpoint());
    }
    List<String> left = pending.subList(done, pending.size());
    if (!left.isEmpty() || spooled > 0) {
      writeSpool(left);
    }
    if (!left.isEmpty()) {
      notices.accept(
          "lineage: "
              + settings.endpoint()
              + " did not take the event; "
              + left.size()
              + " event(s) spooled in "
              + spool
              + ", sent with the next job's events");
    }
  }

  private Outcome send(String event) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(settings.endpoint())
            .timeout(settings.timeout())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(event, StandardCharsets.UTF_8));
    if (settings.apiKey() != null && !settings.apiKey().isBlank()) {
      request.header("Authorization", "Bearer " + settings.apiKey());
    }
    for (int attempt = 0; attempt <= settings.retries(); attempt++) {
      if (attempt > 0) {
        try {
          Thread.sleep(settings.backoff().toMillis() * attempt);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Outcome.FAILED;
        }
      }
      try {
        int status =
            client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status / 100 == 2) {
          return Outcome.SENT;
        }
        if (status / 100 == 4 && status != 408 && status != 429) {
          notices.accept(
              "lineage: "
                  + settings.endpoint()
                  + " refused an event with HTTP "
                  + status
                  + "; kept in "
                  + rejected);
          return Outcome.REJECTED;
        }
      } catch (IOException e) {
        // down or timed out: retried, then spooled
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Outcome.FAILED;
      }
    }
    return Outcome.FAILED;
  }

  private List<String> readSpool() {
    try {
      return Files.exists(spool)
          ? Files.readAllLines(spool, StandardCharsets.UTF_8).stream()
              .filter(line -> !line.isBlank())
              .toList()
          : List.of();
    } catch (IOException e) {
      notices.accept("lineage: cannot read the spool " + spool + " (" + e + ")");
      return List.of();
    }
  }

  /**
   * Rewrites the spool whole through a temporary file, so a crash leaves the old or the new one.
   */
  private void writeSpool(List<String> events) {
    try {
      Files.createDirectories(spool.getParent());
      Path temporary = spool.resolveSibling(SPOOL + ".tmp");
      Files.write(temporary, events, StandardCharsets.UTF_8);
      Files.move(
          temporary, spool, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      notices.accept(
          "lineage: cannot write the spool "
              + spool
              + " ("
              + e
              + "); "
              + events.size()
              + " event(s) lost");
    }
  }

  private void append(Path file, List<String> events) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(
          file,
          events,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      notices.accept("lineage: cannot write " + file + " (" + e + ")");
    }
  }
}
