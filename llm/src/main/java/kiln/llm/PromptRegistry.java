package kiln.llm;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.core.tracking.Tracking;
import kiln.core.tracking.TrackingException;
import kiln.core.tracking.internal.RestClient;

/**
 * Versioned prompts in the MLflow model registry, stored as MLflow 3's Prompt Registry stores them:
 * a registered model tagged {@code mlflow.prompt.is_prompt=true}, each version a model version
 * tagged {@code mlflow.prompt.text=<template>}, so MLflow's own UI and clients see them as prompts.
 * Versions and aliases go through core's {@link Tracking}; the registered model's tag, which {@code
 * Tracking} does not cover, through MLflow's REST API with the same credentials.
 */
public final class PromptRegistry {
  public static final String IS_PROMPT = "mlflow.prompt.is_prompt";
  public static final String TEXT = "mlflow.prompt.text";

  /** MLflow's limit on a tag value, which holds the template. */
  public static final int MAX_TEMPLATE_LENGTH = 5000;

  private final Tracking tracking;
  private final RestClient rest;

  public PromptRegistry(Tracking tracking, Map<String, String> env) {
    this.tracking = tracking;
    this.rest =
        new RestClient(
            URI.create(tracking.uri()),
            RestClient.authorization(
                env.get("MLFLOW_TRACKING_USERNAME"),
                env.get("MLFLOW_TRACKING_PASSWORD"),
                env.get("MLFLOW_TRACKING_TOKEN")),
            3,
            Duration.ofMillis(250),
            notice -> {});
  }

  /** Registers a new version of the prompt (creating the prompt if needed); returns it. */
  public Prompt register(String name, String template) {
    new PromptRef(name, "1", null); // validates the name
    PromptTemplate parsed = new PromptTemplate(template);
    if (template.length() > MAX_TEMPLATE_LENGTH) {
      throw Errors.badInput(
          "the template of prompt "
              + name
              + " has "
              + template.length()
              + " characters; MLflow keeps at most "
              + MAX_TEMPLATE_LENGTH
              + " in a tag",
          "shorten the template");
    }
    Optional<Map<String, String>> existing = modelTags(name);
    if (existing.isPresent() && !"true".equals(existing.get().get(IS_PROMPT))) {
      throw Errors.badInput(
          "'" + name + "' is a registered model that is not a prompt",
          "choose another name for the prompt");
    }
    Tracking.ModelVersion version =
        tracking.registerModel(
            name, "prompts:/" + name, null, Map.of(TEXT, template, IS_PROMPT, "true"));
    if (existing.isEmpty()) {
      call(
          "tag " + name + " as a prompt",
          () ->
              rest.post(
                  "registered-models/set-tag",
                  Map.of("name", name, "key", IS_PROMPT, "value", "true")));
    }
    return new Prompt(name, version.version(), parsed);
  }

  /** Points an alias at a version. */
  public void setAlias(String name, String alias, String version) {
    load(new PromptRef(name, version, null));
    tracking.setAlias(name, alias, version);
  }

  /** The prompt version a reference names; a clear error listing what exists when it does not. */
  public Prompt load(PromptRef ref) {
    Optional<Tracking.ModelVersion> found =
        ref.version() != null
            ? tracking.modelVersion(ref.name(), ref.version())
            : tracking.versionByAlias(ref.name(), ref.alias());
    if (found.isEmpty()) {
      List<Tracking.ModelVersion> versions = tracking.modelVersions(ref.name());
      if (versions.isEmpty()) {
        throw Errors.badInput(
            "prompt " + ref.name() + " does not exist in the registry at " + tracking.uri(),
            "register it first: kiln llm prompts register --name "
                + ref.name()
                + " --template FILE");
      }
      String have =
          versions.stream().map(Tracking.ModelVersion::version).collect(Collectors.joining(", "));
      Map<String, String> aliases = tracking.aliases(ref.name());
      throw Errors.badInput(
          ref.version() != null
              ? "prompt "
                  + ref.name()
                  + " has no version "
                  + ref.version()
                  + "; it has versions "
                  + have
              : "prompt "
                  + ref.name()
                  + " has no alias '"
                  + ref.alias()
                  + "'; its aliases are "
                  + (aliases.isEmpty() ? "none" : aliases.toString()),
          "use one of those, or register a new version");
    }
    Tracking.ModelVersion version = found.get();
    String text = version.tags().get(TEXT);
    if (text == null) {
      throw Errors.badInput(
          "version "
              + version.version()
              + " of registered model "
              + ref.name()
              + " is not a prompt (it has no "
              + TEXT
              + " tag)",
          "name a prompt registered with `kiln llm prompts register`");
    }
    return new Prompt(ref.name(), version.version(), new PromptTemplate(text));
  }

