package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** AUC-ROC against scipy's exact values on tied scores (training/scripts/make_fixtures.py), equal to 1e-9. */
@ExtendWith(SharedSpark.class)
class EvaluationTest {
  private static final double EXACT = 1e-9;
  private static final StructType SCORED = new StructType()
      .add("group", DataTypes.StringType)
      .add("label", DataTypes.DoubleType)
      .add(Evaluation.SCORE, DataTypes.DoubleType);
  private static JsonNode expected;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = EvaluationTest.class.getResourceAsStream("fixtures/auc-expected.json")) {
      expected = new ObjectMapper().readTree(in);
    }
  }

  private static Dataset<Row> tiedScores(SparkSession spark) throws URISyntaxException {
    Path csv = Path.of(EvaluationTest.class.getResource("fixtures/auc-ties.csv").toURI());
    StructType file = new StructType().add("group", DataTypes.StringType).add("label", DataTypes.DoubleType)
        .add("score", DataTypes.DoubleType);
    return spark.read().option("header", "true").schema(file).csv(csv.toString())
        .withColumnRenamed("score", Evaluation.SCORE);
  }

  @Test
  void perGroupAndOverallAucRocCountTiesAsOneHalfLikeScipy(SparkSession spark) throws URISyntaxException {
    Evaluation.Result result = Evaluation.evaluate(tiedScores(spark), Task.CLASSIFIER, "label", 0.5, List.of("group"), 1);

    Map<String, Map<String, Double>> groups = result.groups().get("group");
    assertThat(groups).containsOnlyKeys("A", "B", "C");
    expected.get("groups").fields().forEachRemaining(group ->
        assertThat(groups.get(group.getKey()).get("auc_roc")).as("group " + group.getKey())
            .isCloseTo(group.getValue().asDouble(), within(EXACT)));
    assertThat(result.metrics().get("auc_roc")).isCloseTo(expected.get("overall").asDouble(), within(EXACT));
    double highest = Math.max(expected.get("groups").get("A").asDouble(),
        Math.max(expected.get("groups").get("B").asDouble(), expected.get("groups").get("C").asDouble()));
    double lowest = Math.min(expected.get("groups").get("A").asDouble(),
        Math.min(expected.get("groups").get("B").asDouble(), expected.get("groups").get("C").asDouble()));
    assertThat(result.gaps().get("group")).isCloseTo(highest - lowest, within(EXACT));
  }

  @Test
  void aucRocIsOneHalfWhenEveryScoreTiesAndUndefinedWithOneClass(SparkSession spark) {
    Dataset<Row> scored = spark.createDataFrame(List.of(
        RowFactory.create("tied", 1.0, 0.3), RowFactory.create("tied", 0.0, 0.3), RowFactory.create("tied", 1.0, 0.3),
        RowFactory.create("tied", 0.0, 0.3), RowFactory.create("tied", 0.0, 0.3),
        RowFactory.create("one-class", 1.0, 0.2), RowFactory.create("one-class", 1.0, 0.9)), SCORED);

    Map<String, Double> auc = Evaluation.aucRoc(scored, "label", org.apache.spark.sql.functions.col("group"));

    assertThat(auc.get("tied")).isEqualTo(0.5);
    assertThat(auc.get("one-class")).isNaN();
  }
}
