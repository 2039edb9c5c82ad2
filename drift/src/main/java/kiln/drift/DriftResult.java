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
 * @param chunking how the current side was cut into chunks ({@code day}, {@code 500 rows}, ...),
 *     null without {@code --chunk}
 * @param chunks per current chunk, the columns compared with the reference (empty without chunking)
 * @param multivariate the PCA reconstruction error per chunk and its band, null when not computed
 *     (see {@code multivariateNote})
 * @param estimated a classifier's performance estimated without labels per chunk (CBPE), empty when
 *     not asked for
 * @param multivariateNote why multivariate drift was not computed, or null
 * @param domainClassifier the domain classifier's AUC per chunk, null when not asked for
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
    boolean referenceProfileReused,
    String chunking,
    List<ChunkDrift> chunks,
    MultivariateDrift multivariate,
    List<PerformanceEstimate> estimated,
    String multivariateNote,
    DomainClassifierDrift domainClassifier) {

  public DriftResult {
    features = List.copyOf(features);
    chunks = chunks == null ? List.of() : List.copyOf(chunks);
    estimated = estimated == null ? List.of() : List.copyOf(estimated);
  }

  /** A column-by-column comparison of the whole sides, with nothing per chunk. */
  public DriftResult(
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
    this(
        reference,
        current,
        referenceRows,
        currentRows,
        features,
        driftedShare,
        drifted,
        summary,
        thresholds,
        referenceProfileReused,
        null,
        List.of(),
        null,
        List.of(),
        null,
        null);
  }

  /** The same result with the chunked and multivariate parts, verdict and summary given. */
  public DriftResult withMonitoring(
      String chunkingUsed,
      List<ChunkDrift> chunkResults,
      MultivariateDrift multivariateDrift,
      List<PerformanceEstimate> estimates,
      String note,
      DomainClassifierDrift domainClassifierDrift,
      boolean verdict,
      String text) {
    return new DriftResult(
        reference,
        current,
        referenceRows,
        currentRows,
        features,
        driftedShare,
        verdict,
        text,
        thresholds,
        referenceProfileReused,
        chunkingUsed,
        chunkResults,
        multivariateDrift,
        estimates,
        note,
        domainClassifierDrift);
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
        reused,
        chunking,
        chunks,
        multivariate,
        estimated,
        multivariateNote,
        domainClassifier);
  }
}
