package kiln.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import kiln.core.models.Task;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import org.apache.spark.sql.SparkSession;

/**
 * Random or grid search: a nested run per trial, the best chosen by the primary metric on the
 * validation split.
 */
public final class Tuner {
  /** One trial: its hyperparameters, the trained model, its validation score and its run. */
  public record Trial(
      int number,
      Map<String, Object> hyperparameters,
      TrainingResult result,
      double score,
      String runId) {}

  private final Trainer trainer;

  public Tuner(SparkSession spark, kiln.core.GpuProbe gpuProbe) {
    this.trainer = new Trainer(spark, gpuProbe);
  }

  /** Runs every trial; returns them in order, the best first in {@link #best}. */
  public List<Trial> tune(
      TrainConfig config,
      TuningConfig tuning,
      Tracking tracking,
      String experiment,
      TrackedRun parent,
      Path directory) {
    List<Map<String, Object>> candidates =
        candidates(config.hyperparameters(), tuning, config.seed());
    // every name is checked before the first trial trains
    candidates.forEach(c -> Trainer.estimator(config.withHyperparameters(c)));
    // one resolution of the feature table for every trial: they all train on the same version
    kiln.core.PinnedTable features = trainer.pin(config);
    List<Trial> trials = new ArrayList<>();
    String metric = config.task().primaryMetric();
    for (int i = 0; i < candidates.size(); i++) {
      Map<String, Object> values = candidates.get(i);
      Map<String, String> tags = new LinkedHashMap<>();
      tags.put("mlflow.parentRunId", parent.id());
      tags.put("kiln.job", "train-trial");
      try (TrackedRun run = tracking.startRun(experiment, "trial " + (i + 1), tags)) {
        Map<String, String> params = new LinkedHashMap<>();
        values.forEach((k, v) -> params.put("xgb_" + k, String.valueOf(v)));
        run.logParams(params);
        TrainingResult result =
            trainer.train(
                config.withHyperparameters(values),
                features,
                directory.resolve("trial-" + (i + 1)));
        run.logMetrics(result.metrics());
        double score = result.validationMetrics().get(metric);
        run.logMetrics(Map.of("validation_" + metric, score));
        trials.add(new Trial(i + 1, values, result, score, run.id()));
        parent.logMetric("trial_validation_" + metric, score, i + 1);
      }
    }
    return trials;
  }

  public static Trial best(List<Trial> trials, Task task) {
    Trial best = trials.get(0);
    for (Trial trial : trials) {
      boolean better =
          task.higherIsBetter() ? trial.score() > best.score() : trial.score() < best.score();
      if (better || Double.isNaN(best.score())) {
        best = trial;
      }
    }
    return best;
  }

  /**
   * The hyperparameter sets to try: the fixed ones overlaid with each grid point or random draw.
   */
  static List<Map<String, Object>> candidates(
      Map<String, Object> fixed, TuningConfig tuning, long seed) {
    List<Map<String, Object>> sets = new ArrayList<>();
    if (tuning.strategy() == TuningConfig.Strategy.GRID) {
      sets.add(new LinkedHashMap<>(fixed));
      for (Map.Entry<String, Object> entry : tuning.space().entrySet()) {
        List<Map<String, Object>> next = new ArrayList<>();
        for (Map<String, Object> set : sets) {
          for (Object value : (List<?>) entry.getValue()) {
            Map<String, Object> copy = new LinkedHashMap<>(set);
            copy.put(entry.getKey(), value);
            next.add(copy);
          }
        }
        sets = next;
      }
      return sets;
    }
    Random random = new Random(seed);
    for (int i = 0; i < tuning.trials(); i++) {
      Map<String, Object> set = new LinkedHashMap<>(fixed);
      tuning.space().forEach((name, values) -> set.put(name, draw(values, random)));
      sets.add(set);
    }
    return sets;
  }

  private static Object draw(Object values, Random random) {
    if (values instanceof List<?> list) {
      return list.get(random.nextInt(list.size()));
    }
    Map<?, ?> range = (Map<?, ?>) values;
    double min = ((Number) range.get("min")).doubleValue();
    double max = ((Number) range.get("max")).doubleValue();
    double value =
        Boolean.TRUE.equals(range.get("log")) && min > 0
            ? Math.exp(Math.log(min) + random.nextDouble() * (Math.log(max) - Math.log(min)))
            : min + random.nextDouble() * (max - min);
    return Boolean.TRUE.equals(range.get("integer"))
        ? (Object) (int) Math.round(value)
        : (Object) value;
  }
}
