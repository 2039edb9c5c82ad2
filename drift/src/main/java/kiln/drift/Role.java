package kiln.drift;

/** What a column is to the model. */
public enum Role {
  FEATURE,
  PREDICTION,
  LABEL,
  /**
   * A model's test metric against the same metric on current data with labels (performance drift).
   */
  PERFORMANCE,
  /**
   * A date or timestamp column the config does not list as a feature: the time axis of the data,
   * not a feature. Two periods never share dates, so compared like a feature it would always drift
   * and tip the verdict; it is left out of the comparison and named in the summary.
   */
  TIME
}
