package kiln.drift;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.util.List;
import kiln.core.BadInputException;
import kiln.drift.internal.Chunker;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kiln's direct loss estimation against NannyML 0.13.1's DLE on the same data: the fixture {@code
 * nannyml/dle.json} and its data {@code nannyml/regression.csv.gz} were written by {@code
 * python/nannyml/make_dle_fixture.py} (re-run it with the venv {@code bin/kiln-python-env
 * nannyml}).
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class DleAgreementTest {
  /**
   * Kiln's loss model is not NannyML's (its own boosted trees on 32 bins against LightGBM's 255
   * bins, leaf-wise growth and categorical splits), so per-chunk estimates differ by what two
   * different fits of a noisy per-row loss differ by. The bar: within one sampling error of the
   * chunk (NannyML's own, the noise of the realized metric at that chunk size), so that the two
   * estimators cannot disagree by more than the chunk's own noise. Measured: at most 0.92 sampling
   * errors (MSLE), 2.4% (MAE) to 5.3% (MSLE) of the value.
   */
  static final double ESTIMATE_TOLERANCE_IN_SAMPLING_ERRORS = 1.0;

  /** Realized metrics, bands and sampling errors follow NannyML's definitions exactly. */
  static final double DEFINITION_TOLERANCE = 1e-9;

  static final List<String> FEATURES = List.of("x1", "x2", "x3");
  static final List<String> CATEGORICAL = List.of("c1");

  static final StructType SCHEMA =
      new StructType()
          .add("x1", DataTypes.DoubleType)
          .add("x2", DataTypes.DoubleType)
          .add("x3", DataTypes.DoubleType)
          .add("c1", DataTypes.StringType)
          .add("y_pred", DataTypes.DoubleType)
          .add("y", DataTypes.DoubleType)
          .add("period", DataTypes.StringType);

  static JsonNode expected;

  @BeforeAll
  static void readFixture() throws IOException, URISyntaxException {
    expected =
        new ObjectMapper().readTree(NannyMlAgreementTest.resource("nannyml/dle.json").toFile());
    assertThat(expected.get("nannyml").asText()).isEqualTo("0.13.1");
  }

  static Dataset<Row> period(SparkSession spark, String name) throws URISyntaxException {
    return spark
        .read()
        .option("header", "true")
        .schema(SCHEMA)
        .csv(NannyMlAgreementTest.resource("nannyml/regression.csv.gz").toString())
        .where(col("period").equalTo(name))
        .drop("period")
        .coalesce(1);
  }

  static Dataset<Row> chunks(SparkSession spark, String name) throws URISyntaxException {
    return Chunker.assign(
        period(spark, name), Chunking.size(expected.get("chunk_size").asInt()), null);
  }

  @Test
  void dleEstimatesPerChunkAreNearNannyMlsWithItsBandsSamplingErrorsAndAlerts(SparkSession spark)
      throws Exception {
    Dle dle = Dle.fit(period(spark, "reference"), FEATURES, CATEGORICAL, "y_pred", "y", null);
    assertThat(dle.metrics()).isEqualTo(Dle.METRICS);
    List<PerformanceEstimate> estimates =
        dle.estimate(chunks(spark, "reference"), chunks(spark, "analysis"));

    assertThat(estimates).extracting(PerformanceEstimate::metric).isEqualTo(Dle.METRICS);
    for (PerformanceEstimate estimate : estimates) {
      JsonNode nanny = expected.get("dle").get(estimate.metric());
      assertThat(estimate.method()).isEqualTo("DLE");
      assertThat(estimate.lower())
          .isCloseTo(nanny.get("lower").asDouble(), within(DEFINITION_TOLERANCE));
      assertThat(estimate.upper())
          .isCloseTo(nanny.get("upper").asDouble(), within(DEFINITION_TOLERANCE));
      assertThat(estimate.current()).hasSize(nanny.get("analysis").size());
      double worst = 0;
      for (int i = 0; i < estimate.current().size(); i++) {
        ChunkValue kiln = estimate.current().get(i);
        JsonNode chunk = nanny.get("analysis").get(i);
        double theirs = chunk.get("estimated").asDouble();
        System.out.printf(
            "%s chunk %s: kiln %.6f nannyml %.6f (%+.2f%%) realized %.6f/%.6f sampling error"
                + " %.6f/%.6f alert %s/%s%n",
            estimate.metric(),
            kiln.chunk(),
            kiln.value(),
            theirs,
            100 * (kiln.value() - theirs) / theirs,
            kiln.realized(),
            chunk.get("realized").asDouble(),
            kiln.samplingError(),
            chunk.get("sampling_error").asDouble(),
            kiln.alert(),
            chunk.get("alert"));
        double samplingError = chunk.get("sampling_error").asDouble();
        worst = Math.max(worst, Math.abs(kiln.value() - theirs) / samplingError);
        assertThat(kiln.value())
            .isCloseTo(theirs, within(ESTIMATE_TOLERANCE_IN_SAMPLING_ERRORS * samplingError));
        assertThat(kiln.realized())
            .isCloseTo(chunk.get("realized").asDouble(), within(DEFINITION_TOLERANCE));
        assertThat(kiln.samplingError())
            .isCloseTo(chunk.get("sampling_error").asDouble(), within(DEFINITION_TOLERANCE));
        assertThat(kiln.alert()).isEqualTo(chunk.get("alert").asBoolean());
      }
      System.out.printf(
          "%s: largest difference from NannyML %.3f sampling errors%n", estimate.metric(), worst);
      // the errors grew in the last three chunks, and the estimate saw it without labels
      assertThat(estimate.current().stream().filter(ChunkValue::alert).map(ChunkValue::chunk))
          .hasSize(3);
    }
  }

  @Test
  void withoutLabelsTheEstimatesAreTheSameAndTheRealizedMetricIsUnknown(SparkSession spark)
      throws Exception {
    Dle dle =
        Dle.fit(
            period(spark, "reference"),
            FEATURES,
            CATEGORICAL,
            "y_pred",
            "y",
            List.of("mae", "rmse"));
    List<PerformanceEstimate> labelled =
        dle.estimate(chunks(spark, "reference"), chunks(spark, "analysis"));
    List<PerformanceEstimate> unlabelled =
        dle.estimate(chunks(spark, "reference"), chunks(spark, "analysis").drop("y"));

    assertThat(unlabelled).extracting(PerformanceEstimate::metric).containsExactly("mae", "rmse");
    for (int m = 0; m < 2; m++) {
      for (int i = 0; i < labelled.get(m).current().size(); i++) {
        ChunkValue with = labelled.get(m).current().get(i);
        ChunkValue without = unlabelled.get(m).current().get(i);
        assertThat(without.value()).isCloseTo(with.value(), within(1e-12));
        assertThat(without.alert()).isEqualTo(with.alert());
        assertThat(without.realized()).isNaN();
      }
    }
  }

  @Test
  void logarithmicMetricsOfNegativeValuesAndClassificationMetricsOfARegressorAreBadInput(
      SparkSession spark) throws Exception {
    Dataset<Row> negative = period(spark, "reference").withColumn("y", col("y").minus(lit(40)));
    // by default MSLE and RMSLE are left out of negative data; asked for, they are refused
    assertThat(Dle.fit(negative, FEATURES, CATEGORICAL, "y_pred", "y", null).metrics())
        .containsExactly("mae", "mape", "mse", "rmse");
    assertThatThrownBy(
            () -> Dle.fit(negative, FEATURES, CATEGORICAL, "y_pred", "y", List.of("rmsle")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("MSLE and RMSLE need labels and predictions of at least 0");
    assertThatThrownBy(() -> Estimation.regressor("y_pred", "y", List.of("mae", "roc_auc")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("'roc_auc' is a classification metric, asked of a regressor");
    assertThatThrownBy(() -> new Estimation("score", "label", 0.5, false, List.of("rmse")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("'rmse' is a regression metric, asked of a classifier");
    assertThatThrownBy(
            () -> Dle.fit(period(spark, "reference"), FEATURES, CATEGORICAL, "y_pred", null, null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("needs a reference with labels");
  }

  @Test
  void aDriftRunWithARegressorsEstimationReportsDleInTheResultAndTheHtml(SparkSession spark)
      throws Exception {
    DriftConfig config =
        DriftConfig.defaults().withColumns(List.of("x1", "x2", "x3", "c1"), "y_pred", "y");
    DriftResult result =
        new DriftMonitor(
                spark,
                config,
                m -> {},
                Chunking.size(500),
                Estimation.regressor("y_pred", "y", List.of("mae", "rmse")))
            .compare(period(spark, "reference"), period(spark, "analysis"));

    assertThat(result.estimated())
        .extracting(PerformanceEstimate::metric)
        .containsExactly("mae", "rmse");
    assertThat(result.estimated().get(0).current()).hasSize(6);
    assertThat(result.drifted()).isTrue();
    assertThat(result.summary()).contains("estimated mae outside").contains("in 3 of 6 chunk(s)");
    String html = DriftReport.monitoring(result);
    assertThat(html)
        .contains("Estimated mae without labels (DLE)")
        .contains("Direct loss estimation")
        .contains("sampling error")
        .contains("confidence band");
  }
}
