package kiln.drift;

/** What a column is to the model. */
public enum Role {
  FEATURE,
  PREDICTION,
  LABEL,
  /**
   * A model's test metric against the same metric on current data with labels (performance drift).
   */
  PERFORMANCE
}
