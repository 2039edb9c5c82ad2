package kiln.training;

import kiln.core.Errors;

/**
 * What a candidate must meet to become champion. Defaults are here, in one place.
 *
 * @param minImprovement the candidate's primary metric must beat the champion's by at least this
 *     much (AUC-ROC up, or RMSE down)
 * @param maxGroupGap the largest gap of the primary metric between groups, at most
 * @param maxLatencyMillisPer1000Rows scoring time per 1000 rows, at most
 * @param minAucRoc the first classifier (no champion yet) must reach this AUC-ROC
 * @param maxRmse the first regressor must stay at or below this RMSE (no limit when absent)
 */
public record GateCriteria(
    Double minImprovement,
    Double maxGroupGap,
    Double maxLatencyMillisPer1000Rows,
    Double minAucRoc,
    Double maxRmse) {
  public static final double DEFAULT_MIN_IMPROVEMENT = 0.0;
  public static final double DEFAULT_MAX_GROUP_GAP = 0.25;
  public static final double DEFAULT_MAX_LATENCY = 2000.0;
  public static final double DEFAULT_MIN_AUC_ROC = 0.6;

  public GateCriteria {
    minImprovement = minImprovement == null ? DEFAULT_MIN_IMPROVEMENT : minImprovement;
    maxGroupGap = maxGroupGap == null ? DEFAULT_MAX_GROUP_GAP : maxGroupGap;
    maxLatencyMillisPer1000Rows =
        maxLatencyMillisPer1000Rows == null ? DEFAULT_MAX_LATENCY : maxLatencyMillisPer1000Rows;
    minAucRoc = minAucRoc == null ? DEFAULT_MIN_AUC_ROC : minAucRoc;
    if (maxGroupGap < 0 || maxLatencyMillisPer1000Rows <= 0) {
      throw Errors.badInput(
          "maxGroupGap must be at least 0 and maxLatency above 0",
          "give --max-group-gap of 0 or more and --max-latency-ms above 0");
    }
  }

  public static GateCriteria defaults() {
    return builder().build();
  }

  /** A builder; a criterion left unset takes its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link GateCriteria}; null (unset) means the default. */
  public static final class Builder {
    private Double minImprovement;
    private Double maxGroupGap;
    private Double maxLatencyMillisPer1000Rows;
    private Double minAucRoc;
    private Double maxRmse;

    private Builder() {}

    public Builder minImprovement(Double value) {
      minImprovement = value;
      return this;
    }

    public Builder maxGroupGap(Double value) {
      maxGroupGap = value;
      return this;
    }

    public Builder maxLatencyMillisPer1000Rows(Double value) {
      maxLatencyMillisPer1000Rows = value;
      return this;
    }

    public Builder minAucRoc(Double value) {
      minAucRoc = value;
      return this;
    }

    public Builder maxRmse(Double value) {
      maxRmse = value;
      return this;
    }

    public GateCriteria build() {
      return new GateCriteria(
          minImprovement, maxGroupGap, maxLatencyMillisPer1000Rows, minAucRoc, maxRmse);
    }
  }
}
