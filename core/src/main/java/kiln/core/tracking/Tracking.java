package kiln.core.tracking;

import java.util.Map;
import java.util.Optional;

/**
 * Where every job reports: an MLflow tracking server and model registry (the user's own, or Kiln's
 * embedded one). A job opens a {@link TrackedRun}, logs into it and ends it FINISHED or FAILED.
 */
public interface Tracking extends AutoCloseable {

  /**
   * A version of a registered model. {@code stage} is MLflow's stage ({@code None}, {@code
   * Staging}, {@code Production}, {@code Archived}); an archived version no longer pins its data.
   */
  record ModelVersion(
      String name,
      String version,
      String source,
      String runId,
      Map<String, String> tags,
      String stage) {
    public static final String ARCHIVED = "Archived";

    public ModelVersion {
      stage = stage == null || stage.isEmpty() ? "None" : stage;
    }

    /** A version whose stage the caller did not read. */
    public ModelVersion(
        String name, String version, String source, String runId, Map<String, String> tags) {
      this(name, version, source, runId, tags, "None");
    }

    public boolean archived() {
      return ARCHIVED.equalsIgnoreCase(stage);
    }
  }

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

  /** A version of a registered model, if the model and the version exist. */
  default Optional<ModelVersion> modelVersion(String name, String version) {
    throw new UnsupportedOperationException(
        "reading model versions is not supported by " + getClass().getName());
  }

  /** Every version of a registered model, oldest first; empty when the model does not exist. */
  default java.util.List<ModelVersion> modelVersions(String name) {
    throw new UnsupportedOperationException(
        "listing model versions is not supported by " + getClass().getName());
  }

  /** The names of the registered models. */
  default java.util.List<String> registeredModels() {
    throw new UnsupportedOperationException(
        "listing models is not supported by " + getClass().getName());
  }

  /**
   * A registered model's aliases and the versions they point at; empty when the model does not
   * exist.
   */
  default Map<String, String> aliases(String name) {
    throw new UnsupportedOperationException(
        "reading aliases is not supported by " + getClass().getName());
  }

  /**
   * Downloads the artifacts under {@code artifactUri} (a file or a directory, e.g. a model
   * version's {@code mlflow-artifacts:/...} source) into {@code destination}, which is created.
   */
  default void downloadArtifacts(String artifactUri, java.nio.file.Path destination) {
    throw new UnsupportedOperationException(
        "downloading artifacts is not supported by " + getClass().getName());
  }

  @Override
  void close();
}
