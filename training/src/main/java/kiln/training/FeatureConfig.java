package kiln.training;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;

/**
 * What {@code kiln features} builds: a feature table declared as Spark SQL expressions (no UDFs, so
 * that the RAPIDS Accelerator can run them), for any input table. {@code
 * training/examples/flights-features.yaml} is the flights sample's.
 *
 * @param input the input table, {@code TABLE[@VERSION]}; the latest version when none is given
 * @param output the feature table (Delta); every build is a new version of it
 * @param columns the feature table's row-level columns, in order: name to a Spark SQL expression
 *     over the input's columns, e.g. {@code hour: cast(hour(date) as double)}
 * @param key the column (one of {@code columns}) whose hash splits the rows into train, validation
 *     and test
 * @param trainingPeriod a Spark SQL condition over {@code columns}: codes and statistics come from
 *     the rows that match it only (the training period), so that no later data leaks into them; all
 *     rows when absent
 * @param codes shared ordinal codes: per entry, the columns that share one dictionary and the
 *     column each one's code goes to (1 for the smallest value of the training period; null for a
 *     value it lacks). Codes hold no label, so every row of the training period counts.
 * @param statistics per group, aggregates over the train rows of the training period only (no
 *     validation or test label reaches them), joined to every row by the group's columns (null for
 *     a group that the train rows lack)
 * @param where keep only the feature rows matching this Spark SQL condition, e.g. the scoring
 *     period (statistics still come from the training period); all rows when absent
 * @param seed seed of the train/validation/test split (default 42, as in {@link TrainConfig})
 * @param split shares of train, validation and test (default 0.7 / 0.15 / 0.15, as in {@link
 *     TrainConfig}); {@code kiln train} refuses a training config with another split or key
 */
