package kiln.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible chat-completions server on a loopback port, for tests. What it does is
 * steered by markers in the prompt: {@code [429xN]} answers 429 (with Retry-After: 0) the first N
 * times, {@code [500xN]} answers 500 the first N times, {@code [500]} always, {@code [slow]}
 * answers after 3 s, {@code [malformed]} answers a body that is not JSON, {@code [nochoices]} JSON
 * without choices, {@code [leak]} an answer holding an e-mail address and a phone number (a model
 * repeating or making up personal data), {@code [json]} the prompt's text after the marker, as it
 * is (a model answering JSON, valid or not), {@code [echo]} a 400 whose error text echoes the
 * Authorization header and an account's e-mail and phone; {@code /v1/models} refuses the key {@code
 * sk-refused}; otherwise it answers {@code "echo: " + the prompt's last 40 characters} with usage
 * counted in words.
 */
final class FakeOpenAi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;
  final List<String> prompts = new CopyOnWriteArrayList<>();
  final List<String> authorizations = new CopyOnWriteArrayList<>();

  /** Each request's {@code response_format}, as JSON text ("" when it had none). */
  final List<String> responseFormats = new CopyOnWriteArrayList<>();

  final AtomicInteger requests = new AtomicInteger();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();
  private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();

  FakeOpenAi() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/chat/completions", this::handle);
    server.createContext(
        "/v1/models",
        exchange -> {
          // refuses one key, so that the job's check of the key before the run can be seen
          boolean refused =
              "Bearer sk-refused".equals(exchange.getRequestHeaders().getFirst("Authorization"));
          send(
              exchange,
              refused ? 401 : 200,
              refused ? "{\"error\":{\"message\":\"bad key\"}}" : "{\"data\":[]}");
        });
    server.setExecutor(Executors.newFixedThreadPool(16));
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  private void handle(HttpExchange exchange) throws IOException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      requests.incrementAndGet();
      JsonNode request = JSON.readTree(exchange.getRequestBody());
      String prompt = request.path("messages").path(0).path("content").asText();
      prompts.add(prompt);
      responseFormats.add(
          request.has("response_format") ? request.get("response_format").toString() : "");
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      authorizations.add(auth == null ? "" : auth);
      int count = seen.computeIfAbsent(prompt, p -> new AtomicInteger()).incrementAndGet();
      java.util.regex.Matcher failN =
          java.util.regex.Pattern.compile("\\[(429|500)x(\\d+)]").matcher(prompt);
      if (failN.find() && count <= Integer.parseInt(failN.group(2))) {
        exchange.getResponseHeaders().add("Retry-After", "0");
        send(exchange, Integer.parseInt(failN.group(1)), "{\"error\":{\"message\":\"try again\"}}");
        return;
      }
      if (prompt.contains("[echo]")) {
        // a proxy echoing the request's key, and the account's contact, in its error text
        send(
            exchange,
            400,
            JSON.createObjectNode()
                .set(
                    "error",
                    JSON.createObjectNode()
                        .put(
                            "message",
                            "key "
                                + auth
                                + " of account owner ops.lead@example.com (+44 20 7946 0958)"
                                + " may not use this model"))
                .toString());
        return;
      }
      if (prompt.contains("[500]")) {
        send(exchange, 500, "{\"error\":{\"message\":\"overloaded\"}}");
        return;
      }
      if (prompt.contains("[slow]")) {
        Thread.sleep(3_000);
      }
      if (prompt.contains("[malformed]")) {
        send(exchange, 200, "<html>gateway</html>");
        return;
      }
      if (prompt.contains("[nochoices]")) {
        send(exchange, 200, "{\"id\":\"x\",\"choices\":[]}");
        return;
      }
      String tail = prompt.length() <= 40 ? prompt : prompt.substring(prompt.length() - 40);
      boolean asked = prompt.contains("[json]");
      if (asked) {
        tail = prompt.substring(prompt.indexOf("[json]") + "[json]".length());
      }
      if (prompt.contains("[leak]")) {
        tail = "write to leak.test@example.com or call +44 20 7946 0958";
      }
      ObjectNode answer = JSON.createObjectNode();
      answer
          .put("id", "chatcmpl-test")
          .put("object", "chat.completion")
          .put("model", request.path("model").asText());
      ObjectNode choice = answer.putArray("choices").addObject();
      choice.put("index", 0).put("finish_reason", "stop");
      choice
          .putObject("message")
          .put("role", "assistant")
          .put("content", asked ? tail : "echo: " + tail);
      int words = prompt.split("\\s+").length;
      answer
          .putObject("usage")
          .put("prompt_tokens", words)
          .put("completion_tokens", 3)
          .put("total_tokens", words + 3);
      send(exchange, 200, answer.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
