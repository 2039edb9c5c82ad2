package kiln.inference;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.core.tracking.Tracking;

/** Resolves a {@link ModelUri} in the registry; when it does not resolve, says which models, versions or aliases exist. */
final class ModelLookup {
  private final Tracking tracking;

  ModelLookup(Tracking tracking) {
    this.tracking = tracking;
  }

  Tracking.ModelVersion resolve(ModelUri uri) {
    java.util.Optional<Tracking.ModelVersion> found = uri.alias() != null
        ? tracking.versionByAlias(uri.name(), uri.alias()) : tracking.modelVersion(uri.name(), uri.version());
    return found.orElseThrow(() -> {
      List<String> models = tracking.registeredModels();
      if (!models.contains(uri.name())) {
        return Errors.badInput("there is no registered model '" + uri.name() + "' (" + uri + "); "
            + (models.isEmpty() ? "the registry holds none" : "registered: " + String.join(", ", models)),
            "check the name, or train one with `kiln train`");
      }
      if (uri.alias() != null) {
        Map<String, String> aliases = tracking.aliases(uri.name());
        return Errors.badInput("model " + uri.name() + " has no alias '" + uri.alias() + "'; " + (aliases.isEmpty()
                ? "it has no aliases" : "it has " + aliases.entrySet().stream()
                    .map(e -> e.getKey() + " (version " + e.getValue() + ")").collect(Collectors.joining(", "))),
            "use one of those aliases, or models:/" + uri.name() + "/VERSION");
      }
      return Errors.badInput("model " + uri.name() + " has no version " + uri.version() + "; it has versions "
          + tracking.modelVersions(uri.name()).stream().map(Tracking.ModelVersion::version)
              .collect(Collectors.joining(", ")), "give one of those versions");
    });
  }
}