public record FeatureConfig(
    String input,
    String output,
    Map<String, String> columns,
    String key,
    String trainingPeriod,
    List<Codes> codes,
    List<GroupStatistics> statistics,
    String where,
    Long seed,
    SplitFractions split) {

  /**
   * One dictionary shared by several columns (e.g. origin and destination airports).
   *
   * @param columns each coded column (one of the feature config's {@code columns}) and the column
   *     its code goes to
   */
  public record Codes(Map<String, String> columns) {
    public Codes {
      Objects.requireNonNull(
          columns, "codes: columns is missing; map each coded column to its code column");
      if (columns.isEmpty()) {
        throw Errors.badInput(
            "codes: columns is empty; map each coded column to its code column",
            "correct the feature config (--config)");
      }
      columns = ordered(columns);
    }
  }

  /**
   * Aggregates per group.
   *
   * @param by the group's columns (of the feature config's {@code columns}), e.g. [origin,
   *     destination]
   * @param columns name to a Spark SQL aggregate over the feature columns, e.g. {@code
   *     route_delay_rate: avg(label)}
   */
  public record GroupStatistics(List<String> by, Map<String, String> columns) {
    public GroupStatistics {
      Objects.requireNonNull(
          by, "statistics: by is missing; give the group's columns, e.g. by: [origin]");
      Objects.requireNonNull(
          columns,
          "statistics: columns is missing; name each aggregate, e.g. origin_rate: avg(label)");
      if (by.isEmpty() || columns.isEmpty()) {
        throw Errors.badInput(
            "statistics by " + by + ": give at least one group column and one aggregate",
            "correct the feature config (--config)");
      }
      by = List.copyOf(by);
      columns = ordered(columns);
    }
  }

  public FeatureConfig {
    Objects.requireNonNull(
        input, "input is missing: give the input table, e.g. input: /data/flights@0");
    Objects.requireNonNull(
        output, "output is missing: give the feature table to write, e.g. output: /data/features");
    Objects.requireNonNull(
        columns,
        "columns is missing: declare the feature columns, e.g. columns: {hour: hour(date)}");
    Objects.requireNonNull(
        key, "key is missing: name the column the split hashes, e.g. key: flight_id");
    DatasetRef.parse(input);
    if (DatasetRef.parse(output).version() != null
        || DatasetRef.parse(output).timestamp() != null) {
      throw Errors.badInput(
          "output '" + output + "' names a version; give the table only",
          "correct the feature config (--config)");
    }
    if (columns.isEmpty()) {
      throw Errors.badInput(
          "columns is empty; declare at least the key and the label",
          "correct the feature config (--config)");
    }
    columns = ordered(columns);
    if (!columns.containsKey(key)) {
      throw Errors.badInput(
          "key '" + key + "' is not one of the columns " + columns.keySet(),
          "correct the feature config (--config)");
    }
    trainingPeriod = blankToNull(trainingPeriod);
    where = blankToNull(where);
    codes = codes == null ? List.of() : List.copyOf(codes);
    statistics = statistics == null ? List.of() : List.copyOf(statistics);
    seed = seed == null ? Split.DEFAULT_SEED : seed;
    split = split == null ? SplitFractions.DEFAULT : split;
    Set<String> names = new HashSet<>(columns.keySet());
    for (Codes code : codes) {
      for (Map.Entry<String, String> coded : code.columns().entrySet()) {
        requireColumn(columns, coded.getKey(), "codes");
        unique(names, coded.getValue());
      }
    }
    for (GroupStatistics group : statistics) {
      for (String column : group.by()) {
        requireColumn(columns, column, "statistics by");
      }
      group.columns().keySet().forEach(name -> unique(names, name));
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this config's values, e.g. to point an example config at other tables. */
  public Builder toBuilder() {
    return new Builder()
        .input(input)
        .output(output)
        .columns(columns)
        .key(key)
        .trainingPeriod(trainingPeriod)
        .codes(codes)
        .statistics(statistics)
        .where(where)
        .seed(seed)
        .split(split);
  }

  public DatasetRef inputRef() {
    return DatasetRef.parse(input);
  }

  /**
   * Every column the feature table has, in its order: the row-level columns, the codes, the
   * statistics.
   */
  public List<String> outputColumns() {
    List<String> all = new ArrayList<>(columns.keySet());
    codes.forEach(c -> all.addAll(c.columns().values()));
    statistics.forEach(s -> all.addAll(s.columns().keySet()));
    return all;
  }

  private static void requireColumn(Map<String, String> columns, String column, String where) {
    if (!columns.containsKey(column)) {
      throw Errors.badInput(
          where + ": '" + column + "' is not one of the columns " + columns.keySet(),
          "correct the feature config (--config)");
    }
  }

  private static void unique(Set<String> names, String name) {
    if (!names.add(name)) {
      throw Errors.badInput(
          "column '" + name + "' is declared twice; give each feature column its own name",
          "correct the feature config (--config)");
    }
  }

  private static Map<String, String> ordered(Map<String, String> map) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text;
  }

  /** Builds a {@link FeatureConfig}; what is not set takes the record's default. */
  public static final class Builder {
    private String input;
    private String output;
    private Map<String, String> columns;
    private String key;
    private String trainingPeriod;
    private List<Codes> codes;
    private List<GroupStatistics> statistics;
    private String where;
    private Long seed;
    private SplitFractions split;

    private Builder() {}

    public Builder input(String value) {
      this.input = value;
      return this;
    }

    public Builder output(String value) {
      this.output = value;
      return this;
    }

    public Builder columns(Map<String, String> value) {
      this.columns = value;
      return this;
    }

    public Builder key(String value) {
      this.key = value;
      return this;
    }

    public Builder trainingPeriod(String value) {
      this.trainingPeriod = value;
      return this;
    }

    public Builder codes(List<Codes> value) {
      this.codes = value;
      return this;
    }

    public Builder statistics(List<GroupStatistics> value) {
      this.statistics = value;
      return this;
    }

    public Builder where(String value) {
      this.where = value;
      return this;
    }

    public Builder seed(Long value) {
      this.seed = value;
      return this;
    }

    public Builder split(SplitFractions value) {
      this.split = value;
      return this;
    }

    public FeatureConfig build() {
      return new FeatureConfig(
          input, output, columns, key, trainingPeriod, codes, statistics, where, seed, split);
    }
  }
}
