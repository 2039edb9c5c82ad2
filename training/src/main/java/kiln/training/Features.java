package kiln.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import kiln.core.Errors;
import kiln.core.models.Split;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.expressions.Window;

/**
 * Builds the feature table a {@link FeatureConfig} declares, with Spark SQL expressions only. Codes
 * come from the training period, statistics from its train rows (the split {@link Trainer}
 * applies): a validation or test row's label never reaches the features it is evaluated with.
 */
public final class Features {
  private Features() {}

  /**
   * The feature table of {@code input} ({@code inputName} names it in messages, e.g. the table and
   * version), before the config's {@code where}.
   */
  public static Dataset<Row> build(Dataset<Row> input, String inputName, FeatureConfig config) {
    List<Column> rowColumns = new ArrayList<>();
    config
        .columns()
        .forEach((name, sql) -> rowColumns.add(expression("column '" + name + "'", sql).as(name)));
    Dataset<Row> rows =
        analysed(
            input, inputName, "the columns", () -> input.select(rowColumns.toArray(new Column[0])));
    Dataset<Row> period =
        config.trainingPeriod() == null
            ? rows
            : analysed(
                rows,
                "the feature columns",
                "trainingPeriod",
                () -> rows.where(expression("trainingPeriod", config.trainingPeriod())));
    Dataset<Row> train = period.where(Split.isTrain(config.key(), config.seed(), config.split()));

    Dataset<Row> features = rows;
    for (FeatureConfig.Codes code : config.codes()) {
      Dataset<Row> dictionary = dictionary(period, List.copyOf(code.columns().keySet()));
      for (Map.Entry<String, String> coded : code.columns().entrySet()) {
        features =
            features.join(
                dictionary
                    .withColumnRenamed("kiln_value", coded.getKey())
                    .withColumnRenamed("kiln_code", coded.getValue()),
                coded.getKey(),
                "left");
      }
    }
    for (FeatureConfig.GroupStatistics group : config.statistics()) {
      List<Column> aggregates = new ArrayList<>();
      group
          .columns()
          .forEach(
              (name, sql) -> aggregates.add(expression("statistic '" + name + "'", sql).as(name)));
      Column[] by = group.by().stream().map(c -> col(c)).toArray(Column[]::new);
      Dataset<Row> statistics =
          analysed(
              train,
              "the feature columns",
              "the statistics by " + group.by(),
              () ->
                  train
                      .groupBy(by)
                      .agg(
                          aggregates.get(0),
                          aggregates.subList(1, aggregates.size()).toArray(new Column[0])));
      features =
          features.join(
              statistics,
              scala.collection.JavaConverters.asScalaBuffer(group.by()).toSeq(),
              "left");
    }
    return features.select(config.outputColumns().stream().map(c -> col(c)).toArray(Column[]::new));
  }

  /** The rows of {@code features} that the config's {@code where} keeps (all without one). */
  public static Dataset<Row> kept(Dataset<Row> features, FeatureConfig config) {
    return config.where() == null
        ? features
        : analysed(
            features,
            "the feature table",
            "where",
            () -> features.where(expression("where", config.where())));
  }

  /**
   * The distinct values of {@code columns} in {@code period} (nulls left out), each with its
   * 1-based position in ascending order as a double: a few hundred rows for airports, numbered in
   * one partition on purpose.
   */
  private static Dataset<Row> dictionary(Dataset<Row> period, List<String> columns) {
    Dataset<Row> values = null;
    for (String column : columns) {
      Dataset<Row> one = period.select(col(column).as("kiln_value"));
      values = values == null ? one : values.union(one);
    }
    Dataset<Row> distinct = values.where(col("kiln_value").isNotNull()).distinct();
    return distinct.withColumn(
        "kiln_code",
        row_number().over(Window.partitionBy(lit(0)).orderBy(col("kiln_value"))).cast("double"));
  }

  private static Column expression(String what, String sql) {
    try {
      return expr(sql);
    } catch (Exception error) {
      // Scala throws ParseException (checked to Java) without declaring it
      if (!(error instanceof ParseException e)) {
        throw error instanceof RuntimeException r ? r : new IllegalStateException(error);
      }
      throw Errors.badInput(
          what + " = '" + sql + "' is not valid Spark SQL: " + firstLine(e.getMessage()),
          "correct the expression in the feature config",
          e);
    }
  }

  /**
   * Runs Spark's analysis of {@code plan}; a missing column or a wrong expression becomes a message
   * naming it.
   */
  private static Dataset<Row> analysed(
      Dataset<Row> over, String overName, String what, Supplier<Dataset<Row>> plan) {
    try {
      return plan.get();
    } catch (Exception error) {
      // Scala throws AnalysisException (checked to Java) without declaring it
      if (!(error instanceof AnalysisException e)) {
        throw error instanceof RuntimeException r ? r : new IllegalStateException(error);
      }
      if (e.getErrorClass() != null && e.getErrorClass().startsWith("UNRESOLVED_COLUMN")) {
        String column = e.getMessageParameters().getOrDefault("objectName", "?").replace("`", "");
        throw Errors.missingColumns(overName, List.of(column), Arrays.asList(over.columns()));
      }
      throw Errors.badInput(
          what
              + " of the feature config cannot be computed over "
              + overName
              + ": "
              + firstLine(e.getMessage()),
          "correct the expression in the feature config",
          e);
    }
  }

  private static String firstLine(String message) {
    int newline = message == null ? -1 : message.indexOf('\n');
    return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
  }
}
