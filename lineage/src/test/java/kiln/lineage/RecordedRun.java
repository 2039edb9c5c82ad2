package kiln.lineage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.tracking.TrackedRun;

/**
 * A run that remembers what was logged to it, standing in for MLflow where the server is not the
 * point.
 */
final class RecordedRun implements TrackedRun {
  final Map<String, String> tags = new LinkedHashMap<>();
  final Map<String, Path> artifacts = new LinkedHashMap<>();
  final List<String> inputs = new ArrayList<>();
  String status = "RUNNING";

  @Override
  public String id() {
    return "0123456789abcdef0123456789abcdef";
  }

  @Override
  public String url() {
    return "http://127.0.0.1/#/runs/" + id();
  }

  @Override
  public void logParams(Map<String, String> params) {}

  @Override
  public void logMetrics(Map<String, Double> metrics) {}

  @Override
  public void logMetric(String key, double value, long step) {}

  @Override
  public void setTags(Map<String, String> more) {
    tags.putAll(more);
  }

  @Override
  public void logArtifact(Path file, String artifactPath) {
    artifacts.put(artifactPath, file);
  }

  @Override
  public void logText(String text, String artifactPath) {}

  @Override
  public void logInput(DatasetRef pinned, String context) {
    inputs.add(context + "=" + pinned);
  }

  @Override
  public void finish() {
    status = "FINISHED";
  }

  @Override
  public void fail(Throwable error) {
    status = "FAILED";
  }

  @Override
  public void close() {
    if (status.equals("RUNNING")) {
      status = "FINISHED";
    }
  }
}
