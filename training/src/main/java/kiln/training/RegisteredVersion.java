package kiln.training;

import kiln.core.tracking.Tracking;

/** A trained model and the registry version it became. */
public record RegisteredVersion(
    TrainingResult training, Tracking.ModelVersion version, String runId) {}
