package kiln.core.tracking;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;

/**
 * One thing a job told its tracking server, in a form that can wait in a spool file and be sent
 * later ({@code kiln tracking replay}). Runs are named by a local id until the server gives them
 * theirs.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
  @JsonSubTypes.Type(value = TrackingEvent.CreateRun.class, name = "create-run"),
  @JsonSubTypes.Type(value = TrackingEvent.Bind.class, name = "bind"),
  @JsonSubTypes.Type(value = TrackingEvent.LogBatch.class, name = "log-batch"),
  @JsonSubTypes.Type(value = TrackingEvent.LogInputs.class, name = "log-inputs"),
  @JsonSubTypes.Type(value = TrackingEvent.Artifact.class, name = "artifact"),
  @JsonSubTypes.Type(value = TrackingEvent.EndRun.class, name = "end-run")
})
public sealed interface TrackingEvent {
  String localId();

  record Metric(String key, double value, long timestamp, long step) {}

  record CreateRun(
      String localId, String experiment, String runName, long startTime, Map<String, String> tags)
      implements TrackingEvent {}

  /** The server's ids of a run created before the spool began. */
  record Bind(String localId, String runId, String experimentId) implements TrackingEvent {}

  record LogBatch(
      String localId, Map<String, String> params, List<Metric> metrics, Map<String, String> tags)
      implements TrackingEvent {}

  /** An MLflow dataset input: name, digest, source type and source JSON, and its context tag. */
  record LogInputs(
      String localId, String name, String digest, String sourceType, String source, String context)
      implements TrackingEvent {}

  /** A file to upload; in a spool, {@code file} points into the spool's own artifact folder. */
  record Artifact(String localId, String file, String artifactPath) implements TrackingEvent {}

  record EndRun(String localId, String status, long endTime) implements TrackingEvent {}
}
