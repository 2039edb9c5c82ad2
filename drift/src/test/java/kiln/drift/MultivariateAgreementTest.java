package kiln.drift;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.util.List;
import kiln.drift.internal.Chunker;
import kiln.drift.internal.DomainClassifier;
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
 * Multivariate drift with a categorical feature against NannyML 0.13.1: the fixture {@code
 * nannyml/multivariate.json} and its data {@code nannyml/multivariate.csv.gz} were written by
 * {@code python/nannyml/make_multivariate_fixture.py} (venv {@code bin/kiln-python-env nannyml}).
 * The categorical column follows x1 in the reference and stops following it (same shares) in the
 * last three analysis chunks.
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class MultivariateAgreementTest {
  /** Same imputation, count encoding, scaling and PCA: only floating point may differ. */
  static final double RECONSTRUCTION_TOLERANCE = 1e-6;

  /**
   * The domain classifier's AUC per chunk: Kiln's boosted trees (60 rounds, depth 4, 32 bins,
   * categories coded by frequency, its own seeded stratified folds) against NannyML's LightGBM (100
   * rounds, 31 leaves, 255 bins, categorical splits, scikit-learn's unshuffled folds): two
   * different classifiers on 3,500 rows; the bar is what they differ by on this fixture, about two
   * standard errors of a 500-against-3,000 AUC (0.013 near 0.5).
   */
  static final double DOMAIN_CLASSIFIER_TOLERANCE = 0.03;

  static final StructType SCHEMA =
      new StructType()
          .add("x1", DataTypes.DoubleType)
          .add("x2", DataTypes.DoubleType)
          .add("x3", DataTypes.DoubleType)
          .add("c", DataTypes.StringType)
          .add("period", DataTypes.StringType);

  static JsonNode expected;

  @BeforeAll
  static void readFixture() throws IOException, URISyntaxException {
    expected =
        new ObjectMapper()
            .readTree(NannyMlAgreementTest.resource("nannyml/multivariate.json").toFile());
    assertThat(expected.get("nannyml").asText()).isEqualTo("0.13.1");
  }

  static Dataset<Row> chunks(SparkSession spark, String name) throws URISyntaxException {
    return Chunker.assign(
        spark
            .read()
            .option("header", "true")
            .schema(SCHEMA)
            .csv(NannyMlAgreementTest.resource("nannyml/multivariate.csv.gz").toString())
            .where(col("period").equalTo(name))
            .drop("period")
            .coalesce(1),
        Chunking.size(expected.get("chunk_size").asInt()),
        null);
  }

  @Test
  void theReconstructionErrorWithACategoricalFeatureIsNannyMlsAndSeesTheBrokenRelation(
      SparkSession spark) throws Exception {
    Dataset<Row> reference = chunks(spark, "reference");
    Dataset<Row> analysis = chunks(spark, "analysis");
    Reconstruction.Fit fit =
        Reconstruction.fit(
            reference,
            List.of("x1", "x2", "x3"),
            List.of("c"),
            MultivariateDrift.DEFAULT_VARIANCE_KEPT);
    MultivariateDrift drift =
        Reconstruction.decide(
            fit, Reconstruction.perChunk(reference, fit), Reconstruction.perChunk(analysis, fit));

    JsonNode nanny = expected.get("reconstruction");
    assertThat(nanny.get("categorical").get(0).asText()).isEqualTo("c");
    assertThat(drift.columns()).containsExactly("x1", "x2", "x3", "c");
    assertThat(drift.components()).isEqualTo(nanny.get("components").asInt());
    assertThat(drift.lower())
        .isCloseTo(nanny.get("lower").asDouble(), within(RECONSTRUCTION_TOLERANCE));
    assertThat(drift.upper())
        .isCloseTo(nanny.get("upper").asDouble(), within(RECONSTRUCTION_TOLERANCE));
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
          "reconstruction with c, chunk %s: kiln %.9f nannyml %.9f alert %s/%s%n",
          kiln.chunk(),
          kiln.value(),
          chunk.get("value").asDouble(),
          kiln.alert(),
          chunk.get("alert"));
      assertThat(kiln.value())
          .isCloseTo(chunk.get("value").asDouble(), within(RECONSTRUCTION_TOLERANCE));
      assertThat(kiln.alert()).isEqualTo(chunk.get("alert").asBoolean());
    }
    // the last three chunks: far above the band, which the numeric features alone do not show
    for (int i = 3; i < 6; i++) {
      assertThat(drift.current().get(i).value()).isGreaterThan(drift.upper());
      assertThat(nanny.get("numeric_only_analysis").get(i).get("alert").asBoolean()).isFalse();
    }
  }

  @Test
  void theDomainClassifiersAucPerChunkIsNearNannyMls(SparkSession spark) throws Exception {
    DomainClassifierDrift drift =
        DomainClassifier.decide(
            chunks(spark, "reference").drop(Chunker.CHUNK),
            chunks(spark, "analysis"),
            List.of("x1", "x2", "x3"),
            List.of("c"),
            DomainClassifierDrift.DEFAULT_FOLDS,
            DomainClassifierDrift.DEFAULT_MAX_ROWS_PER_SIDE,
            0.55);
    JsonNode nanny = expected.get("domain_classifier").get("analysis");
    assertThat(drift.current()).hasSize(nanny.size());
    double worst = 0;
    for (int i = 0; i < drift.current().size(); i++) {
      ChunkValue kiln = drift.current().get(i);
      double theirs = nanny.get(i).get("value").asDouble();
      System.out.printf(
          "domain classifier chunk %s: kiln %.4f nannyml %.4f%n",
          kiln.chunk(), kiln.value(), theirs);
      worst = Math.max(worst, Math.abs(kiln.value() - theirs));
      assertThat(kiln.value()).isCloseTo(theirs, within(DOMAIN_CLASSIFIER_TOLERANCE));
      // both tell the broken chunks from the others, on either side of Kiln's threshold
      assertThat(kiln.alert()).isEqualTo(i >= 3);
    }
    System.out.printf("domain classifier: largest difference from NannyML %.4f%n", worst);
  }
}
