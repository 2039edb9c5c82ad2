package kiln.core.tracking;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.tracking.internal.Sender;

/**
 * A run of {@link MlflowTracking}: every call becomes an event that is sent, or spooled while the
 * server is away.
 */
final class MlflowRun implements TrackedRun {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MlflowTracking tracking;
  private final String localId;
  private boolean ended;
  private java.util.concurrent.Future<?> heartbeat;

  MlflowRun(MlflowTracking tracking, String localId) {
    this.tracking = tracking;
    this.localId = localId;
  }

  /** The task that refreshes the run's heartbeat tag until it ends. */
  synchronized void heartbeat(java.util.concurrent.Future<?> task) {
    this.heartbeat = task;
  }

  String localId() {
    return localId;
  }

  @Override
  public String id() {
    Sender.RunIds ids = tracking.ids(localId);
    return ids == null ? "local-" + localId : ids.runId();
  }

  @Override
  public String url() {
    Sender.RunIds ids = tracking.ids(localId);
    return ids == null
        ? "(not sent yet: spooled to "
            + tracking.spoolFile().map(Path::toString).orElse("the spool")
            + ")"
        : tracking.uri() + "/#/experiments/" + ids.experimentId() + "/runs/" + ids.runId();
  }

  @Override
  public String artifactUri() {
    Sender.RunIds ids = tracking.ids(localId);
    if (ids == null) {
      throw Errors.environment(
          "run "
              + id()
              + " was not created on the tracking server (it is spooled), so it has"
              + " no artifact location yet",
          "start the tracking server or check the tracking URI, then run the job again");
    }
    return ids.artifactUri();
  }

  @Override
  public void logParams(Map<String, String> params) {
    tracking.emit(
        new TrackingEvent.LogBatch(localId, new LinkedHashMap<>(params), List.of(), Map.of()));
  }

  @Override
  public void logMetrics(Map<String, Double> metrics) {
    long now = System.currentTimeMillis();
    List<TrackingEvent.Metric> values = new ArrayList<>();
    metrics.forEach((k, v) -> values.add(new TrackingEvent.Metric(k, v, now, 0)));
    tracking.emit(new TrackingEvent.LogBatch(localId, Map.of(), values, Map.of()));
  }

  @Override
  public void logMetric(String key, double value, long step) {
    tracking.emit(
        new TrackingEvent.LogBatch(
            localId,
            Map.of(),
            List.of(new TrackingEvent.Metric(key, value, System.currentTimeMillis(), step)),
            Map.of()));
  }

  @Override
  public void setTags(Map<String, String> tags) {
    tracking.emit(
        new TrackingEvent.LogBatch(localId, Map.of(), List.of(), new LinkedHashMap<>(tags)));
  }

  @Override
  public void logArtifact(Path file, String artifactPath) {
    tracking.emit(
        new TrackingEvent.Artifact(localId, file.toAbsolutePath().toString(), artifactPath));
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
      // jobs resolve every table before they log it: an unpinned one here is Kiln's bug, never the
      // input
      throw new IllegalStateException("a dataset input must be pinned to a version: " + pinned);
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
    tracking.emit(
        new TrackingEvent.LogInputs(
            localId,
            MlflowTracking.datasetName(pinned.table()),
            MlflowTracking.digest(pinned.toString()),
            "delta_table",
            source,
            context));
  }

  @Override
  public void finish() {
    end("FINISHED");
  }

  @Override
  public void fail(Throwable error) {
    if (!ended) {
      setTags(
          Map.of(
              "kiln.error", String.valueOf(kiln.core.Secrets.redact(Errors.rootMessage(error)))));
      end("FAILED");
    }
  }

  private void end(String status) {
    if (!ended) {
      ended = true;
      synchronized (this) {
        if (heartbeat != null) {
          heartbeat.cancel(false);
        }
      }
      tracking.emit(new TrackingEvent.EndRun(localId, status, System.currentTimeMillis()));
    }
  }

  @Override
  public void close() {
    finish();
  }
}
