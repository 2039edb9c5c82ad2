package kiln.llm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import kiln.llm.EngineConfig;

/**
 * An OpenAI-compatible {@code /chat/completions} endpoint. Up to {@code concurrency} requests are
 * in flight (per partition); 429, 5xx, timeouts and broken connections are retried with exponential
 * backoff and full jitter, waiting at least what {@code Retry-After} asks; other 4xx and malformed
 * answers fail their row at once. Token counts come from the answer's {@code usage}.
 */
public final class OpenAiEngine implements Engine, AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A Retry-After longer than this fails the row rather than stall the partition. */
  private static final long MAX_RETRY_AFTER_MILLIS = 120_000;

  private final EngineConfig config;
  private final String apiKey;
  private final String authorization;
  private final HttpClient http;
  private final ExecutorService pool;
  private final URI endpoint;
  private final JsonNode responseFormat;

  /**
   * {@code apiKey} may be null (servers without keys); it is only ever put in the Authorization
   * header.
   */
  public OpenAiEngine(EngineConfig config, String apiKey) {
    this(config, apiKey, null);
  }

  /**
   * With a schema, every request asks for JSON that keeps to it ({@code response_format} of type
   * {@code json_schema}, which OpenAI, vLLM, llama-server and Ollama take); the answers are still
   * validated by the LLM stage, since an endpoint may ignore it.
   */
  public OpenAiEngine(EngineConfig config, String apiKey, OutputSchema schema) {
    this.config = config;
    this.responseFormat = schema == null ? null : responseFormat(schema);
    this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
    this.authorization = this.apiKey == null ? null : "Bearer " + this.apiKey;
    this.endpoint = URI.create(config.baseUrl() + "/chat/completions");
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(Math.min(10, config.timeoutSeconds())))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    this.pool =
        Executors.newFixedThreadPool(
            config.concurrency(),
            r -> {
              Thread t = new Thread(r, "kiln-openai");
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public List<Completion> complete(List<String> prompts) {
    List<Future<Completion>> futures = new ArrayList<>(prompts.size());
    for (String prompt : prompts) {
      futures.add(pool.submit(() -> one(prompt)));
    }
    List<Completion> answers = new ArrayList<>(prompts.size());
    for (Future<Completion> f : futures) {
      try {
        answers.add(f.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for completions", e);
      } catch (ExecutionException e) {
        answers.add(Completion.failed("internal error: " + e.getCause(), 0, 0));
      }
    }
    return answers;
  }

  /**
   * One prompt's answer. An endpoint's error text is its own (a proxy may echo the Authorization
   * header, a provider the account's e-mail): the key this engine sends, and every secret this JVM
   * was given, are masked before the text becomes the row's error; the job's PII redaction follows
   * (LeakScan).
   */
  Completion one(String prompt) {
    Completion c = request(prompt);
    if (c.error() == null) {
      return c;
    }
    return c.withError(masked(c.error()));
  }

  /** {@code text} without this engine's key (at any length) nor a remembered secret. */
  String masked(String text) {
    String out = apiKey == null ? text : text.replace(apiKey, kiln.core.Secrets.MASK);
    return kiln.core.Secrets.redact(out);
  }

  private Completion request(String prompt) {
    long start = System.nanoTime();
    if (prompt == null) {
      return Completion.failed(Completion.NO_TEXT, 0, 0);
    }
    String body = requestBody(prompt);
    String lastError = null;
    for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
      long retryAfter = -1;
      try {
        HttpRequest.Builder request =
            HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofSeconds(config.timeoutSeconds()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
          request.header("Authorization", authorization);
        }
        HttpResponse<String> response =
            http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status == 200) {
          return parse(response.body(), millisSince(start), attempt);
        }
        lastError = "HTTP " + status + errorMessage(response.body());
        if (status != 429 && status < 500) {
          return Completion.failed(lastError, millisSince(start), attempt);
        }
        retryAfter = retryAfterMillis(response.headers().firstValue("Retry-After"));
        if (retryAfter > MAX_RETRY_AFTER_MILLIS) {
          return Completion.failed(
              lastError
                  + "; Retry-After asks for "
                  + retryAfter / 1000
                  + " s, more than Kiln waits",
              millisSince(start),
              attempt);
        }
      } catch (HttpTimeoutException e) {
        lastError = "no answer within " + config.timeoutSeconds() + " s";
      } catch (IOException e) {
        lastError =
            "connection failed: "
                + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : " " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Completion.failed("interrupted", millisSince(start), attempt);
      }
      if (attempt < config.maxAttempts()) {
        // full jitter over an exponentially growing window, but never shorter than Retry-After
        long window = (long) config.backoffMillis() << Math.min(attempt - 1, 16);
        long wait =
            Math.max(retryAfter, ThreadLocalRandom.current().nextLong(window / 2, window + 1));
        try {
          Thread.sleep(wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Completion.failed("interrupted", millisSince(start), attempt);
        }
      }
    }
    return Completion.failed(
        lastError + " (after " + config.maxAttempts() + " attempts)",
        millisSince(start),
        config.maxAttempts());
  }

  private String requestBody(String prompt) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", config.model());
    body.putArray("messages").addObject().put("role", "user").put("content", prompt);
    body.put("temperature", config.temperature());
    body.put("max_tokens", config.maxTokens());
    if (config.seed() != null) {
      body.put("seed", config.seed());
    }
    if (responseFormat != null) {
      body.set("response_format", responseFormat);
    }
    return body.toString();
  }

  private static JsonNode responseFormat(OutputSchema schema) {
    ObjectNode format = JSON.createObjectNode().put("type", "json_schema");
    ObjectNode spec = format.putObject("json_schema").put("name", "kiln_output");
    try {
      spec.set("schema", JSON.readTree(schema.text()));
    } catch (IOException e) {
      throw new IllegalStateException("the saved JSON schema is not JSON", e);
    }
    return format;
  }

  private static Completion parse(String body, long latency, int attempts) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      return Completion.failed(
          "malformed response: not JSON (" + shorten(body, 80) + ")", latency, attempts);
    }
    JsonNode choice = root == null ? null : root.path("choices").path(0);
    JsonNode content = choice == null ? null : choice.path("message").path("content");
    if (content == null || !content.isTextual()) {
      return Completion.failed(
          "malformed response: no choices[0].message.content", latency, attempts);
    }
    JsonNode usage = root.path("usage");
    Integer promptTokens =
        usage.path("prompt_tokens").isInt() ? usage.path("prompt_tokens").asInt() : null;
    Integer completionTokens =
        usage.path("completion_tokens").isInt() ? usage.path("completion_tokens").asInt() : null;
    String finish =
        choice.path("finish_reason").isTextual() ? choice.path("finish_reason").asText() : null;
    return new Completion(
        content.asText(), promptTokens, completionTokens, finish, latency, attempts, null);
  }

  private static String errorMessage(String body) {
    try {
      JsonNode message = JSON.readTree(body).path("error").path("message");
      return message.isTextual() ? ": " + shorten(message.asText(), 200) : "";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  static long retryAfterMillis(Optional<String> header) {
    if (header.isEmpty()) {
      return -1;
    }
    try {
      return (long) (Double.parseDouble(header.get().trim()) * 1000);
    } catch (NumberFormatException e) {
      try {
        java.time.ZonedDateTime at =
            java.time.ZonedDateTime.parse(
                header.get().trim(), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
        return Math.max(0, Duration.between(java.time.Instant.now(), at.toInstant()).toMillis());
      } catch (java.time.format.DateTimeParseException ignored) {
        return -1;
      }
    }
  }

  private static String shorten(String text, int max) {
    String flat = text == null ? "" : text.replaceAll("\\s+", " ");
    return flat.length() <= max ? flat : flat.substring(0, max) + "...";
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
