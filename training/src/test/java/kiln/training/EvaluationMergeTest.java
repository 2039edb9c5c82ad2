package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The classifier's pass counts per task and merges on the driver: the metrics cannot depend on how
 * the rows are split into tasks, and one evaluation is one Spark job.
 */
@ExtendWith(SharedSpark.class)
class EvaluationMergeTest {
  private static final StructType SCORED =
      new StructType()
          .add("group", DataTypes.StringType)
          .add("label", DataTypes.DoubleType)
          .add(Evaluation.SCORE, DataTypes.DoubleType);

  private static List<Row> manyScores() {
    java.util.Random random = new java.util.Random(11);
    List<Row> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 9000; i++) {
      double score = random.nextInt(3000) / 3000.0;
      double label = random.nextDouble() < score * 0.8 + 0.1 ? 1.0 : 0.0;
      rows.add(RowFactory.create("g" + (i % 3), label, score));
    }
    return rows;
  }

  @Test
  void countsMergedFromManyTasksGiveTheSameMetricsAsOneTaskInOneSparkJob(SparkSession spark)
      throws Exception {
    // nulls, NaN and -0.0 among the scores, and a null label: each task counts its rows, the
    // driver merges the tasks' counts, so the metrics cannot depend on how the rows are split
    List<Row> rows = new java.util.ArrayList<>(manyScores());
    rows.add(RowFactory.create("g0", 1.0, null));
    rows.add(RowFactory.create("g1", 0.0, Double.NaN));
    rows.add(RowFactory.create("g1", 1.0, Double.NaN));
    rows.add(RowFactory.create("g2", 0.0, -0.0));
    rows.add(RowFactory.create("g2", 1.0, 0.0));
    rows.add(RowFactory.create("g2", null, 0.5));
    Dataset<Row> scored = spark.createDataFrame(rows, SCORED);
    Evaluation.Result oneTask =
        Evaluation.evaluate(scored.coalesce(1), Task.CLASSIFIER, "label", 0.5, List.of("group"), 1);

    long[] jobs = {0};
    org.apache.spark.scheduler.SparkListener counter =
        new org.apache.spark.scheduler.SparkListener() {
          @Override
          public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart jobStart) {
            jobs[0]++;
          }
        };
    Dataset<Row> spread = scored.repartition(7).cache();
    spread.count();
    spark.sparkContext().addSparkListener(counter);
    Evaluation.Result sevenTasks;
    try {
      sevenTasks = Evaluation.evaluate(spread, Task.CLASSIFIER, "label", 0.5, List.of("group"), 1);
      spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
    } finally {
      spark.sparkContext().removeSparkListener(counter);
      spread.unpersist();
    }

    assertThat(jobs[0]).as("Spark jobs of one evaluation").isEqualTo(1L);
    assertThat(sevenTasks.metrics().get("rows")).isEqualTo(9006.0);
    assertThat(sevenTasks.groups().get("group")).containsOnlyKeys("g0", "g1", "g2");
    // counts are exact whatever the merge order; the log-loss is a sum of doubles
    oneTask
        .metrics()
        .forEach(
            (name, value) ->
                assertThat(sevenTasks.metrics().get(name))
                    .as(name)
                    .isCloseTo(value, within(name.equals("log_loss") ? 1e-12 : 0.0)));
    oneTask
        .groups()
        .get("group")
        .forEach(
            (group, metrics) ->
                metrics.forEach(
                    (name, value) ->
                        assertThat(sevenTasks.groups().get("group").get(group).get(name))
                            .as(group + " " + name)
                            .isCloseTo(value, within(name.equals("log_loss") ? 1e-12 : 0.0))));
  }
}
