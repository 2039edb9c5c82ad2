package kiln.lineage;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;

/** A Tracking whose new model versions carry the triad of the run that registers them. */
final class LineageTracking implements Tracking {
  private final Tracking delegate;
  private final Lineage lineage;

  LineageTracking(Tracking delegate, Lineage lineage) {
    this.delegate = delegate;
    this.lineage = lineage;
  }

  @Override
  public String uri() {
    return delegate.uri();
  }

  @Override
  public TrackedRun startRun(String experiment, String runName, Map<String, String> tags) {
    return delegate.startRun(experiment, runName, tags);
  }

  @Override
  public ModelVersion registerModel(
      String name, String source, String runId, Map<String, String> tags) {
    Optional<LineageRun> run = lineage.innermost();
    if (run.isEmpty()) {
      return delegate.registerModel(name, source, runId, tags);
    }
    String sha256 = tags.get(RunLineage.MODEL_SHA256);
    if (sha256 != null) {
      run.get().modelSha256(sha256);
    }
    // the triad first, then what the job says of its model (its own data table and digest tags win)
    Map<String, String> all = new LinkedHashMap<>(run.get().triad().tags());
    all.putAll(tags);
    return delegate.registerModel(name, source, runId, all);
  }

  @Override
  public void setAlias(String name, String alias, String version) {
    delegate.setAlias(name, alias, version);
  }

  @Override
  public void deleteAlias(String name, String alias) {
    delegate.deleteAlias(name, alias);
  }

  @Override
  public Optional<ModelVersion> versionByAlias(String name, String alias) {
    return delegate.versionByAlias(name, alias);
  }

  @Override
  public Optional<ModelVersion> modelVersion(String name, String version) {
    return delegate.modelVersion(name, version);
  }

  @Override
  public List<ModelVersion> modelVersions(String name) {
    return delegate.modelVersions(name);
  }

  @Override
  public List<String> registeredModels() {
    return delegate.registeredModels();
  }

  @Override
  public Map<String, String> aliases(String name) {
    return delegate.aliases(name);
  }

  @Override
  public void downloadArtifacts(String artifactUri, Path destination) {
    delegate.downloadArtifacts(artifactUri, destination);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