  /** Every version of a prompt, oldest first. */
  public List<Prompt> versions(String name) {
    return tracking.modelVersions(name).stream()
        .filter(v -> v.tags().containsKey(TEXT))
        .map(v -> new Prompt(name, v.version(), new PromptTemplate(v.tags().get(TEXT))))
        .toList();
  }

  /** A prompt in the registry: its versions, oldest first, and its aliases (alias to version). */
  public record Listing(String name, List<Prompt> versions, Map<String, String> aliases) {}

  /**
   * Every prompt in the registry, by name: the registered models tagged {@code
   * mlflow.prompt.is_prompt=true} (other registered models are models, not prompts).
   */
  public List<Listing> list() {
    List<String> names = new java.util.ArrayList<>();
    try {
      String token = null;
      do {
        Map<String, String> query = new java.util.LinkedHashMap<>();
        query.put("max_results", "1000");
        if (token != null) {
          query.put("page_token", token);
        }
        com.fasterxml.jackson.databind.JsonNode page = rest.get("registered-models/search", query);
        for (com.fasterxml.jackson.databind.JsonNode model : page.path("registered_models")) {
          for (com.fasterxml.jackson.databind.JsonNode tag : model.path("tags")) {
            if (IS_PROMPT.equals(tag.path("key").asText())
                && "true".equals(tag.path("value").asText())) {
              names.add(model.path("name").asText());
            }
          }
        }
        token = page.path("next_page_token").asText("");
      } while (!token.isEmpty());
    } catch (TrackingException e) {
      throw Errors.environment(
          "cannot list the registered models at " + tracking.uri() + ": " + e.getMessage(),
          advice(e, "GET registered-models/search (max_results=1000, no filter)"));
    }
    return names.stream()
        .sorted()
        .map(name -> new Listing(name, versions(name), tracking.aliases(name)))
        .toList();
  }

  /** A prompt's aliases (alias to version). */
  public Map<String, String> aliases(String name) {
    return tracking.aliases(name);
  }

  private Optional<Map<String, String>> modelTags(String name) {
    try {
      Map<String, String> tags = new java.util.LinkedHashMap<>();
      rest.get("registered-models/get", Map.of("name", name))
          .path("registered_model")
          .path("tags")
          .forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
      return Optional.of(tags);
    } catch (TrackingException e) {
      if (!e.unreachable()
          && (e.getMessage().contains("RESOURCE_DOES_NOT_EXIST")
              || e.getMessage().contains("HTTP 404"))) {
        return Optional.empty();
      }
      throw Errors.environment(
          "cannot read registered model " + name + ": " + e.getMessage(),
          advice(e, "GET registered-models/get (name=" + name + ")"));
    }
  }

  /**
   * What to do about a failed {@code request}, from the answer's HTTP status: "start the server"
   * fits only when no answer came back.
   */
  private String advice(TrackingException e, String request) {
    int status = e.status();
    String server = "the tracking server at " + tracking.uri();
    if (status == 400) {
      return server
          + " rejected the request "
          + request
          + " as bad (HTTP 400): likely an MLflow version without the model registry's prompt"
          + " support or a filter it does not accept; check the server's MLflow version (prompts"
          + " need MLflow 3, or `kiln server`) and the request";
    } else if (status == 401 || status == 403) {
      return server
          + " refused the credentials (HTTP "
          + status
          + "): set MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME and"
          + " MLFLOW_TRACKING_PASSWORD) to ones it accepts";
    } else if (status == 404) {
      return server
          + " has no endpoint for "
          + request
          + " (HTTP 404): check that the tracking URI is the server's base URL (scheme, host,"
          + " port, no /api path) and that the server has the model registry";
    } else if (status >= 500) {
      return server
          + " failed (HTTP "
          + status
          + "): see the server's log, then run the command again";
    } else if (status != 0) {
      return server + " refused " + request + " (HTTP " + status + "): see its message above";
    }
    return "start the tracking server or check the tracking URI";
  }

  private void call(String what, Runnable request) {
    try {
      request.run();
    } catch (TrackingException e) {
      throw Errors.environment(
          "cannot " + what + ": " + e.getMessage(),
          "check the tracking server, then register again");
    }
  }
}
