package kiln.core.tracking.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import kiln.core.tracking.TrackingEvent;
import kiln.core.tracking.TrackingException;

/** Carries tracking events to an MLflow server, turning local run ids into the server's. */
public final class Sender {
  // MLflow's limits for one log-batch call, and for values
  static final int MAX_METRICS = 1000;
  static final int MAX_PARAMS = 100;
  static final int MAX_TAGS = 100;
  static final int MAX_PARAM_VALUE = 6000;
  static final int MAX_TAG_VALUE = 5000;

  /** The server's ids of a run. */
  public record RunIds(String runId, String experimentId, String artifactUri) {}

  private final RestClient rest;
  private final Map<String, RunIds> runs = new HashMap<>();
  private final Map<String, String> experiments = new HashMap<>();

  /** The tag that names a run by its local id, so that a replay can find a run already created. */
  public static final String LOCAL_RUN_ID = "kiln.localRunId";

  private boolean lookUpBeforeCreating;

  public Sender(RestClient rest) {
    this.rest = rest;
  }

  /**
   * Before creating a run, looks for one that already carries its local id. For replays: a server
   * killed after it created a run and before it answered left the creation in the spool, and
   * sending it again would make a second run (the first left RUNNING forever).
   */
  public Sender lookUpBeforeCreating() {
    this.lookUpBeforeCreating = true;
    return this;
  }

  public RestClient rest() {
    return rest;
  }

  public RunIds ids(String localId) {
    return runs.get(localId);
  }

  public Map<String, RunIds> boundRuns() {
    return Map.copyOf(runs);
  }

  public void send(TrackingEvent event) {
    if (event instanceof TrackingEvent.CreateRun create) {
      createRun(create);
    } else if (event instanceof TrackingEvent.Bind bind) {
      bind(bind);
    } else if (event instanceof TrackingEvent.LogBatch batch) {
      logBatch(batch);
    } else if (event instanceof TrackingEvent.LogInputs inputs) {
      logInputs(inputs);
    } else if (event instanceof TrackingEvent.Artifact artifact) {
      putArtifact(artifact);
    } else if (event instanceof TrackingEvent.EndRun end) {
      rest.post(
          "runs/update",
          Map.of("run_id", run(end).runId(), "status", end.status(), "end_time", end.endTime()));
    }
  }

  public String experimentId(String name) {
    String known = experiments.get(name);
    if (known != null) {
      return known;
    }
    String id;
    try {
      id =
          rest.get("experiments/get-by-name", Map.of("experiment_name", name))
              .path("experiment")
              .path("experiment_id")
              .asText();
    } catch (TrackingException e) {
      if (e.unreachable() || !e.getMessage().contains("RESOURCE_DOES_NOT_EXIST")) {
        throw e;
      }
      try {
        id = rest.post("experiments/create", Map.of("name", name)).path("experiment_id").asText();
      } catch (TrackingException raced) {
        if (raced.unreachable() || !raced.getMessage().contains("RESOURCE_ALREADY_EXISTS")) {
          throw raced;
        }
        id =
            rest.get("experiments/get-by-name", Map.of("experiment_name", name))
                .path("experiment")
                .path("experiment_id")
                .asText();
      }
    }
    experiments.put(name, id);
    return id;
  }

  private void createRun(TrackingEvent.CreateRun create) {
    if (runs.containsKey(create.localId())) {
      return; // a replay of a run that was created before the spool began
    }
    String experimentId = experimentId(create.experiment());
    String localRunId = create.tags().get(LOCAL_RUN_ID);
    if (lookUpBeforeCreating && localRunId != null) {
      JsonNode found = runWithLocalId(experimentId, localRunId, false);
      if (found != null) {
        bindFound(create.localId(), experimentId, found.path("run").path("info"));
        return;
      }
    }
    ObjectNode body = RestClient.JSON.createObjectNode();
    body.put("experiment_id", experimentId);
    body.put("run_name", create.runName());
    body.put("start_time", create.startTime());
    body.set("tags", keyValues(create.tags(), MAX_TAG_VALUE));
    // MLflow's runs/create has no idempotency key: an attempt whose answer was lost may have made
    // the run, and a plain retry would make a second one (the first left RUNNING forever); the
    // retry first looks for a run with this run's local id
    JsonNode created =
        rest.post(
            "runs/create",
            body,
            localRunId == null ? null : () -> runWithLocalId(experimentId, localRunId, true));
    bindFound(create.localId(), experimentId, created.path("run").path("info"));
  }

  /**
   * The run of the experiment tagged with this local id, as runs/create answers ({@code {"run":
   * ...}}); null if there is none. {@code once}: asked once, for a retry of runs/create, whose own
   * attempts go on.
   */
  private JsonNode runWithLocalId(String experimentId, String localRunId, boolean once) {
    ObjectNode search = RestClient.JSON.createObjectNode();
    search.putArray("experiment_ids").add(experimentId);
    search.put("filter", "tags.`" + LOCAL_RUN_ID + "` = '" + localRunId + "'");
    search.put("max_results", 1);
    JsonNode found =
        (once ? rest.postOnce("runs/search", search) : rest.post("runs/search", search))
            .path("runs");
    if (found.size() == 0) {
      return null;
    }
    ObjectNode answer = RestClient.JSON.createObjectNode();
    answer.set("run", found.get(0));
    return answer;
  }

