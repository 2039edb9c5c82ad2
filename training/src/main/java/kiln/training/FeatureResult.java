package kiln.training;

import java.time.Duration;
import kiln.core.DatasetRef;

/**
 * What {@code kiln features} wrote: the feature table version, from which input version, how many
 * rows.
 */
public record FeatureResult(DatasetRef input, DatasetRef output, long rows, Duration elapsed) {}
