package kiln.core.tracking;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import kiln.core.Errors;
import kiln.core.Secrets;
import kiln.core.tracking.internal.ArtifactClient;
import kiln.core.tracking.internal.RegistryClient;
import kiln.core.tracking.internal.RestClient;
import kiln.core.tracking.internal.Sender;
import kiln.core.tracking.internal.SpoolReplay;
import kiln.core.tracking.internal.SpoolWriter;

/**
 * {@link Tracking} against any MLflow server over its REST API. When the server cannot be reached
 * (after bounded retries with backoff) the job goes on: what could not be sent is spooled to a file
 * in {@code spoolDirectory}, which {@link #replay} (the {@code kiln tracking replay} command) sends
 * later.
 */
public final class MlflowTracking implements Tracking {
  private final Sender sender;
  private final SpoolWriter spool;
  private final RegistryClient registry;
  private final ArtifactClient artifacts;
  private final Consumer<String> notices;

  /** This driver, recorded on every run it starts (see {@link RunOwner}). */
  private final RunOwner owner = RunOwner.current();

  /** How often a live run refreshes its {@link RunOwner#HEARTBEAT_TAG}. */
  static final Duration HEARTBEAT = Duration.ofSeconds(60);

  private ScheduledExecutorService heartbeats;

  MlflowTracking(RestClient rest, Path spoolDirectory, Consumer<String> notices) {
    this.sender = new Sender(rest);
    this.spool = new SpoolWriter(spoolDirectory);
    this.registry = new RegistryClient(rest);
    this.artifacts = new ArtifactClient(rest);
    this.notices = notices;
  }

  /**
   * Connects to {@code uri} with credentials from {@code MLFLOW_TRACKING_USERNAME}/{@code
   * _PASSWORD} or {@code MLFLOW_TRACKING_TOKEN} in {@code env}. Nothing is sent until a run starts.
   */
  public static MlflowTracking connect(
      String uri, Map<String, String> env, Path spoolDirectory, Consumer<String> notices) {
    return connect(uri, env, spoolDirectory, notices, 4, Duration.ofMillis(500));
  }

  public static MlflowTracking connect(
      String uri,
      Map<String, String> env,
      Path spoolDirectory,
      Consumer<String> notices,
      int attempts,
      Duration firstBackoff) {
    return new MlflowTracking(
        rest(uri, env, attempts, firstBackoff, notices), spoolDirectory, notices);
  }

