package kiln.drift;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import kiln.drift.internal.Chunker;
import kiln.drift.internal.Reconstruction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kiln's multivariate drift and CBPE agree with NannyML 0.13.1 on the same data: the fixture {@code
 * nannyml/expected.json} and the data it was computed on were written by {@code
 * python/nannyml/make_fixtures.py} (re-run it with the venv {@code bin/kiln-python-env nannyml}).
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class NannyMlAgreementTest {
  /**
   * The bar for estimated AUC per chunk; accuracy, precision, recall and F1 are held to the
   * same.
   */
  static final double CBPE_TOLERANCE = 0.005;

  /**
   * CBPE's sampling errors follow NannyML's formulas on the same reference rows: for accuracy,
   * precision, recall and F1 (from confusion counts) only floating point may differ; for ROC AUC
   * also the order of tied scores in its ranking (numpy's unstable argsort against Java's stable
   * sort: the fixture's reference has 22 tied scores, which moves the sampling error by 5e-8).
   */
  static final double SAMPLING_ERROR_TOLERANCE = 1e-9;

  static final double AUC_SAMPLING_ERROR_TOLERANCE = 1e-6;

  /** Same imputation, scaling and PCA: only floating point may differ. */
  static final double RECONSTRUCTION_TOLERANCE = 1e-6;

  static final StructType SCHEMA =
      new StructType()
          .add("x1", DataTypes.DoubleType)
          .add("x2", DataTypes.DoubleType)
          .add("x3", DataTypes.DoubleType)
          .add("x4", DataTypes.DoubleType)
          .add("score", DataTypes.DoubleType)
          .add("label", DataTypes.IntegerType)
          .add("y_pred", DataTypes.IntegerType)
          .add("period", DataTypes.StringType);

  static JsonNode expected;

  @BeforeAll
  static void readFixture() throws IOException, URISyntaxException {
    expected = new ObjectMapper().readTree(resource("nannyml/expected.json").toFile());
    assertThat(expected.get("nannyml").asText()).isEqualTo("0.13.1");
  }

  static Path resource(String name) throws URISyntaxException {
    return Path.of(NannyMlAgreementTest.class.getClassLoader().getResource(name).toURI());
  }

  static Dataset<Row> period(SparkSession spark, String name) throws URISyntaxException {
    return spark
        .read()
        .option("header", "true")
        .schema(SCHEMA)
        .csv(resource("nannyml/data.csv.gz").toString())
        .where(col("period").equalTo(name))
        .drop("period")
        .coalesce(1);
  }

  @Test
  void theReconstructionErrorPerChunkAndItsBandAreNannyMls(SparkSession spark) throws Exception {
    Chunking chunks = Chunking.size(expected.get("chunk_size").asInt());
    Dataset<Row> reference = Chunker.assign(period(spark, "reference"), chunks, null);
    Dataset<Row> analysis = Chunker.assign(period(spark, "analysis"), chunks, null);
    List<String> features = List.of("x1", "x2", "x3", "x4");

    Reconstruction.Fit fit =
        Reconstruction.fit(reference, features, MultivariateDrift.DEFAULT_VARIANCE_KEPT);
    MultivariateDrift drift =
        Reconstruction.decide(
            fit, Reconstruction.perChunk(reference, fit), Reconstruction.perChunk(analysis, fit));

    JsonNode nanny = expected.get("reconstruction");
    assertThat(drift.components()).isEqualTo(nanny.get("components").asInt());
    assertThat(drift.lower())
        .isCloseTo(nanny.get("lower").asDouble(), within(RECONSTRUCTION_TOLERANCE));
    assertThat(drift.upper())
        .isCloseTo(nanny.get("upper").asDouble(), within(RECONSTRUCTION_TOLERANCE));
    assertThat(drift.reference()).hasSize(nanny.get("reference").size());
    for (int i = 0; i < drift.reference().size(); i++) {
      assertThat(drift.reference().get(i).value())
          .isCloseTo(
              nanny.get("reference").get(i).get("value").asDouble(),
              within(RECONSTRUCTION_TOLERANCE));
    }
    assertThat(drift.current()).hasSize(nanny.get("analysis").size());
    for (int i = 0; i < drift.current().size(); i++) {
      JsonNode chunk = nanny.get("analysis").get(i);
      ChunkValue kiln = drift.current().get(i);
      System.out.printf(
          "reconstruction chunk %s: kiln %.9f nannyml %.9f alert %s/%s%n",
          kiln.chunk(),
          kiln.value(),
          chunk.get("value").asDouble(),
          kiln.alert(),
          chunk.get("alert"));
      assertThat(kiln.rows()).isEqualTo(chunk.get("rows").asLong());
      assertThat(kiln.value())
          .isCloseTo(chunk.get("value").asDouble(), within(RECONSTRUCTION_TOLERANCE));
      assertThat(kiln.alert()).isEqualTo(chunk.get("alert").asBoolean());
    }
    // the broken correlation: the last three chunks drift, though x2's own distribution did not
    // move
    assertThat(drift.alerts()).isEqualTo(3);
  }

  @Test
  void cbpeEstimatesPerChunkAreWithinTheToleranceOfNannyMlsAndOfTheRealizedMetric(
      SparkSession spark) throws Exception {
    Chunking chunks = Chunking.size(expected.get("chunk_size").asInt());
    Dataset<Row> reference = Chunker.assign(period(spark, "reference"), chunks, null);
    // the labels stay in the analysis data only to measure the realized metric beside the estimate
    Dataset<Row> analysis = Chunker.assign(period(spark, "analysis"), chunks, null);

    Cbpe cbpe = Cbpe.fit(period(spark, "reference"), "score", "label", 0.5);
    List<PerformanceEstimate> estimates = cbpe.estimate(reference, analysis);

    assertThat(expected.get("cbpe").get("needs_calibration").asBoolean()).isTrue();
    for (PerformanceEstimate estimate : estimates) {
      JsonNode nanny = expected.get("cbpe").get(estimate.metric());
      assertThat(estimate.lower()).isCloseTo(nanny.get("lower").asDouble(), within(CBPE_TOLERANCE));
      assertThat(estimate.upper()).isCloseTo(nanny.get("upper").asDouble(), within(CBPE_TOLERANCE));
      assertThat(estimate.current()).hasSize(nanny.get("analysis").size());
      double worst = 0;
      for (int i = 0; i < estimate.current().size(); i++) {
        ChunkValue kiln = estimate.current().get(i);
        JsonNode chunk = nanny.get("analysis").get(i);
        System.out.printf(
            "%s chunk %s: kiln %.6f nannyml %.6f realized kiln %.6f sklearn %.6f alert %s/%s%n",
            estimate.metric(),
            kiln.chunk(),
            kiln.value(),
            chunk.get("estimated").asDouble(),
            kiln.realized(),
            chunk.get("realized").asDouble(),
            kiln.alert(),
            chunk.get("alert"));
        worst = Math.max(worst, Math.abs(kiln.value() - chunk.get("estimated").asDouble()));
        assertThat(kiln.value())
            .isCloseTo(chunk.get("estimated").asDouble(), within(CBPE_TOLERANCE));
        assertThat(kiln.realized()).isCloseTo(chunk.get("realized").asDouble(), within(1e-9));
        assertThat(kiln.alert()).isEqualTo(chunk.get("alert").asBoolean());
        // NannyML's sampling error from the reference, scaled by the chunk's size: same formulas
        System.out.printf(
            "%s chunk %s: sampling error kiln %.9f nannyml %.9f%n",
            estimate.metric(),
            kiln.chunk(),
            kiln.samplingError(),
            chunk.get("sampling_error").asDouble());
        assertThat(kiln.samplingError())
            .isCloseTo(
                chunk.get("sampling_error").asDouble(),
                within(
                    estimate.metric().equals(Cbpe.ROC_AUC)
                        ? AUC_SAMPLING_ERROR_TOLERANCE
                        : SAMPLING_ERROR_TOLERANCE));
      }
      System.out.printf("%s: largest difference from NannyML %.6f%n", estimate.metric(), worst);
    }
  }

  @Test
  void cbpeEstimatesFollowTheRealizedMetricWhereLabelsExist(SparkSession spark) throws Exception {
    Chunking chunks = Chunking.size(expected.get("chunk_size").asInt());
    Dataset<Row> reference = Chunker.assign(period(spark, "reference"), chunks, null);
    Dataset<Row> analysis = Chunker.assign(period(spark, "analysis"), chunks, null);
    List<PerformanceEstimate> estimates =
        Cbpe.fit(period(spark, "reference"), "score", "label", 0.5).estimate(reference, analysis);

    // 500 rows per chunk: the realized AUC's own sampling error is about 0.02, so 0.05 is the
    // bound for an estimator that is right on average (NannyML's own estimates meet it too)
    for (PerformanceEstimate estimate : estimates) {
      for (ChunkValue chunk : estimate.current()) {
        assertThat(chunk.value()).isCloseTo(chunk.realized(), within(0.05));
      }
    }
  }
}
