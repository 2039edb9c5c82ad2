package kiln.drift;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.tracking.TrackedRun;

/** A TrackedRun that remembers what was logged, for tests. */
final class InMemoryRun implements TrackedRun {
  final Map<String, String> params = new LinkedHashMap<>();
  final Map<String, Double> metrics = new LinkedHashMap<>();
  final Map<String, String> tags = new LinkedHashMap<>();
  final Map<String, Path> artifacts = new LinkedHashMap<>();
  final List<String> inputs = new ArrayList<>();
  String status = "RUNNING";

  @Override
  public String id() {
    return "run-1";
  }

  @Override
  public String url() {
    return "http://127.0.0.1/#/runs/run-1";
  }

  @Override
  public void logParams(Map<String, String> values) {
    params.putAll(values);
  }

  @Override
  public void logMetrics(Map<String, Double> values) {
    metrics.putAll(values);
  }

  @Override
  public void logMetric(String key, double value, long step) {
    metrics.put(key, value);
  }

  @Override
  public void setTags(Map<String, String> values) {
    tags.putAll(values);
  }

  @Override
  public void logArtifact(Path file, String artifactPath) {
    artifacts.put(artifactPath, file);
  }

  @Override
  public void logText(String text, String artifactPath) {
    artifacts.put(artifactPath, null);
  }

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
      finish();
    }
  }
}
