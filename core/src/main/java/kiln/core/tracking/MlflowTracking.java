package kiln.core.tracking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.tracking.internal.RestClient;
import kiln.core.tracking.internal.Sender;

/**
 * {@link Tracking} against any MLflow server over its REST API. When the server cannot be reached
 * (after bounded retries with backoff) the job goes on: what could not be sent is spooled to a file in
 * {@code spoolDirectory}, which {@link #replay} (the {@code kiln tracking replay} command) sends later.
 */
public final class MlflowTracking implements Tracking {
  static final ObjectMapper JSON = new ObjectMapper();

  private final Sender sender;
  private final Path spoolDirectory;
  private final Consumer<String> notices;
  private Path spool;
  private int spooled;

  MlflowTracking(RestClient rest, Path spoolDirectory, Consumer<String> notices) {
    this.sender = new Sender(rest);
    this.spoolDirectory = spoolDirectory;
    this.notices = notices;
  }

  /**
   * Connects to {@code uri} with credentials from {@code MLFLOW_TRACKING_USERNAME}/{@code _PASSWORD} or
   * {@code MLFLOW_TRACKING_TOKEN} in {@code env}. Nothing is sent until a run starts.
   */
  public static MlflowTracking connect(String uri, Map<String, String> env, Path spoolDirectory, Consumer<String> notices) {
    return connect(uri, env, spoolDirectory, notices, 4, Duration.ofMillis(500));
  }

