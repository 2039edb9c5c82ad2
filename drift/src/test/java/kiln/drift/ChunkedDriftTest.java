package kiln.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import kiln.core.BadInputException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code --chunk}: the current side compared per chunk (by rows and by day), multivariate drift and
 * CBPE per chunk in the result and the report, and chunks below the minimum refused.
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class ChunkedDriftTest {
  static final StructType SCHEMA =
      new StructType()
          .add("day", DataTypes.DateType)
          .add("a", DataTypes.DoubleType)
          .add("b", DataTypes.DoubleType)
          .add("c", DataTypes.DoubleType);

  /**
   * 100 rows a day; b follows a (correlation 0.8) until {@code brokenFrom}, then b is independent
   * of a with the same N(0, 1) distribution: no column's own distribution changes.
   */
  static Dataset<Row> days(
      SparkSession spark, LocalDate first, int days, int brokenFrom, long seed) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int d = 0; d < days; d++) {
      for (int i = 0; i < 100; i++) {
        double a = random.nextGaussian();
        double b = d >= brokenFrom ? random.nextGaussian() : 0.8 * a + 0.6 * random.nextGaussian();
        rows.add(RowFactory.create(first.plusDays(d), a, b, random.nextGaussian()));
      }
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  @Test
  void chunksByDayShowTheBrokenCorrelationOnlyInTheMultivariateDrift(SparkSession spark) {
    Dataset<Row> reference = days(spark, LocalDate.of(2012, 1, 1), 10, 99, 1);
    Dataset<Row> current = days(spark, LocalDate.of(2015, 1, 1), 6, 3, 2);

    DriftResult result =
        new DriftMonitor(spark, DriftConfig.defaults(), m -> {}, Chunking.period("day"), null)
            .compare(reference, current);

    assertThat(result.chunking()).isEqualTo("day");
    // the domain classifier runs only when the config lists it, chunks or not
    assertThat(result.domainClassifier()).isNull();
    assertThat(result.chunks())
        .extracting(ChunkDrift::chunk)
        .containsExactly(
            "2015-01-01", "2015-01-02", "2015-01-03", "2015-01-04", "2015-01-05", "2015-01-06");
    assertThat(result.chunks()).allSatisfy(c -> assertThat(c.rows()).isEqualTo(100));
    // the whole current side column by column: no drift (each column's distribution is unchanged;
    // a single column may cross the p-value by chance, the share stays below the threshold)
    assertThat(result.driftedShare()).isLessThan(result.thresholds().driftShare());
    assertThat(result.summary()).contains(": no drift (left out as the time axis: day");
    assertThat(result.chunks().get(0).features())
        .extracting(FeatureDrift::name)
        .contains("a", "b", "c");

    MultivariateDrift m = result.multivariate();
    assertThat(m).isNotNull();
    assertThat(m.columns()).containsExactly("a", "b", "c");
    assertThat(m.reference()).hasSize(10);
    assertThat(m.current())
        .extracting(ChunkValue::alert)
        .containsExactly(false, false, false, true, true, true);
    assertThat(result.drifted()).isTrue();
    assertThat(result.summary())
        .contains("of 6 chunks (day) drifted column by column (reported, not in the verdict)")
        .contains("in 3 of 6 chunk(s)")
        .endsWith(": DRIFTED");

    InMemoryRun run = new InMemoryRun();
    DriftTracking.report(run, result, null);
    assertThat(run.metrics)
        .containsEntry("drift.multivariate.alerts", 3.0)
        .containsEntry("drift.chunks.count", 6.0)
        .containsKey("drift.multivariate.max_error");
    assertThat(run.tags).containsEntry("drift.chunking", "day");

    String html = DriftReport.html(result);
    assertThat(html)
        .contains("Multivariate drift: PCA reconstruction error")
        .contains("Drift over chunks (day)");
    assertThat(html).contains("current 2015-01-04").contains(", alert</title>");
  }

  @Test
  void withoutChunkingTheCurrentSideIsOneChunkAgainstTenReferenceChunks(SparkSession spark) {
    Dataset<Row> reference = days(spark, LocalDate.of(2012, 1, 1), 10, 99, 3);
    Dataset<Row> stable = days(spark, LocalDate.of(2015, 1, 1), 3, 99, 4);

    // multivariate drift without chunks is asked for in the config's statistics (the domain
    // classifier has its own test, DomainClassifierDriftTest)
    DriftConfig multivariate =
        DriftConfig.defaults()
            .withStatistics(
                List.copyOf(
                    java.util.EnumSet.complementOf(
                        java.util.EnumSet.of(Statistic.DOMAIN_CLASSIFIER))));
    DriftResult result = new DriftMonitor(spark, multivariate).compare(reference, stable);
    assertThat(
            new DriftMonitor(spark, DriftConfig.defaults())
                .compare(reference, stable)
                .multivariate())
        .isNull();

    assertThat(result.chunks()).isEmpty();
    assertThat(result.multivariate().reference()).hasSize(Chunking.DEFAULT_REFERENCE_CHUNKS);
    assertThat(result.multivariate().current())
        .extracting(ChunkValue::chunk)
        .containsExactly("all");
    assertThat(result.multivariate().drifted()).isFalse();
    assertThat(result.drifted()).isFalse();
  }

  @Test
  void chunksBySizeFollowTheTimeColumnAndCbpeIsEstimatedPerChunk(SparkSession spark) {
    // a classifier's score and label: the label is drawn from the score's own probability
    Random random = new Random(5);
    StructType schema =
        new StructType()
            .add("day", DataTypes.DateType)
            .add("x", DataTypes.DoubleType)
            .add("score", DataTypes.DoubleType)
            .add("label", DataTypes.IntegerType);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      double x = random.nextGaussian();
      double p = 1 / (1 + Math.exp(-2 * x));
      rows.add(
          RowFactory.create(
              LocalDate.of(2020, 1, 1).plusDays(i % 20), x, p, random.nextDouble() < p ? 1 : 0));
    }
    Dataset<Row> reference = spark.createDataFrame(rows, schema);
    Dataset<Row> current = spark.createDataFrame(rows.subList(0, 1000), schema).drop("label");

    DriftResult result =
        new DriftMonitor(
                spark,
                DriftConfig.defaults().withColumns(List.of("x"), "score", null),
                m -> {},
                Chunking.size(250),
                new Estimation("score", "label", 0.5))
            .compare(reference, current);

    assertThat(result.chunks()).extracting(ChunkDrift::chunk).containsExactly("0", "1", "2", "3");
    assertThat(result.multivariateNote()).contains("two or more numeric features, found 1");
    assertThat(result.estimated())
        .extracting(PerformanceEstimate::metric)
        .containsExactly("roc_auc", "accuracy", "precision", "recall", "f1");
    PerformanceEstimate auc = result.estimated().get(0);
    assertThat(auc.reference()).hasSize(8);
    assertThat(auc.current()).hasSize(4);
    // no labels on the current side: estimated, not realized
    assertThat(auc.current()).allSatisfy(c -> assertThat(c.realized()).isNaN());
    assertThat(auc.current()).allSatisfy(c -> assertThat(c.value()).isBetween(0.75, 0.9));
    assertThat(DriftReport.html(result))
        .contains("Estimated roc_auc without labels (CBPE)")
        .contains("no labels");
  }

  @Test
  void chunksBelowTheMinimumSizeAreBadInputThatSaysTheSize(SparkSession spark) {
    Dataset<Row> reference = days(spark, LocalDate.of(2012, 1, 1), 10, 99, 6);
    Dataset<Row> current = days(spark, LocalDate.of(2015, 1, 1), 1, 99, 7);

    assertThatThrownBy(
            () ->
                new DriftMonitor(spark, DriftConfig.defaults(), m -> {}, Chunking.count(3), null)
                    .compare(reference, current))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("below the minimum chunk size of 50 rows")
        .hasMessageContaining("0 (34 rows), 1 (33 rows), 2 (33 rows)");
    assertThatThrownBy(() -> Chunking.parse("10"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("minimum chunk size of 50 rows");
    assertThatThrownBy(() -> Chunking.parse("fortnight"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("day|week|month|ROWS|count:N");
    assertThat(Chunking.parse("count:4")).isEqualTo(Chunking.count(4));
    assertThat(Chunking.parse("Week")).isEqualTo(Chunking.period("week"));
  }

  @Test
  void cbpeWithoutACalibrationReferenceIsBadInputThatSaysHowToMakeOne(SparkSession spark) {
    Dataset<Row> reference =
        days(spark, LocalDate.of(2012, 1, 1), 10, 99, 8).withColumnRenamed("a", "score");
    assertThatThrownBy(() -> Cbpe.fit(reference, "score", "label", 0.5))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("calibration reference with labels")
        .hasMessageContaining("model's test split");
  }
}
