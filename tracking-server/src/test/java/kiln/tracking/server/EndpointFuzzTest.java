package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.tracking.MlflowClient;
import org.mlflow_project.google.protobuf.Descriptors.FieldDescriptor;
import org.mlflow_project.google.protobuf.Message;

/**
 * Issue 17, item 6: every API route the server has (read from its routing table, so a new route is
 * covered without editing this test) is sent malformed JSON, bodies that are not objects, deep
 * nesting, huge numbers and strings, and every field of its request with values of the wrong type,
 * top-level and inside nested messages. No answer may be a 5xx; every refusal is MLflow's error
 * JSON ({@code error_code}, {@code message}) without a stack trace or a Java class name.
 */
class EndpointFuzzTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  @TempDir static Path store;

  private static TrackingServer server;
  private static Http http;
  private static Map<String, String> valid;

  @BeforeAll
  static void start() {
    server =
        TestServers.start(
            TrackingServer.builder().storeDirectory(store).maxRequestBytes(256 * 1024));
    http = new Http(server.uri());
    try (MlflowClient client = TestServers.client(server)) {
      String experimentId = client.createExperiment("fuzzed");
      String runId = client.createRun(experimentId).getRunId();
      client.logParam(runId, "p", "1");
      client.sendPost("registered-models/create", "{\"name\":\"model\"}");
      client.sendPost(
          "model-versions/create",
          "{\"name\":\"model\",\"source\":\"runs:/"
              + runId
              + "/model\",\"run_id\":\""
              + runId
              + "\"}");
      // real ids, so that a bad field is judged past the lookups of the others
      valid =
          Map.of(
              "experiment_id",
              experimentId,
              "run_id",
              runId,
              "run_uuid",
              runId,
              "name",
              "model",
              "version",
              "1",
              "key",
              "p",
              "experiment_ids",
              experimentId,
              "metric_key",
              "m",
              "alias",
              "champion",
              "source",
              "runs:/" + runId + "/model");
    }
  }

  @AfterAll
  static void stop() {
    long start = System.nanoTime();
    server.close();
    System.out.printf("[fuzz] server closed in %.1f s%n", (System.nanoTime() - start) / 1e9);
  }

  /** Values of every JSON type, and extremes of each, for any field whatever its type. */
  private static List<JsonNode> wrongValues() {
    ArrayNode nestedArray =
        NODES.arrayNode().add(1).add(NODES.objectNode().set("a", NODES.arrayNode()));
    return List.of(
        NODES.objectNode().put("x", 1),
        nestedArray,
        NODES.textNode("zz"),
        NODES.textNode(""),
        NODES.textNode("\u0000\uFFFF'\";--"),
        NODES.textNode("x".repeat(40_000)),
        NODES.numberNode(new java.math.BigDecimal("1e400")),
        NODES.numberNode(new java.math.BigInteger("-92233720368547758090")),
        NODES.numberNode(-1),
        NODES.numberNode(1.5),
        NODES.booleanNode(true),
        NODES.nullNode());
  }

  private static final List<String> MALFORMED =
      List.of(
          "{",
          "{\"name\": ",
          "not json",
          "[]",
          "[1, 2]",
          "\"text\"",
          "null",
          "123",
          "true",
          "{\"a\":1}}",
          "{\"a\":1,\"a\":2}",
          "{'single': 'quotes'}",
          "{\"x\": NaNa}",
          "\u0000\u0001\u0002",
          "{\"x\":" + "9".repeat(5_000) + "}",
          "{\"x\":" + "[".repeat(5_000) + "]".repeat(5_000) + "}",
          "{\"a\":".repeat(3_000) + "1" + "}".repeat(3_000));

  private final List<String> failures = new ArrayList<>();
  private int requests;
  private int jdkRefusals;

  @Test
  void noEndpointAnswersAnyBadRequestWithA5xxOrAStackTrace() throws Exception {
    Map<String, Message> endpoints = server.endpoints();
    assertThat(endpoints).hasSizeGreaterThan(40);
    for (Map.Entry<String, Message> endpoint : endpoints.entrySet()) {
      String method = endpoint.getKey().substring(0, endpoint.getKey().indexOf(' '));
      String path = endpoint.getKey().substring(endpoint.getKey().indexOf(' ') + 1);
      Message prototype = endpoint.getValue();
      if (method.equals("GET")) {
        fuzzQuery(path, prototype);
      } else {
        fuzzBody(method, path, prototype);
      }
    }
    fuzzArtifacts();
    System.out.printf(
        "[fuzz] %d endpoints, %d requests, %d refused by the JDK's HTTP server before Kiln's"
            + " handler (a request target that is no URI)%n",
        endpoints.size(), requests, jdkRefusals);
    assertThat(failures)
        .as("requests answered with a 5xx or without MLflow's error JSON")
        .isEmpty();
    assertThat(http.send("GET", "/health", null).body()).isEqualTo("OK");
    // an artifact path of any depth once made as many nested directories
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(server.artifactRoot())) {
      assertThat(
              files
                  .mapToInt(f -> server.artifactRoot().relativize(f).getNameCount())
                  .max()
                  .orElse(0))
          .isLessThanOrEqualTo(70);
    }
  }

  private void fuzzBody(String method, String path, Message prototype) throws Exception {
    for (String body : MALFORMED) {
      check(method, "/api/2.0/mlflow/" + path, body.getBytes(StandardCharsets.UTF_8));
    }
    // bytes that are not UTF-8
    check(method, "/api/2.0/mlflow/" + path, new byte[] {'{', '"', (byte) 0xC3, 0x28, '"', '}'});
    for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
      for (JsonNode wrong : wrongValues()) {
        ObjectNode body = base(prototype);
        body.set(field.getName(), wrong);
        check(method, "/api/2.0/mlflow/" + path, MAPPER.writeValueAsBytes(body));
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          for (FieldDescriptor inner : field.getMessageType().getFields()) {
            ObjectNode element = NODES.objectNode();
            for (FieldDescriptor sibling : field.getMessageType().getFields()) {
              element.put(sibling.getName(), sibling.getName().equals("value") ? "1" : "k");
            }
            element.set(inner.getName(), wrong);
            ObjectNode nested = base(prototype);
            nested.set(
                field.getName(), field.isRepeated() ? NODES.arrayNode().add(element) : element);
            check(method, "/api/2.0/mlflow/" + path, MAPPER.writeValueAsBytes(nested));
          }
        }
      }
    }
  }

  private void fuzzQuery(String path, Message prototype) throws Exception {
    List<String> values =
        List.of("", "zz", "-1", "1.5", "99999999999999999999999", "%ZZ", "%00", "x".repeat(6_000));
    for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
      for (String value : values) {
        StringBuilder query = new StringBuilder();
        for (FieldDescriptor other : prototype.getDescriptorForType().getFields()) {
          String v =
              other == field
                  ? (value.startsWith("%")
                      ? value
                      : URLEncoder.encode(value, StandardCharsets.UTF_8))
                  : URLEncoder.encode(
                      valid.getOrDefault(other.getName(), "1"), StandardCharsets.UTF_8);
          query
              .append(query.length() == 0 ? "?" : "&")
              .append(other.getName())
              .append('=')
              .append(v);
        }
        check("GET", "/api/2.0/mlflow/" + path + query, null);
      }
    }
    for (String body : MALFORMED) {
      check("GET", "/api/2.0/mlflow/" + path, body.getBytes(StandardCharsets.UTF_8));
    }
  }

  private void fuzzArtifacts() {
    String root = "/api/2.0/mlflow-artifacts/artifacts";
    for (String method : List.of("GET", "PUT", "DELETE", "POST", "PATCH")) {
      for (String rest :
          List.of(
              "",
              "/",
              "/%ZZ",
              "/%00",
              "/a/../../etc/passwd",
              "/..%2F..%2Fetc",
              "/" + "d/".repeat(2_000) + "f",
              "/missing/file.txt",
              "/1/" + "r".repeat(32) + "/artifacts/" + "n".repeat(300),
              "/1/" + "r".repeat(32) + "/artifacts/" + "d/".repeat(70) + "f",
              "?path=%ZZ",
              "?path=../../x",
              "?path=" + "x".repeat(6_000))) {
        check(method, root + rest, method.equals("PUT") ? new byte[] {1, 2, 3} : null);
      }
    }
  }

  private ObjectNode base(Message prototype) {
    ObjectNode body = NODES.objectNode();
    for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
      String value = valid.get(field.getName());
      if (value != null && field.getJavaType() == FieldDescriptor.JavaType.STRING) {
        if (field.isRepeated()) {
          body.set(field.getName(), NODES.arrayNode().add(value));
        } else {
          body.put(field.getName(), value);
        }
      }
    }
    return body;
  }

  private void check(String method, String target, byte[] body) {
    requests++;
    Http.Response response = http.raw(method, target, body);
    String where = method + " " + abbreviate(target) + " " + abbreviate(body);
    if (response.status() >= 500) {
      failures.add(response.status() + " for " + where + ": " + abbreviate(response.body()));
      return;
    }
    if (response.status() == 400
        && response.body().equals("<h1>400 Bad Request</h1>URISyntaxException thrown")
        && target.matches(".*%(ZZ|2F).*")) {
      // a request line that is no URI never reaches Kiln's handler: the JDK's HTTP server refuses
      // it with this fixed page (no stack trace, nothing of the store); RELIABILITY.md says so
      jdkRefusals++;
      return;
    }
    if (response.status() >= 400) {
      JsonNode error;
      try {
        error = MAPPER.readTree(response.body());
      } catch (Exception e) {
        failures.add("not JSON for " + where + ": " + abbreviate(response.body()));
        return;
      }
      String message = error == null ? "" : error.path("message").asText();
      if (error == null
          || error.path("error_code").asText().isBlank()
          || message.isBlank()
          || message.contains("\tat ")
          || message.contains("Exception")
          || message.contains("java.")) {
        failures.add("bad error JSON for " + where + ": " + abbreviate(response.body()));
      }
    }
  }

  private static String abbreviate(Object text) {
    String s =
        text == null
            ? ""
            : text instanceof byte[] bytes
                ? new String(bytes, StandardCharsets.UTF_8)
                : text.toString();
    return s.length() > 160 ? s.substring(0, 160) + "...(" + s.length() + " chars)" : s;
  }
}