  public static MlflowTracking connect(String uri, Map<String, String> env, Path spoolDirectory,
      Consumer<String> notices, int attempts, Duration firstBackoff) {
    URI base;
    try {
      base = URI.create(uri);
    } catch (IllegalArgumentException e) {
      throw Errors.badInput("tracking URI '" + uri + "' is not a URI", "give one such as http://127.0.0.1:5000");
    }
    if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
      throw Errors.badInput("tracking URI '" + uri + "' is not an http(s) URI; Kiln talks to MLflow servers over REST",
          "start `mlflow server` (or `kiln server`) and give its http:// address, or give no URI to use the embedded server");
    }
    String authorization = RestClient.authorization(env.get("MLFLOW_TRACKING_USERNAME"),
        env.get("MLFLOW_TRACKING_PASSWORD"), env.get("MLFLOW_TRACKING_TOKEN"));
    return new MlflowTracking(new RestClient(base, authorization, attempts, firstBackoff, notices), spoolDirectory, notices);
  }

  @Override
  public String uri() {
    return sender.rest().base().toString();
  }

  /** The spool file, when the server was unreachable during this session. */
  public Optional<Path> spoolFile() {
    return Optional.ofNullable(spool);
  }

  @Override
  public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.putIfAbsent("mlflow.runName", runName);
    allTags.putIfAbsent("mlflow.user", System.getProperty("user.name", "kiln"));
    allTags.putIfAbsent("mlflow.source.type", "JOB");
    Run run = new Run(UUID.randomUUID().toString());
    emit(new TrackingEvent.CreateRun(run.localId, experiment, runName, System.currentTimeMillis(), allTags));
    return run;
  }

  /** Sends an event, or spools it when the server is unreachable; a refusal (4xx) is an error. */
  synchronized void emit(TrackingEvent event) {
    if (spool == null) {
      try {
        sender.send(event);
        return;
      } catch (TrackingException e) {
        if (!e.unreachable()) {
          throw Errors.environment("the tracking server refused a request: " + e.getMessage(),
              "check the tracking URI and credentials (MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)");
        }
        startSpool(e);
      }
    }
    append(event);
  }

  private void startSpool(TrackingException cause) {
    try {
      Files.createDirectories(spoolDirectory);
      spool = spoolDirectory.resolve("tracking-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
          + "-" + UUID.randomUUID().toString().substring(0, 8) + ".jsonl");
      notices.accept(cause.getMessage() + "; the job goes on and spools its tracking data to " + spool);
      // runs the server already knows keep their ids in the spool
      for (Map.Entry<String, Sender.RunIds> run : sender.boundRuns().entrySet()) {
        append(new TrackingEvent.Bind(run.getKey(), run.getValue().runId(), run.getValue().experimentId()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the tracking spool in " + spoolDirectory, e);
    }
  }

  private void append(TrackingEvent event) {
    try {
      TrackingEvent stored = event;
      if (event instanceof TrackingEvent.Artifact artifact) {
        // the job's file may be temporary: the spool keeps its own copy
        Path copies = Path.of(spool + ".artifacts");
        Files.createDirectories(copies);
        Path copy = copies.resolve(spooled + "-" + Path.of(artifact.file()).getFileName());
        Files.copy(Path.of(artifact.file()), copy);
        stored = new TrackingEvent.Artifact(artifact.localId(), copy.toString(), artifact.artifactPath());
      }
      try (BufferedWriter writer = Files.newBufferedWriter(spool, StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        writer.write(JSON.writerFor(TrackingEvent.class).writeValueAsString(stored));
        writer.newLine();
      }
      spooled++;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tracking spool " + spool, e);
    }
  }

  /**
   * Sends a spool file's events in order. Progress is kept beside it ({@code FILE.sent}), so a replay
   * that stops half-way resumes where it stopped. Returns the number of events sent now.
   */
  public static int replay(Path file, String uri, Map<String, String> env, Consumer<String> notices) {
    if (!Files.isRegularFile(file)) {
      throw Errors.badInput("spool file " + file + " does not exist", "give a file that a job spooled (it said where)");
    }
    MlflowTracking tracking = connect(uri, env, file.getParent(), notices);
    Path progress = Path.of(file + ".sent");
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      int done = Files.exists(progress) ? Integer.parseInt(Files.readString(progress).trim()) : 0;
      List<TrackingEvent> events = new ArrayList<>();
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).isBlank()) {
          continue;
        }
        try {
          events.add(JSON.readValue(lines.get(i), TrackingEvent.class));
        } catch (IOException e) {
          throw Errors.badInput(file + ":" + (i + 1) + ": not a tracking event: " + e.getMessage().lines().findFirst().orElse(""),
              "give a spool file written by Kiln, unchanged");
        }
      }
      // ids are bound again even for events already sent, so later events find their runs
      for (int i = 0; i < done && i < events.size(); i++) {
        if (events.get(i) instanceof TrackingEvent.Bind) {
          tracking.sender.send(events.get(i));
        }
      }
      Map<String, String> created = new HashMap<>();
      int sent = 0;
      for (int i = done; i < events.size(); i++) {
        try {
          tracking.sender.send(events.get(i));
        } catch (TrackingException e) {
          throw Errors.environment("replay stopped at event " + (i + 1) + " of " + events.size() + ": " + e.getMessage(),
              "fix the cause and run the replay again; it resumes at event " + (i + 1));
        }
        if (events.get(i) instanceof TrackingEvent.CreateRun create) {
          created.put(create.localId(), tracking.sender.ids(create.localId()).runId());
        }
        sent++;
        Files.writeString(progress, String.valueOf(i + 1));
      }
      created.forEach((local, run) -> notices.accept("created run " + run));
      return sent;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public ModelVersion registerModel(String name, String source, String runId, Map<String, String> tags) {
    return call("register a version of model " + name, () -> {
      try {
        sender.rest().post("registered-models/create", Map.of("name", name));
      } catch (TrackingException e) {
        if (e.unreachable() || !e.getMessage().contains("RESOURCE_ALREADY_EXISTS")) {
          throw e;
        }
      }
      List<Map<String, String>> tagList = new ArrayList<>();
      tags.forEach((k, v) -> tagList.add(Map.of("key", k, "value", v)));
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("name", name);
      body.put("source", source);
      if (runId != null) {
        body.put("run_id", runId);
      }
      body.put("tags", tagList);
      return modelVersion(sender.rest().post("model-versions/create", body).path("model_version"));
    });
  }

  @Override
  public void setAlias(String name, String alias, String version) {
    call("set alias " + alias + " of model " + name, () ->
        sender.rest().post("registered-models/alias", Map.of("name", name, "alias", alias, "version", version)));
  }

  @Override
  public void deleteAlias(String name, String alias) {
    call("delete alias " + alias + " of model " + name, () ->
        sender.rest().delete("registered-models/alias", Map.of("name", name, "alias", alias)));
  }

  @Override
  public Optional<ModelVersion> versionByAlias(String name, String alias) {
    return call("read alias " + alias + " of model " + name, () -> {
      try {
        return Optional.of(modelVersion(sender.rest().get("registered-models/alias", Map.of("name", name, "alias", alias))
            .path("model_version")));
      } catch (TrackingException e) {
        if (!e.unreachable() && (e.getMessage().contains("RESOURCE_DOES_NOT_EXIST") || e.getMessage().contains("HTTP 404"))) {
          return Optional.empty();
        }
        throw e;
      }
    });
  }

  @Override
  public Optional<ModelVersion> modelVersion(String name, String version) {
    return call("read version " + version + " of model " + name, () -> {
      try {
        return Optional.of(modelVersion(sender.rest().get("model-versions/get", Map.of("name", name, "version", version))
            .path("model_version")));
      } catch (TrackingException e) {
        if (notFound(e)) {
          return Optional.empty();
        }
        throw e;
      }
    });
  }

  @Override
  public List<ModelVersion> modelVersions(String name) {
    return call("list the versions of model " + name, () -> {
      List<ModelVersion> versions = new ArrayList<>();
      String token = null;
      do {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("filter", "name = '" + name.replace("'", "\\'") + "'");
        query.put("max_results", "1000");
        if (token != null) {
          query.put("page_token", token);
        }
        JsonNode page = sender.rest().get("model-versions/search", query);
        page.path("model_versions").forEach(v -> versions.add(modelVersion(v)));
        token = page.path("next_page_token").asText("");
      } while (!token.isEmpty());
      versions.sort(java.util.Comparator.comparingLong(v -> parseVersion(v.version())));
      return versions;
    });
  }

  @Override
  public List<String> registeredModels() {
    return call("list the registered models", () -> {
      List<String> names = new ArrayList<>();
      String token = null;
      do {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("max_results", "1000");
        if (token != null) {
          query.put("page_token", token);
        }
        JsonNode page = sender.rest().get("registered-models/search", query);
        page.path("registered_models").forEach(m -> names.add(m.path("name").asText()));
        token = page.path("next_page_token").asText("");
      } while (!token.isEmpty());
      names.sort(null);
      return names;
    });
  }

  @Override
  public Map<String, String> aliases(String name) {
    return call("read the aliases of model " + name, () -> {
      Map<String, String> aliases = new java.util.TreeMap<>();
      try {
        sender.rest().get("registered-models/get", Map.of("name", name)).path("registered_model").path("aliases")
            .forEach(a -> aliases.put(a.path("alias").asText(), a.path("version").asText()));
      } catch (TrackingException e) {
        if (!notFound(e)) {
          throw e;
        }
      }
      return aliases;
    });
  }

  @Override
  public void downloadArtifacts(String artifactUri, Path destination) {
    URI uri = URI.create(artifactUri);
    if (!"mlflow-artifacts".equals(uri.getScheme())) {
      throw Errors.badInput("artifact location " + artifactUri + " is not served by the tracking server",
          "register models from runs whose artifacts the server stores (mlflow-artifacts:/...)");
    }
    String root = uri.getPath().replaceAll("^/+", "").replaceAll("/+$", "");
    call("download the artifacts at " + artifactUri, () -> {
      try {
        download(root, destination);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the artifacts of " + artifactUri + " to " + destination, e);
      }
      return null;
    });
  }

  private void download(String path, Path destination) throws IOException {
    JsonNode files = sender.rest().listArtifacts(path).path("files");
    if (files.isEmpty()) {
      // a file, or nothing: GET says which
      Files.createDirectories(destination.getParent());
      sender.rest().getArtifact(path, destination);
      return;
    }
    Files.createDirectories(destination);
    for (JsonNode file : files) {
      String entry = file.path("path").asText();
      String name = entry.substring(entry.lastIndexOf('/') + 1);
      if (name.isEmpty() || name.equals(".") || name.equals("..")) {
        continue;
      }
      if (file.path("is_dir").asBoolean()) {
        download(path + "/" + name, destination.resolve(name));
      } else {
        sender.rest().getArtifact(path + "/" + name, destination.resolve(name));
      }
    }
  }

  private static boolean notFound(TrackingException e) {
    return !e.unreachable() && (e.getMessage().contains("RESOURCE_DOES_NOT_EXIST") || e.getMessage().contains("HTTP 404"));
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
    return new ModelVersion(node.path("name").asText(), node.path("version").asText(), node.path("source").asText(),
        node.path("run_id").asText(null), tags);
  }

  /** Registry calls decide promotions: they are never spooled, and fail loudly. */
  private static <T> T call(String what, java.util.function.Supplier<T> request) {
    try {
      return request.get();
    } catch (TrackingException e) {
      throw Errors.environment("cannot " + what + ": " + e.getMessage(),
          e.unreachable() ? "start the tracking server or check the tracking URI, then run the command again"
              : "check the model name, version and alias");
    }
  }

  @Override
  public synchronized void close() {
    if (spool != null) {
      notices.accept(spooled + " tracking event(s) were spooled to " + spool + "; send them with `kiln tracking replay "
          + spool + "`");
    }
  }

  /** A run whose events go through {@link #emit}. */
  final class Run implements TrackedRun {
    final String localId;
    private boolean ended;

    Run(String localId) {
      this.localId = localId;
    }

    @Override
    public String id() {
      Sender.RunIds ids = sender.ids(localId);
      return ids == null ? "local-" + localId : ids.runId();
    }

    @Override
    public String url() {
      Sender.RunIds ids = sender.ids(localId);
      return ids == null ? "(not sent yet: spooled to " + spool + ")"
          : uri() + "/#/experiments/" + ids.experimentId() + "/runs/" + ids.runId();
    }

    @Override
    public String artifactUri() {
      Sender.RunIds ids = sender.ids(localId);
      if (ids == null) {
        throw Errors.environment("run " + id() + " was not created on the tracking server (it is spooled), so it has"
            + " no artifact location yet", "start the tracking server or check the tracking URI, then run the job again");
      }
      return ids.artifactUri();
    }

    @Override
    public void logParams(Map<String, String> params) {
      emit(new TrackingEvent.LogBatch(localId, new LinkedHashMap<>(params), List.of(), Map.of()));
    }

    @Override
    public void logMetrics(Map<String, Double> metrics) {
      long now = System.currentTimeMillis();
      List<TrackingEvent.Metric> values = new ArrayList<>();
      metrics.forEach((k, v) -> values.add(new TrackingEvent.Metric(k, v, now, 0)));
      emit(new TrackingEvent.LogBatch(localId, Map.of(), values, Map.of()));
    }

    @Override
    public void logMetric(String key, double value, long step) {
      emit(new TrackingEvent.LogBatch(localId, Map.of(),
          List.of(new TrackingEvent.Metric(key, value, System.currentTimeMillis(), step)), Map.of()));
    }

    @Override
    public void setTags(Map<String, String> tags) {
      emit(new TrackingEvent.LogBatch(localId, Map.of(), List.of(), new LinkedHashMap<>(tags)));
    }

    @Override
    public void logArtifact(Path file, String artifactPath) {
      emit(new TrackingEvent.Artifact(localId, file.toAbsolutePath().toString(), artifactPath));
    }

    @Override
    public void logText(String text, String artifactPath) {
      try {
        Path file = Files.createTempFile("kiln-artifact-", "-" + Path.of(artifactPath).getFileName());
        try {
          Files.writeString(file, text);
          logArtifact(file, artifactPath);
        } finally {
          Files.deleteIfExists(file);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void logInput(DatasetRef pinned, String context) {
      if (pinned.version() == null) {
        throw new IllegalArgumentException("a dataset input must be pinned to a version: " + pinned);
      }
      String source;
      try {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("path", pinned.table());
        fields.put("delta_table_version", pinned.version());
        source = JSON.writeValueAsString(fields);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      emit(new TrackingEvent.LogInputs(localId, datasetName(pinned.table()), digest(pinned.toString()), "delta_table",
          source, context));
    }

    @Override
    public void finish() {
      end("FINISHED");
    }

    @Override
    public void fail(Throwable error) {
      if (!ended) {
        setTags(Map.of("kiln.error", String.valueOf(Errors.rootMessage(error))));
        end("FAILED");
      }
    }

    private void end(String status) {
      if (!ended) {
        ended = true;
        emit(new TrackingEvent.EndRun(localId, status, System.currentTimeMillis()));
      }
    }

    @Override
    public void close() {
      finish();
    }
  }

  static String datasetName(String table) {
    String trimmed = table.replaceAll("/+$", "");
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }

  /** MLflow digests are short: the first 8 bytes of a SHA-256. */
  public static String digest(String text) {
    try {
      byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(hash, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
