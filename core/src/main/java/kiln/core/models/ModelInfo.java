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
    return toBuilder().metrics(values).build();
  }

  /**
   * A builder: sixteen components are too many to pass by position. The split defaults to Kiln's
   * ({@link Split#DEFAULT_SEED}, {@link SplitFractions#DEFAULT}), the threshold to 0.5, the device
   * to cpu, groups, hyperparameters and metrics to none; the rest must be given.
   */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .task(task)
        .label(label)
        .featureColumns(featureColumns)
        .key(key)
        .seed(seed)
        .split(split)
        .threshold(threshold)
        .groupColumns(groupColumns)
        .minGroupRows(minGroupRows)
        .featureTable(featureTable, featureVersion)
        .dataTable(dataTable, dataVersion)
        .device(device)
        .hyperparameters(hyperparameters)
        .metrics(metrics);
  }

  /** Builds a {@link ModelInfo}; see {@link #builder()} for the defaults. */
  public static final class Builder {
    private Task task;
    private String label;
    private List<String> featureColumns;
    private String key;
    private long seed = Split.DEFAULT_SEED;
    private SplitFractions split = SplitFractions.DEFAULT;
    private double threshold = 0.5;
    private List<String> groupColumns = List.of();
    private int minGroupRows;
    private String featureTable;
    private long featureVersion;
    private String dataTable;
    private Long dataVersion;
    private String device = "cpu";
    private Map<String, Object> hyperparameters = Map.of();
    private Map<String, Double> metrics = Map.of();

    private Builder() {}

    public Builder task(Task value) {
      task = value;
      return this;
    }

    public Builder label(String value) {
      label = value;
      return this;
    }

    public Builder featureColumns(List<String> value) {
      featureColumns = value;
      return this;
    }

    public Builder key(String value) {
      key = value;
      return this;
    }

    public Builder seed(long value) {
      seed = value;
      return this;
    }

    public Builder split(SplitFractions value) {
      split = value;
      return this;
    }

    public Builder threshold(double value) {
      threshold = value;
      return this;
    }

    public Builder groupColumns(List<String> value) {
      groupColumns = value;
      return this;
    }

    public Builder minGroupRows(int value) {
      minGroupRows = value;
      return this;
    }

    /** The feature table version the model was trained on. */
    public Builder featureTable(String table, long version) {
      featureTable = table;
      featureVersion = version;
      return this;
    }

    /** The table the features were built from, and its version, when known. */
    public Builder dataTable(String table, Long version) {
      dataTable = table;
      dataVersion = version;
      return this;
    }

    public Builder device(String value) {
      device = value;
      return this;
    }

    public Builder hyperparameters(Map<String, Object> value) {
      hyperparameters = value;
      return this;
    }

    public Builder metrics(Map<String, Double> value) {
      metrics = value;
      return this;
    }

    public ModelInfo build() {
      java.util.Objects.requireNonNull(task, "task is null");
      java.util.Objects.requireNonNull(label, "label is null");
      java.util.Objects.requireNonNull(featureColumns, "featureColumns is null");
      java.util.Objects.requireNonNull(featureTable, "featureTable is null");
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
          metrics);
    }
  }
}
