package kiln.training;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.Datasets;
import kiln.core.EnvironmentException;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.ModelFiles;
import kiln.core.models.Split;
import kiln.core.testing.SharedSpark;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.Tokenizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text models through the trainer. Training knows no text library, so the featurizer here is made
 * of Spark ML's own stages (tokens hashed into a vector): real stages that save and load like Spark
 * NLP's; the Spark NLP featurizer is tested with the command line in jobs.
 */
@ExtendWith(SharedSpark.class)
class TextTrainerTest {
  static final TextFeaturizer HASHED_WORDS =
      (spark, text) ->
          new TextFeaturizer.Stages(
              List.of(
                  new Tokenizer().setInputCol(text.columns().get(0)).setOutputCol("words"),
                  new HashingTF().setInputCol("words").setOutputCol("words_tf").setNumFeatures(32)),
              "words_tf",
              32,
              Map.of("text_embeddings", "hashed words"));

  static final String[] SPAM = {
    "win cash now", "free prize claim now", "cheap pills online", "win a free cruise now"
  };
  static final String[] HAM = {
    "meeting moved to thursday", "see the build logs", "lunch at noon", "the report is attached"
  };

  /** Spam and ham texts with a numeric column, written as a Delta feature table. */
  static String table(SparkSession spark, Path dir, int rows) {
    StructType schema =
        new StructType()
            .add("message_id", DataTypes.LongType, false)
            .add("body", DataTypes.StringType, true)
            .add("links", DataTypes.IntegerType, false)
            .add("is_spam", DataTypes.IntegerType, false);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      boolean spam = i % 2 == 0;
      String[] texts = spam ? SPAM : HAM;
      data.add(
          RowFactory.create(
              (long) i, texts[(i / 2) % texts.length] + " " + i, i % 3, spam ? 1 : 0));
    }
    String path = dir.resolve("mail").toString();
    new Datasets(spark)
        .write(spark.createDataFrame(data, schema), path, WriteOptions.of(WriteMode.OVERWRITE));
    return path;
  }

  static TrainConfig.Builder config(String table) {
    return TrainConfig.builder()
        .features(table)
        .model("spam")
        .label("is_spam")
        .key("message_id")
        .text(new TextConfig(List.of("body"), null, null, null))
        .numWorkers(1)
        .nthread(1)
        .numRound(10)
        .minGroupRows(1);
  }

  @Test
  void aLogisticRegressionOnTextIsSavedAsOnePipelineThatScoresRawTextAsTrainingEvaluatedIt(
      SparkSession spark, @TempDir Path dir) {
    String table = table(spark, dir, 80);
    TrainConfig config =
        config(table)
            .algorithm(Algorithm.LOGISTIC_REGRESSION)
            .hyperparameters(Map.of("regParam", 0.01, "maxIter", 20))
            .build();

    TrainingResult result =
        new Trainer(spark, TrainerTest.NO_GPU, HASHED_WORDS).train(config, dir.resolve("model"));
    ModelFiles loaded = ModelFiles.load(dir.resolve("model"));

    assertThat(result.evaluation().metrics().get("auc_roc")).isGreaterThan(0.9);
    assertThat(loaded.model()).isInstanceOf(PipelineModel.class);
    assertThat(((PipelineModel) loaded.model()).stages()).hasSize(4);
    assertThat(loaded.info().textColumns()).containsExactly("body");
    assertThat(loaded.info().featureColumns()).isEmpty();
    assertThat(result.featureImportance()).isEmpty();
    // the saved pipeline, given the raw rows, reproduces the test metrics training reported
    Dataset<Row> test =
        Split.assign(
                new Datasets(spark).read(kiln.core.DatasetRef.parse(table)),
                "message_id",
                42L,
                config.split())
            .where(col(Split.COLUMN).equalTo(Split.TEST))
            .drop(Split.COLUMN);
    Evaluation.Result again = Trainer.evaluate(loaded, test);
    assertThat(again.metrics().get("auc_roc"))
        .isEqualTo(result.evaluation().metrics().get("auc_roc"));
    // summed in another order: equal to the last bits
    assertThat(again.metrics().get("log_loss"))
        .isCloseTo(result.evaluation().metrics().get("log_loss"), within(1e-12));
  }

  @Test
  void xgboostReadsNumericAndTextColumnsAndReportsTheTextsImportanceAsOneColumn(
      SparkSession spark, @TempDir Path dir) {
    String table = table(spark, dir, 80);
    TrainConfig config = config(table).featureColumns(List.of("links")).build();

    TrainingResult result =
        new Trainer(spark, TrainerTest.NO_GPU, HASHED_WORDS).train(config, dir.resolve("model"));

    assertThat(result.featureImportance()).containsOnlyKeys("links", "words_tf");
    assertThat(result.featureImportance().get("words_tf")).isGreaterThan(0);
    Dataset<Row> scored =
        ModelFiles.load(dir.resolve("model"))
            .score(new Datasets(spark).read(kiln.core.DatasetRef.parse(table)).limit(10));
    assertThat(scored.columns()).contains(ModelFiles.SCORE, "body", "links");
    assertThat(scored.count()).isEqualTo(10);
  }

  @Test
  void aTextColumnThatIsNotAStringIsRefusedBeforeAnySparkJob(
      SparkSession spark, @TempDir Path dir) {
    String table = table(spark, dir, 10);
    TrainConfig config =
        config(table).text(new TextConfig(List.of("links"), null, null, null)).build();

    assertThatThrownBy(() -> new Trainer(spark, TrainerTest.NO_GPU, HASHED_WORDS).fit(config))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("text column 'links' of " + table + "@0 has type int, not string")
        .hasMessageContaining("fix: list only string columns under text.columns");
  }

  /**
   * Under RAPIDS xgboost4j-spark-gpu reads plain feature columns only, and an embedding is a
   * vector: refused before any Spark job; logistic regression reads its vector there too.
   */
  @Test
  void anXGBoostTextModelIsRefusedWhereXGBoostReadsItsFeaturesByName(
      SparkSession spark, @TempDir Path dir) {
    String table = table(spark, dir, 10);
    Trainer rapids = new Trainer(spark, TrainerTest.NO_GPU, HASHED_WORDS).withFeaturesByName(true);

    assertThatThrownBy(() -> rapids.prepare(config(table).build()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "text model spam cannot train with XGBoost in a session with the RAPIDS Accelerator")
        .hasMessageContaining("fix: train text models with algorithm: logistic_regression");
    assertThat(
            rapids
                .prepare(config(table).algorithm(Algorithm.LOGISTIC_REGRESSION).build())
                .featuresCols())
        .isEmpty();
  }

  @Test
  void aTextConfigWithoutAFeaturizerIsAnEnvironmentError(SparkSession spark, @TempDir Path dir) {
    String table = table(spark, dir, 10);

    assertThatThrownBy(() -> new Trainer(spark, TrainerTest.NO_GPU).fit(config(table).build()))
        .isInstanceOf(EnvironmentException.class)
        .hasMessageContaining("cannot be embedded");
  }
}
