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

/**
 * AUC-ROC against scipy's exact values on tied scores (training/scripts/make_fixtures.py), equal to
 * 1e-9.
 */
@ExtendWith(SharedSpark.class)
class EvaluationTest {
  private static final double EXACT = 1e-9;
  private static final StructType SCORED =
      new StructType()
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
    StructType file =
        new StructType()
            .add("group", DataTypes.StringType)
            .add("label", DataTypes.DoubleType)
            .add("score", DataTypes.DoubleType);
    return spark
        .read()
        .option("header", "true")
        .schema(file)
        .csv(csv.toString())
        .withColumnRenamed("score", Evaluation.SCORE);
  }

  @Test
  void perGroupAndOverallAucRocCountTiesAsOneHalfLikeScipy(SparkSession spark)
      throws URISyntaxException {
    Evaluation.Result result =
        Evaluation.evaluate(tiedScores(spark), Task.CLASSIFIER, "label", 0.5, List.of("group"), 1);

    Map<String, Map<String, Double>> groups = result.groups().get("group");
    assertThat(groups).containsOnlyKeys("A", "B", "C");
    expected
        .get("groups")
        .fields()
        .forEachRemaining(
            group ->
                assertThat(groups.get(group.getKey()).get("auc_roc"))
                    .as("group " + group.getKey())
                    .isCloseTo(group.getValue().asDouble(), within(EXACT)));
    assertThat(result.metrics().get("auc_roc"))
        .isCloseTo(expected.get("overall").asDouble(), within(EXACT));
    double highest =
        Math.max(
            expected.get("groups").get("A").asDouble(),
            Math.max(
                expected.get("groups").get("B").asDouble(),
                expected.get("groups").get("C").asDouble()));
    double lowest =
        Math.min(
            expected.get("groups").get("A").asDouble(),
            Math.min(
                expected.get("groups").get("B").asDouble(),
                expected.get("groups").get("C").asDouble()));
    assertThat(result.gaps().get("group")).isCloseTo(highest - lowest, within(EXACT));
  }

  /**
   * Many distinct scores with ties: Spark bins them (3000 distinct scores: 3 per bin) before its
   * AUC-PR.
   */
  private static Dataset<Row> manyScores(SparkSession spark) {
    java.util.Random random = new java.util.Random(11);
    List<Row> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 9000; i++) {
      double score = random.nextInt(3000) / 3000.0;
      double label = random.nextDouble() < score * 0.8 + 0.1 ? 1.0 : 0.0;
      rows.add(RowFactory.create("g" + (i % 3), label, score));
    }
    return spark.createDataFrame(rows, SCORED);
  }

  @Test
  void aucPrIsSparksBinnedAreaAndEveryStatisticComesFromOneSparkJob(SparkSession spark)
      throws Exception {
    Dataset<Row> scored = manyScores(spark).cache();
    scored.count();
    long[] jobs = {0};
    org.apache.spark.scheduler.SparkListener counter =
        new org.apache.spark.scheduler.SparkListener() {
          @Override
          public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart jobStart) {
            jobs[0]++;
          }
        };
    spark.sparkContext().addSparkListener(counter);
    Evaluation.Result result;
    try {
      result = Evaluation.evaluate(scored, Task.CLASSIFIER, "label", 0.5, List.of("group"), 1);
      spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
    } finally {
      spark.sparkContext().removeSparkListener(counter);
    }
    // Spark's evaluator on one partition, where its bins are consecutive scores from the highest
    // down. Its sort takes spark.default.parallelism partitions (2 in the tests' session), and
    // where its range partitioner cuts the scores depends on a sampling seed made from the RDD's
    // id, i.e. on how many RDDs earlier test classes made; without the setting the sort keeps the
    // input's one partition, the same bins in every run and test order
    org.apache.spark.SparkConf live = spark.sparkContext().conf();
    String parallelism = live.get("spark.default.parallelism", null);
    live.remove("spark.default.parallelism");
    double spark1;
    try {
      spark1 =
          new org.apache.spark.ml.evaluation.BinaryClassificationEvaluator()
              .setLabelCol("label")
              .setRawPredictionCol(Evaluation.SCORE)
              .setMetricName("areaUnderPR")
              .evaluate(scored.coalesce(1));
    } finally {
      if (parallelism != null) {
        live.set("spark.default.parallelism", parallelism);
      }
    }
    assertThat(result.metrics().get("auc_pr")).isCloseTo(spark1, within(EXACT));
    assertThat(result.metrics().get("rows")).isEqualTo(9000.0);
    assertThat(result.groups().get("group")).containsOnlyKeys("g0", "g1", "g2");
    // one query with three shuffles (counts per score, the window, the sums): adaptive execution
    // runs each
    // shuffle's map side as a job of its own, then the result; the evaluation before it ran more
    // than ten
    assertThat(jobs[0]).as("Spark jobs of one evaluation").isBetween(1L, 4L);
    scored.unpersist();
  }

  @Test
  void aucRocIsOneHalfWhenEveryScoreTiesAndUndefinedWithOneClass(SparkSession spark) {
    Dataset<Row> scored =
        spark.createDataFrame(
            List.of(
                RowFactory.create("tied", 1.0, 0.3),
                RowFactory.create("tied", 0.0, 0.3),
                RowFactory.create("tied", 1.0, 0.3),
                RowFactory.create("tied", 0.0, 0.3),
                RowFactory.create("tied", 0.0, 0.3),
                RowFactory.create("one-class", 1.0, 0.2),
                RowFactory.create("one-class", 1.0, 0.9)),
            SCORED);

    Map<String, Double> auc =
        Evaluation.aucRoc(scored, "label", org.apache.spark.sql.functions.col("group"));

    assertThat(auc.get("tied")).isEqualTo(0.5);
    assertThat(auc.get("one-class")).isNaN();
  }
}
