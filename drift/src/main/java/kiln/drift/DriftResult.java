package kiln.drift;

import java.util.List;
import java.util.Optional;

/**
 * The comparison of a current dataset with a reference: a verdict per column, sorted by severity,
 * and one for the dataset.
 *
 * @param reference the reference side, pinned to the version that was read
 * @param current the current side, pinned
 * @param driftedShare drifted features / compared features (role FEATURE only)
 * @param drifted the dataset verdict: driftedShare at or above the threshold, or prediction or
 *     label drift
 * @param referenceProfileReused true when the reference's profile came from the profile table
 */
public record DriftResult(
    DriftInput reference,
    DriftInput current,
    long referenceRows,
    long currentRows,
    List<FeatureDrift> features,
    double driftedShare,
    boolean drifted,
    String summary,
    Thresholds thresholds,
    boolean referenceProfileReused) {

  public DriftResult {
    features = List.copyOf(features);
  }

  public Optional<FeatureDrift> feature(String name) {
    return features.stream().filter(f -> f.name().equals(name)).findFirst();
  }

  public List<FeatureDrift> withRole(Role role) {
    return features.stream().filter(f -> f.role() == role).toList();
  }

  public List<FeatureDrift> driftedFeatures() {
    return features.stream().filter(FeatureDrift::drifted).toList();
  }

  DriftResult withReferenceProfileReused(boolean reused) {
    return new DriftResult(
        reference,
        current,
        referenceRows,
        currentRows,
        features,
        driftedShare,
        drifted,
        summary,
        thresholds,
        reused);
  }
}