  private static RestClient rest(
      String uri,
      Map<String, String> env,
      int attempts,
      Duration firstBackoff,
      Consumer<String> notices) {
    URI base;
    try {
      base = URI.create(uri);
    } catch (IllegalArgumentException e) {
      throw Errors.badInput(
          "tracking URI '" + Secrets.redact(uri) + "' is not a URI",
          "give one such as http://127.0.0.1:5000");
    }
    if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
      throw Errors.badInput(
          "tracking URI '"
              + Secrets.redact(uri)
              + "' is not an http(s) URI; Kiln talks to MLflow servers over REST",
          "start `mlflow server` (or `kiln server`) and give its http:// address, or give no URI to use the embedded server");
    }
    String authorization =
        RestClient.authorization(
            env.get("MLFLOW_TRACKING_USERNAME"),
            env.get("MLFLOW_TRACKING_PASSWORD"),
            env.get("MLFLOW_TRACKING_TOKEN"));
    // http://user:password@host works as it does for MLflow's Python client (the environment's
    // credentials win), and the password never travels further than the Authorization header
    String userInfo = base.getUserInfo();
    if (authorization == null && userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      authorization =
          RestClient.authorization(
              colon < 0 ? userInfo : userInfo.substring(0, colon),
              colon < 0 ? "" : userInfo.substring(colon + 1),
              null);
    }
    return new RestClient(
        Secrets.withoutUserInfo(base), authorization, attempts, firstBackoff, notices);
  }

  @Override
  public String uri() {
    return sender.rest().base().toString();
  }

  /** The spool file, when the server was unreachable during this session. */
  public Optional<Path> spoolFile() {
    return spool.file();
  }

  @Override
  public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.putIfAbsent("mlflow.runName", runName);
    allTags.putIfAbsent("mlflow.user", System.getProperty("user.name", "kiln"));
    allTags.putIfAbsent("mlflow.source.type", "JOB");
    MlflowRun run = new MlflowRun(this, UUID.randomUUID().toString());
    allTags.put(Sender.LOCAL_RUN_ID, run.localId());
    allTags.putAll(owner.tags());
    emit(
        new TrackingEvent.CreateRun(
            run.localId(), experiment, runName, System.currentTimeMillis(), allTags));
    run.heartbeat(
        heartbeats()
            .scheduleAtFixedRate(
                () -> heartbeat(run.localId()),
                HEARTBEAT.toMillis(),
                HEARTBEAT.toMillis(),
                TimeUnit.MILLISECONDS));
    return run;
  }

  private synchronized ScheduledExecutorService heartbeats() {
    if (heartbeats == null) {
      heartbeats =
          Executors.newSingleThreadScheduledExecutor(
              task -> {
                Thread thread = new Thread(task, "kiln-tracking-heartbeat");
                thread.setDaemon(true);
                return thread;
              });
    }
    return heartbeats;
  }

  /**
   * Refreshes a live run's heartbeat tag, straight to the server: while the job spools, a missed
   * heartbeat costs nothing (the run's end, replayed, settles its status) and none is spooled.
   */
  synchronized void heartbeat(String localId) {
    if (spool.file().isPresent() || sender.ids(localId) == null) {
      return;
    }
    try {
      sender.send(
          new TrackingEvent.LogBatch(
              localId,
              Map.of(),
              List.of(),
              Map.of(RunOwner.HEARTBEAT_TAG, String.valueOf(System.currentTimeMillis()))));
    } catch (RuntimeException e) {
      // the job's own next event finds out whether the server is gone and spools
    }
  }

  /**
   * Marks KILLED (MLflow's status for a run ended from outside) the RUNNING runs of {@code
   * experiment} whose driver is certainly gone (see {@link RunOwner#gone}), with a {@link
   * RunOwner#KILLED_REASON_TAG} saying why, and returns a line for each. A driver killed with
   * SIGKILL leaves its run RUNNING; the next command reporting to the experiment calls this. Runs
   * without owner tags (other clients, older Kiln) are left as they are. Nothing is done while the
   * server is unreachable (the job spools): marking is housekeeping, never worth a job's time.
   */
  public synchronized List<String> markDeadRuns(String experiment, Duration staleAfter) {
    List<String> marked = new java.util.ArrayList<>();
    if (spool.file().isPresent()) {
      return marked;
    }
    String experimentId = sender.experimentId(experiment);
    String pageToken = null;
    long now = System.currentTimeMillis();
    do {
      com.fasterxml.jackson.databind.node.ObjectNode search =
          new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
      search.putArray("experiment_ids").add(experimentId);
      search.put("filter", "attributes.status = 'RUNNING'");
      search.put("max_results", 1000);
      if (pageToken != null) {
        search.put("page_token", pageToken);
      }
      com.fasterxml.jackson.databind.JsonNode page = sender.rest().post("runs/search", search);
      for (com.fasterxml.jackson.databind.JsonNode run : page.path("runs")) {
        Map<String, String> tags = new LinkedHashMap<>();
        run.path("data")
            .path("tags")
            .forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
        Optional<RunOwner> runOwner = RunOwner.of(tags);
        if (runOwner.isEmpty() || !"RUNNING".equals(run.path("info").path("status").asText())) {
          continue;
        }
        Optional<String> gone = runOwner.get().gone(tags, staleAfter, now);
        if (gone.isEmpty()) {
          continue;
        }
        String runId = run.path("info").path("run_id").asText();
        String reason =
            "marked KILLED: "
                + gone.get()
                + ", so it could not end the run (killed with SIGKILL or crashed); found by pid "
                + owner.pid()
                + " on "
                + owner.host()
                + " at "
                + java.time.Instant.ofEpochMilli(now);
        sender
            .rest()
            .post(
                "runs/set-tag",
                Map.of("run_id", runId, "key", RunOwner.KILLED_REASON_TAG, "value", reason));
        // the driver died after its last sign of life and before now: the first is the better end
        sender
            .rest()
            .post(
                "runs/update",
                Map.of(
                    "run_id",
                    runId,
                    "status",
                    "KILLED",
                    "end_time",
                    runOwner.get().lastSignOfLife(tags)));
        marked.add("run " + runId + " " + reason);
      }
      pageToken = page.path("next_page_token").asText("");
      pageToken = pageToken.isEmpty() ? null : pageToken;
    } while (pageToken != null);
    return marked;
  }

  /** Sends an event, or spools it when the server is unreachable; a refusal (4xx) is an error. */
  synchronized void emit(TrackingEvent event) {
    if (spool.file().isEmpty()) {
      try {
        sender.send(event);
        return;
      } catch (TrackingException e) {
        if (!e.unreachable()) {
          throw Errors.environment(
              "the tracking server refused a request: " + e.getMessage(),
              "check the tracking URI and credentials (MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)");
        }
        Path file = spool.start(sender.boundRuns());
        notices.accept(
            e.getMessage() + "; the job goes on and spools its tracking data to " + file);
      }
    }
    spool.append(event);
  }

  /** The server's ids of a run, or null while it is only spooled. */
  synchronized Sender.RunIds ids(String localId) {
    return sender.ids(localId);
  }

  /**
   * Sends a spool file's events in order. Progress is kept beside it ({@code FILE.sent}), so a
   * replay that stops half-way resumes where it stopped. Returns the number of events sent now.
   */
  public static int replay(
      Path file, String uri, Map<String, String> env, Consumer<String> notices) {
    return SpoolReplay.replay(
        file,
        new Sender(rest(uri, env, 4, Duration.ofMillis(500), notices)).lookUpBeforeCreating(),
        notices);
  }

  /** The spool files that jobs left in {@code spoolDirectory}, oldest first. */
  public static List<Path> spoolFiles(Path spoolDirectory) {
    return SpoolWriter.files(spoolDirectory);
  }

  @Override
  public ModelVersion registerModel(
      String name, String source, String runId, Map<String, String> tags) {
    return registry.registerModel(name, source, runId, tags);
  }

  @Override
  public void setAlias(String name, String alias, String version) {
    registry.setAlias(name, alias, version);
  }

  @Override
  public void deleteAlias(String name, String alias) {
    registry.deleteAlias(name, alias);
  }

  @Override
  public Optional<ModelVersion> versionByAlias(String name, String alias) {
    return registry.versionByAlias(name, alias);
  }

  @Override
  public Optional<ModelVersion> modelVersion(String name, String version) {
    return registry.modelVersion(name, version);
  }

  @Override
  public List<ModelVersion> modelVersions(String name) {
    return registry.modelVersions(name);
  }

  @Override
  public List<String> registeredModels() {
    return registry.registeredModels();
  }

  @Override
  public Map<String, String> aliases(String name) {
    return registry.aliases(name);
  }

  @Override
  public void downloadArtifacts(String artifactUri, Path destination) {
    artifacts.download(artifactUri, destination);
  }

  @Override
  public synchronized void close() {
    if (heartbeats != null) {
      heartbeats.shutdownNow();
    }
    spool
        .file()
        .ifPresent(
            file ->
                notices.accept(
                    spool.written()
                        + " tracking event(s) were spooled to "
                        + file
                        + "; send them with `kiln tracking replay "
                        + file
                        + "`"));
  }

  static String datasetName(String table) {
    String trimmed = table.replaceAll("/+$", "");
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }

  /** MLflow digests are short: the first 8 bytes of a SHA-256. */
  public static String digest(String text) {
    try {
      byte[] hash =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(text.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(hash, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
