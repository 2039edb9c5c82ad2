package kiln.core.models;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.core.tracking.Tracking;

/**
 * Finds registered model versions, with messages that say which models, versions and aliases exist.
 */
public final class RegisteredModels {
  private final Tracking tracking;

  public RegisteredModels(Tracking tracking) {
    this.tracking = tracking;
  }

  /** The version a {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION} URI names. */
  public Tracking.ModelVersion resolve(ModelUri uri) {
    String asked = " (" + uri + ")";
    return uri.alias() != null
        ? alias(uri.name(), uri.alias(), asked)
        : version(uri.name(), uri.version(), asked);
  }

  public Tracking.ModelVersion version(String name, String version) {
    return version(name, version, "");
  }

  public Tracking.ModelVersion alias(String name, String alias) {
    return alias(name, alias, "");
  }

  /**
   * {@code asked} follows the model's name when there is no such model, e.g. the URI it came from.
   */
  private Tracking.ModelVersion version(String name, String version, String asked) {
    return tracking
        .modelVersion(name, version)
        .orElseThrow(
            () -> {
              requireModel(name, asked);
              List<Tracking.ModelVersion> versions = tracking.modelVersions(name);
              return Errors.notFound(
                  "model "
                      + name
                      + " has no version "
                      + version
                      + "; it has version"
                      + (versions.size() == 1 ? " " : "s ")
                      + versions.stream()
                          .map(Tracking.ModelVersion::version)
                          .collect(Collectors.joining(", ")),
                  "give one of those versions");
            });
  }

  private Tracking.ModelVersion alias(String name, String alias, String asked) {
    return tracking
        .versionByAlias(name, alias)
        .orElseThrow(
            () -> {
              requireModel(name, asked);
              Map<String, String> aliases = tracking.aliases(name);
              return Errors.notFound(
                  "model "
                      + name
                      + " has no alias '"
                      + alias
                      + "'; "
                      + (aliases.isEmpty()
                          ? "it has no aliases"
                          : "it has "
                              + aliases.entrySet().stream()
                                  .map(e -> e.getKey() + " (version " + e.getValue() + ")")
                                  .collect(Collectors.joining(", "))),
                  "use one of those aliases or a version number (models:/"
                      + name
                      + "/VERSION); a model becomes champion by"
                      + " passing `kiln models gate`");
            });
  }

  /** Fails with the names of the models that exist when {@code name} is not one of them. */
  public void requireModel(String name) {
    requireModel(name, "");
  }

  private void requireModel(String name, String asked) {
    List<String> models = tracking.registeredModels();
    if (!models.contains(name)) {
      throw Errors.notFound(
          "there is no registered model '"
              + name
              + "'"
              + asked
              + "; "
              + (models.isEmpty()
                  ? "the registry holds none"
                  : "registered: " + String.join(", ", models)),
          "check the name, or train one with `kiln train`");
    }
  }

  /** Downloads a version's files and loads the model. */
  public ModelFiles download(Tracking.ModelVersion version, Path directory) {
    tracking.downloadArtifacts(version.source(), directory);
    return ModelFiles.load(directory);
  }
}
