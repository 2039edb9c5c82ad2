package kiln.training;

import java.util.Map;
import java.util.Set;
import kiln.core.Errors;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.FloatParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** XGBoost hyperparameters by their XGBoost names (max_depth), checked and set on an estimator. */
final class Hyperparameters {
  /**
   * Set by Kiln from the config's own keys; a hyperparameter of the same name would be ambiguous.
   */
  private static final Map<String, String> OWN_KEYS =
      Map.of(
          "device",
          "device",
          "nthread",
          "nthread",
          "num_workers",
          "numWorkers",
          "num_round",
          "numRound",
          "num_early_stopping_rounds",
          "earlyStoppingRounds",
          "seed",
          "seed",
          "features_col",
          "featureColumns",
          "label_col",
          "label");

  private static final Set<String> NOT_HYPERPARAMETERS =
      Set.of(
          "featuresCol",
          "featuresCols",
          "labelCol",
          "predictionCol",
          "probabilityCol",
          "rawPredictionCol",
          "weightCol",
          "baseMarginCol",
          "leafPredictionCol",
          "contribPredictionCol",
          "thresholds",
          "customObj",
          "customEval",
          "featureNames",
          "featureTypes",
          "forceRepartition",
          "rabitTrackerTimeout",
          "rabitTrackerHostIp",
          "rabitTrackerPort");

  private Hyperparameters() {}

  /**
   * Sets every value on the estimator; an unknown name or a value of the wrong type is bad input.
   */
  static void apply(Map<String, Object> values, Params estimator) {
    for (Map.Entry<String, Object> entry : values.entrySet()) {
      String name = entry.getKey();
      if (OWN_KEYS.containsKey(name)) {
        throw Errors.badInput(
            "hyperparameter '" + name + "' is set by Kiln",
            "use the config key '" + OWN_KEYS.get(name) + "' instead");
      }
      // xgboost4j-spark names its own parameters as XGBoost does (max_depth); Spark's are camel
      // case
      String sparkName = estimator.hasParam(name) ? name : camelCase(name);
      if (!estimator.hasParam(sparkName) || NOT_HYPERPARAMETERS.contains(camelCase(name))) {
        throw Errors.badInput(
            "unknown hyperparameter '" + name + "'",
            estimator instanceof org.apache.spark.ml.classification.LogisticRegression
                ? "use Spark ML's names for logistic regression: regParam, elasticNetParam, maxIter, tol,"
                    + " standardization, fitIntercept, aggregationDepth"
                : "use XGBoost's parameter names, e.g. max_depth, eta, min_child_weight, subsample, colsample_bytree, "
                    + "lambda, alpha, gamma, max_bin, scale_pos_weight, tree_method, objective, eval_metric");
      }
      Param<Object> param = estimator.getParam(sparkName);
      estimator.set(param, convert(name, entry.getValue(), param));
    }
  }

  private static Object convert(String name, Object value, Param<?> param) {
    Object converted = converted(value, param);
    if (converted == null) {
      throw Errors.badInput(
          "hyperparameter '"
              + name
              + "' has the value '"
              + value
              + "', which is not a valid "
              + param
                  .getClass()
                  .getSimpleName()
                  .replace("Param", "")
                  .toLowerCase(java.util.Locale.ROOT)
              + (param.getClass() == Param.class ? "string" : ""),
          "give a value of the right type");
    }
    return converted;
  }

  /** The value as the parameter's type, or null when it is not one. */
  private static Object converted(Object value, Param<?> param) {
    if (param instanceof BooleanParam) {
      return value instanceof Boolean b ? b : null;
    }
    if (param instanceof IntParam
        || param instanceof LongParam
        || param instanceof DoubleParam
        || param instanceof FloatParam) {
      Number number = number(value);
      if (number == null) {
        return null;
      } else if (param instanceof IntParam) {
        return number.intValue();
      } else if (param instanceof LongParam) {
        return number.longValue();
      } else if (param instanceof DoubleParam) {
        return number.doubleValue();
      }
      return number.floatValue();
    }
    return value instanceof Map || value instanceof java.util.List ? null : String.valueOf(value);
  }

  private static Number number(Object value) {
    if (value instanceof Number n) {
      return n;
    }
    try {
      return Double.parseDouble(String.valueOf(value));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static String camelCase(String name) {
    StringBuilder out = new StringBuilder();
    boolean upper = false;
    for (char c : name.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }
}
