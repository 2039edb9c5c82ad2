package kiln.core.tracking;

import java.util.Map;
import java.util.Optional;

/**
 * Where every job reports: an MLflow tracking server and model registry (the user's own, or Kiln's
 * embedded one). A job opens a {@link TrackedRun}, logs into it and ends it FINISHED or FAILED.
 */
public interface Tracking extends AutoCloseable {

  /** A version of a registered model. */
  record ModelVersion(String name, String version, String source, String runId, Map<String, String> tags) {}

  /** The server's base URI, for the messages that tell a user where to look. */
  String uri();

  /** Starts a run in the experiment (created if missing). */
  TrackedRun startRun(String experiment, String runName, Map<String, String> tags);

  /** Registers a new version of a model (creating the model if needed) from a run's artifacts. */
  ModelVersion registerModel(String name, String source, String runId, Map<String, String> tags);

  /** Points an alias (e.g. champion) of a registered model at a version. */
  void setAlias(String name, String alias, String version);

  void deleteAlias(String name, String alias);

  /** The version under an alias, if the model and the alias exist. */
  Optional<ModelVersion> versionByAlias(String name, String alias);

  @Override
  void close();
}
