package kiln.training;

/**
 * What learns the model: XGBoost (default; classifier or regressor) or Spark ML's logistic
 * regression (classifier only; often the better fit on sentence embeddings).
 */
public enum Algorithm {
  XGBOOST,
  LOGISTIC_REGRESSION
}
