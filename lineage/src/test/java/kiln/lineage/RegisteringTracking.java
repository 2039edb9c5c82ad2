package kiln.lineage;

import java.util.Map;
import java.util.Optional;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;

/** A registry that keeps each registered model's tags. */
final class RegisteringTracking implements Tracking {
  private final Map<String, Map<String, String>> registered;

  RegisteringTracking(Map<String, Map<String, String>> registered) {
    this.registered = registered;
  }

  @Override
  public String uri() {
    return "http://127.0.0.1";
  }

  @Override
  public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
    return new RecordedRun();
  }

  @Override
  public ModelVersion registerModel(
      String name, String source, String runId, Map<String, String> tags) {
    registered.put(name, Map.copyOf(tags));
    return new ModelVersion(name, "1", source, runId, tags);
  }

  @Override
  public void setAlias(String name, String alias, String version) {}

  @Override
  public void deleteAlias(String name, String alias) {}

  @Override
  public Optional<ModelVersion> versionByAlias(String name, String alias) {
    return Optional.empty();
  }

  @Override
  public void close() {}
}
