package kiln.core.models;

/** What a model predicts: a binary label (classifier) or a number (regressor). */
public enum Task {
  CLASSIFIER,
  REGRESSOR;

  /** The metric a gate compares and tuning optimises, and whether larger is better. */
  public String primaryMetric() {
    return this == CLASSIFIER ? "auc_roc" : "rmse";
  }

  public boolean higherIsBetter() {
    return this == CLASSIFIER;
  }
}
