package kiln.inference;

import java.util.List;
import java.util.Optional;
import kiln.core.Errors;
import kiln.core.tracking.Tracking;
import kiln.training.RegisteredModels;

/**
 * Resolves a {@link ModelUri} in the registry. When it does not resolve, a missing model is named with
 * the URI it came from; a missing alias or version is said by {@link RegisteredModels}, as for `kiln models`.
 */
final class ModelLookup {
  private final Tracking tracking;

  ModelLookup(Tracking tracking) {
    this.tracking = tracking;
  }

  Tracking.ModelVersion resolve(ModelUri uri) {
    Optional<Tracking.ModelVersion> found = uri.alias() != null
        ? tracking.versionByAlias(uri.name(), uri.alias()) : tracking.modelVersion(uri.name(), uri.version());
    if (found.isPresent()) {
      return found.get();
    }
    List<String> models = tracking.registeredModels();
    if (!models.contains(uri.name())) {
      throw Errors.notFound("there is no registered model '" + uri.name() + "' (" + uri + "); "
          + (models.isEmpty() ? "the registry holds none" : "registered: " + String.join(", ", models)),
          "check the name, or train one with `kiln train`");
    }
    RegisteredModels registry = new RegisteredModels(tracking);
    return uri.alias() != null ? registry.alias(uri.name(), uri.alias()) : registry.version(uri.name(), uri.version());
  }
}
