package kiln.drift;

/** What a column is to the model. */
public enum Role {
  FEATURE,
  PREDICTION,
  LABEL
}
