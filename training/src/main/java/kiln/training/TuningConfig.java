package kiln.training;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.Errors;

/**
 * Hyperparameter search: each trial trains a model (a nested MLflow run); the best by the
 * validation metric is registered.
 *
 * @param strategy random (default) or grid
 * @param trials how many random trials (default 10); a grid runs all its combinations
 * @param space per XGBoost parameter, a list of values, or for random search a range {@code {min:
 *     0.05, max: 0.3}} (add {@code integer: true} for whole numbers, {@code log: true} to sample
 *     the logarithm uniformly)
 */
public record TuningConfig(Strategy strategy, Integer trials, Map<String, Object> space) {
  public enum Strategy {
    RANDOM,
    GRID
  }

  public TuningConfig {
    strategy = strategy == null ? Strategy.RANDOM : strategy;
    trials = trials == null ? 10 : trials;
    if (trials < 1) {
      throw Errors.badInput(
          "tuning trials must be at least 1, got " + trials,
          "correct the tuning section of the training config");
    }
    if (space == null || space.isEmpty()) {
      throw Errors.badInput(
          "tuning space is empty; give values or ranges per hyperparameter",
          "correct the tuning section of the training config");
    }
    space = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(space));
    for (Map.Entry<String, Object> entry : space.entrySet()) {
      Object values = entry.getValue();
      if (values instanceof List<?> list) {
        if (list.isEmpty()) {
          throw Errors.badInput(
              "tuning space of '" + entry.getKey() + "' is an empty list",
              "correct the tuning section of the training config");
        }
      } else if (values instanceof Map<?, ?> range) {
        if (strategy == Strategy.GRID) {
          throw Errors.badInput(
              "grid search needs a list of values for '" + entry.getKey() + "', not a range",
              "correct the tuning section of the training config");
        }
        if (!(range.get("min") instanceof Number) || !(range.get("max") instanceof Number)) {
          throw Errors.badInput(
              "the range of '" + entry.getKey() + "' needs numeric min and max",
              "correct the tuning section of the training config");
        }
        if (((Number) range.get("min")).doubleValue() > ((Number) range.get("max")).doubleValue()) {
          throw Errors.badInput(
              "the range of '" + entry.getKey() + "' has min above max",
              "correct the tuning section of the training config");
        }
      } else {
        throw Errors.badInput(
            "tuning space of '" + entry.getKey() + "' must be a list or a {min, max} range",
            "correct the tuning section of the training config");
      }
    }
  }
}
