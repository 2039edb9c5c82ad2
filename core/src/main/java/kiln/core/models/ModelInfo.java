package kiln.core.models;

import java.util.List;
import java.util.Map;

/**
 * What Kiln keeps beside a saved model ({@code kiln-model.json}): how to score with it, and which
 * data and split it was trained and tested on, so that a gate can rebuild the same test set.
 */
public record ModelInfo(
    Task task,
    String label,
    List<String> featureColumns,
    String key,
    long seed,
    SplitFractions split,
    double threshold,
    List<String> groupColumns,
    int minGroupRows,
    String featureTable,
    long featureVersion,
    String dataTable,
    Long dataVersion,
    String device,
    Map<String, Object> hyperparameters,
    Map<String, Double> metrics) {

  public ModelInfo {
    featureColumns = List.copyOf(featureColumns);
    groupColumns = List.copyOf(groupColumns);
    hyperparameters = hyperparameters == null ? Map.of() : Map.copyOf(hyperparameters);
    metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
  }

  public ModelInfo withMetrics(Map<String, Double> values) {
    return new ModelInfo(
        task,
        label,
        featureColumns,
        key,
        seed,
        split,
        threshold,
        groupColumns,
        minGroupRows,
        featureTable,
        featureVersion,
        dataTable,
        dataVersion,
        device,
        hyperparameters,
        values);
  }
}