  private void bindFound(String localId, String experimentId, JsonNode info) {
    runs.put(
        localId,
        new RunIds(info.path("run_id").asText(), experimentId, info.path("artifact_uri").asText()));
  }

  private void bind(TrackingEvent.Bind bind) {
    JsonNode info = rest.get("runs/get", Map.of("run_id", bind.runId())).path("run").path("info");
    runs.put(
        bind.localId(),
        new RunIds(bind.runId(), bind.experimentId(), info.path("artifact_uri").asText()));
  }

  private void logBatch(TrackingEvent.LogBatch batch) {
    String runId = run(batch).runId();
    List<Map.Entry<String, String>> params = new ArrayList<>(batch.params().entrySet());
    List<Map.Entry<String, String>> tags = new ArrayList<>(batch.tags().entrySet());
    List<TrackingEvent.Metric> metrics = batch.metrics();
    int p = 0;
    int t = 0;
    int m = 0;
    do {
      ObjectNode body = RestClient.JSON.createObjectNode();
      body.put("run_id", runId);
      ArrayNode paramNodes = body.putArray("params");
      for (int n = 0; n < MAX_PARAMS && p < params.size(); n++, p++) {
        paramNodes
            .addObject()
            .put("key", params.get(p).getKey())
            .put("value", truncate(params.get(p).getValue(), MAX_PARAM_VALUE));
      }
      ArrayNode tagNodes = body.putArray("tags");
      for (int n = 0; n < MAX_TAGS && t < tags.size(); n++, t++) {
        tagNodes
            .addObject()
            .put("key", tags.get(t).getKey())
            .put("value", truncate(tags.get(t).getValue(), MAX_TAG_VALUE));
      }
      ArrayNode metricNodes = body.putArray("metrics");
      int room = MAX_METRICS - paramNodes.size() - tagNodes.size();
      for (int n = 0; n < room && m < metrics.size(); n++, m++) {
        TrackingEvent.Metric metric = metrics.get(m);
        ObjectNode node =
            metricNodes
                .addObject()
                .put("key", metric.key())
                .put("timestamp", metric.timestamp())
                .put("step", metric.step());
        double value = metric.value();
        if (Double.isFinite(value)) {
          node.put("value", value);
        } else {
          node.put("value", Double.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
      }
      rest.post("runs/log-batch", body);
    } while (p < params.size() || t < tags.size() || m < metrics.size());
  }

  private void logInputs(TrackingEvent.LogInputs inputs) {
    ObjectNode body = RestClient.JSON.createObjectNode();
    body.put("run_id", run(inputs).runId());
    ObjectNode input = body.putArray("datasets").addObject();
    input
        .putArray("tags")
        .addObject()
        .put("key", "mlflow.data.context")
        .put("value", inputs.context());
    input
        .putObject("dataset")
        .put("name", inputs.name())
        .put("digest", inputs.digest())
        .put("source_type", inputs.sourceType())
        .put("source", inputs.source());
    rest.post("runs/log-inputs", body);
  }

  private void putArtifact(TrackingEvent.Artifact artifact) {
    RunIds ids = run(artifact);
    URI root = URI.create(ids.artifactUri());
    if (!"mlflow-artifacts".equals(root.getScheme())) {
      throw new TrackingException(
          "the run's artifact store "
              + ids.artifactUri()
              + " is not served by the tracking"
              + " server, so Kiln cannot upload "
              + artifact.artifactPath()
              + "; start MLflow with --serve-artifacts",
          false,
          null);
    }
    String rootPath = root.getPath().replaceAll("^/+", "").replaceAll("/+$", "");
    rest.putArtifact(rootPath + "/" + artifact.artifactPath(), Path.of(artifact.file()));
  }

  private RunIds run(TrackingEvent event) {
    RunIds ids = runs.get(event.localId());
    if (ids == null) {
      throw new TrackingException(
          "run " + event.localId() + " was never created on " + rest.base(), false, null);
    }
    return ids;
  }

  private static ArrayNode keyValues(Map<String, String> values, int limit) {
    ArrayNode nodes = RestClient.JSON.createArrayNode();
    values.forEach((k, v) -> nodes.addObject().put("key", k).put("value", truncate(v, limit)));
    return nodes;
  }

  static String truncate(String value, int limit) {
    return value == null
        ? ""
        : value.length() <= limit ? value : value.substring(0, limit - 3) + "...";
  }

  /** For tests: the experiments the sender has resolved. */
  Map<String, String> experiments() {
    return new HashMap<>(experiments);
  }
}
