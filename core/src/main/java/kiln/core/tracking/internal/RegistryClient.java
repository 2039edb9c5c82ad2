package kiln.core.tracking.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;
import kiln.core.Errors;
import kiln.core.tracking.Tracking.ModelVersion;
import kiln.core.tracking.TrackingException;

/**
 * MLflow's model registry over REST. Registry calls decide promotions: they are never spooled, and
 * an unreachable server or a refusal fails the command.
 */
public final class RegistryClient {
  private final RestClient rest;

  public RegistryClient(RestClient rest) {
    this.rest = rest;
  }

  public ModelVersion registerModel(
      String name, String source, String runId, Map<String, String> tags) {
    return call(
        "register a version of model " + name,
        () -> {
          try {
            rest.post("registered-models/create", Map.of("name", name));
          } catch (TrackingException e) {
            if (e.unreachable() || !e.getMessage().contains("RESOURCE_ALREADY_EXISTS")) {
              throw e;
            }
          }
          // model-versions/create has no idempotency key: a retry of an attempt whose answer was
          // lost would make a second version of the same model; each registration carries its
          // own id, which the retry looks for first
          String registration = UUID.randomUUID().toString();
          List<Map<String, String>> tagList = new ArrayList<>();
          tags.forEach((k, v) -> tagList.add(Map.of("key", k, "value", v)));
          tagList.add(Map.of("key", REGISTRATION_ID, "value", registration));
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("name", name);
          body.put("source", source);
          if (runId != null) {
            body.put("run_id", runId);
          }
          body.put("tags", tagList);
          return modelVersion(
              rest.post("model-versions/create", body, () -> registered(registration))
                  .path("model_version"));
        });
  }

  /** The tag that names a registration, so that a retry finds the version it made. */
  public static final String REGISTRATION_ID = "kiln.registrationId";

  /** The version this registration made, as model-versions/create answers; null if none. */
  private JsonNode registered(String registration) {
    JsonNode found =
        rest.getOnce(
                "model-versions/search",
                Map.of("filter", "tags.`" + REGISTRATION_ID + "` = '" + registration + "'"))
            .path("model_versions");
    if (found.size() == 0) {
      return null;
    }
    ObjectNode answer = RestClient.JSON.createObjectNode();
    answer.set("model_version", found.get(0));
    return answer;
  }

  public void setAlias(String name, String alias, String version) {
    call(
        "set alias " + alias + " of model " + name,
        () ->
            rest.post(
                "registered-models/alias",
                Map.of("name", name, "alias", alias, "version", version)));
  }

  public void deleteAlias(String name, String alias) {
    call(
        "delete alias " + alias + " of model " + name,
        () -> rest.delete("registered-models/alias", Map.of("name", name, "alias", alias)));
  }

  public Optional<ModelVersion> versionByAlias(String name, String alias) {
    return call(
        "read alias " + alias + " of model " + name,
        () -> {
          try {
            return unlessNotFound(
                () ->
                    modelVersion(
                        rest.get("registered-models/alias", Map.of("name", name, "alias", alias))
                            .path("model_version")));
          } catch (TrackingException e) {
            // a real MLflow server (2.x and 3.x) answers an alias the model does not have with HTTP
            // 400
            // INVALID_PARAMETER_VALUE "Registered model alias X not found.", not with
            // RESOURCE_DOES_NOT_EXIST
            if (!e.unreachable()
                && e.getMessage().contains("INVALID_PARAMETER_VALUE")
                && e.getMessage().contains("alias " + alias + " not found")) {
              return Optional.empty();
            }
            throw e;
          }
        });
  }

  public Optional<ModelVersion> modelVersion(String name, String version) {
    return call(
        "read version " + version + " of model " + name,
        () ->
            unlessNotFound(
                () ->
                    modelVersion(
                        rest.get("model-versions/get", Map.of("name", name, "version", version))
                            .path("model_version"))));
  }

  /** Every version of a model, oldest first. */
  public List<ModelVersion> modelVersions(String name) {
    return call(
        "list the versions of model " + name,
        () -> {
          List<ModelVersion> versions = new ArrayList<>();
          pages(
              "model-versions/search",
              Map.of("filter", "name = '" + name.replace("'", "\\'") + "'"),
              page -> page.path("model_versions").forEach(v -> versions.add(modelVersion(v))));
          versions.sort(Comparator.comparingLong(v -> parseVersion(v.version())));
          return versions;
        });
  }

  public List<String> registeredModels() {
    return call(
        "list the registered models",
        () -> {
          List<String> names = new ArrayList<>();
          pages(
              "registered-models/search",
              Map.of(),
              page ->
                  page.path("registered_models").forEach(m -> names.add(m.path("name").asText())));
          names.sort(null);
          return names;
        });
  }

  public Map<String, String> aliases(String name) {
    return call(
        "read the aliases of model " + name,
        () -> {
          Map<String, String> aliases = new TreeMap<>();
          unlessNotFound(
                  () ->
                      rest.get("registered-models/get", Map.of("name", name))
                          .path("registered_model")
                          .path("aliases"))
              .ifPresent(
                  list ->
                      list.forEach(
                          a -> aliases.put(a.path("alias").asText(), a.path("version").asText())));
          return aliases;
        });
  }

  /** Reads every page of a search, a thousand results at a time. */
  private void pages(String endpoint, Map<String, String> query, Consumer<JsonNode> each) {
    String token = null;
    do {
      Map<String, String> pageQuery = new LinkedHashMap<>(query);
      pageQuery.put("max_results", "1000");
      if (token != null) {
        pageQuery.put("page_token", token);
      }
      JsonNode page = rest.get(endpoint, pageQuery);
      each.accept(page);
      token = page.path("next_page_token").asText("");
    } while (!token.isEmpty());
  }

  private static <T> Optional<T> unlessNotFound(Supplier<T> request) {
    try {
      return Optional.of(request.get());
    } catch (TrackingException e) {
      if (!e.unreachable()
          && (e.getMessage().contains("RESOURCE_DOES_NOT_EXIST")
              || e.getMessage().contains("HTTP 404"))) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private static long parseVersion(String version) {
    try {
      return Long.parseLong(version);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  private static ModelVersion modelVersion(JsonNode node) {
    Map<String, String> tags = new LinkedHashMap<>();
    node.path("tags").forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
    return new ModelVersion(
        node.path("name").asText(),
        node.path("version").asText(),
        node.path("source").asText(),
        node.path("run_id").asText(null),
        tags,
        node.path("current_stage").asText("None"));
  }

  /** Turns a failed call into a message that says what the command was doing. */
  static <T> T call(String what, Supplier<T> request) {
    try {
      return request.get();
    } catch (TrackingException e) {
      throw Errors.environment(
          "cannot " + what + ": " + e.getMessage(),
          e.unreachable()
              ? "start the tracking server or check the tracking URI, then run the command again"
              : "check the model name, version and alias");
    }
  }
}
