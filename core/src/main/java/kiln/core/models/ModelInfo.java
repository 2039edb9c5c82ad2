package kiln.core.models;

import java.util.List;
import java.util.Map;

/**
 * What Kiln keeps beside a saved model ({@code kiln-model.json}): how to score with it, and which
 * data and split it was trained and tested on, so that a gate can rebuild the same test set.
 *
 * <p>{@code featureColumns} are the numeric columns the model reads. A text model also reads the
 * string columns {@code textColumns}: its saved Spark model is then a pipeline that embeds them and
 * assembles its own feature vector (see {@link ModelFiles#score}).
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
    Map<String, Double> metrics,
    List<String> textColumns) {

  public ModelInfo {
    featureColumns = List.copyOf(featureColumns);
    // files written before text models existed have no textColumns
    textColumns = textColumns == null ? List.of() : List.copyOf(textColumns);
    groupColumns = List.copyOf(groupColumns);
    hyperparameters = hyperparameters == null ? Map.of() : Map.copyOf(hyperparameters);
    metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
  }

  /** A model of numeric columns only (no text columns). */
  public ModelInfo(
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
    this(
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
        metrics,
        List.of());
  }

  /** Every column a row to score must hold: the feature columns, then the text columns. */
  public List<String> inputColumns() {
    List<String> columns = new java.util.ArrayList<>(featureColumns);
    textColumns.stream().filter(c -> !columns.contains(c)).forEach(columns::add);
    return List.copyOf(columns);
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
        values,
        textColumns);
  }
}
