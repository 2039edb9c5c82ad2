package kiln.bench;

import static org.apache.spark.sql.functions.col;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.Datasets;
import kiln.core.GpuProbe;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.ModelFiles;
import kiln.jobs.TextEmbeddingsFeaturizer;
import kiln.training.Algorithm;
import kiln.training.Evaluation;
import kiln.training.TextConfig;
import kiln.training.TrainConfig;
import kiln.training.Trainer;
import kiln.training.TrainingResult;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code TextBenchmark [SPAM_DIR] [--algorithm xgboost|logistic_regression] [--per-set N]}: a spam
 * classifier on the SpamAssassin corpus ({@code bin/kiln-spam-data}): trained on the first sets
 * (easy-ham-1, hard-ham-1, spam-1) with subject and body embedded by all-MiniLM-L6-v2 through Spark
 * NLP, AUC on their held-out test split; then the later sets (easy-ham-2, spam-2) scored as new
 * data by the saved pipeline, from raw text: AUC and texts per second.
 */
public final class TextBenchmark {
  private TextBenchmark() {}

  /**
   * The mails as Kiln reads them: subject, body (HTML tags and runs of white space removed, the
   * first 2,000 characters: the model reads 256 word pieces), label and key.
   */
  static Dataset<Row> mails(SparkSession spark, String directory, String sets, int perSet) {
    Dataset<Row> raw = spark.read().json(directory + "/{" + sets + "}/*.json");
    Dataset<Row> mails =
        raw.selectExpr(
            "concat(`group`, '/', id) as message_id",
            "`group` as mail_set",
            "cast(`group` like 'spam%' as int) as is_spam",
            "regexp_extract(text, '(?m)^Subject: ?(.*)$', 1) as subject",
            "left(trim(regexp_replace(regexp_replace(regexp_extract(text, '(?s)\\\\r?\\\\n\\\\r?\\\\n(.*)', 1),"
                + " '<[^>]*>', ' '), '\\\\s+', ' ')), 2000) as body");
    if (perSet > 0) {
      // the same rows every run: the first N of each set by a hash of the key
      mails =
          mails
              .withColumn(
                  "kiln_rank",
                  org.apache.spark.sql.functions.expr(
                      "row_number() over (partition by mail_set order by xxhash64(message_id))"))
              .where(col("kiln_rank").leq(perSet))
              .drop("kiln_rank");
    }
    return mails;
  }

  public static void main(String[] args) throws Exception {
    String directory =
        Path.of(System.getProperty("user.home"), ".cache/kiln/data/spam-assassin/data").toString();
    Algorithm algorithm = Algorithm.LOGISTIC_REGRESSION;
    int perSet = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--algorithm" -> algorithm = Algorithm.valueOf(args[++i].toUpperCase(Locale.ROOT));
        case "--per-set" -> perSet = Integer.parseInt(args[++i]);
        default -> directory = args[i];
      }
    }
    Path work = Files.createTempDirectory("kiln-bench-text-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try {
      Datasets datasets = new Datasets(spark);
      String first = work.resolve("mail-1").toString();
      String later = work.resolve("mail-2").toString();
      datasets.write(
          mails(spark, directory, "easy-ham-1,hard-ham-1,spam-1", perSet),
          first,
          WriteOptions.of(WriteMode.OVERWRITE));
      datasets.write(
          mails(spark, directory, "easy-ham-2,spam-2", perSet),
          later,
          WriteOptions.of(WriteMode.OVERWRITE));
      long firstRows = datasets.read(kiln.core.DatasetRef.parse(first)).count();
      long laterRows = datasets.read(kiln.core.DatasetRef.parse(later)).count();
      System.out.printf(
          Locale.ROOT,
          "[bench] %d mails of the first sets, %d of the later sets%n",
          firstRows,
          laterRows);

      TrainConfig config =
          TrainConfig.builder()
              .features(first + "@0")
              .model("spam")
              .label("is_spam")
              .key("message_id")
              .algorithm(algorithm)
              .hyperparameters(
                  algorithm == Algorithm.LOGISTIC_REGRESSION
                      ? Map.of("regParam", 0.01)
                      : Map.of("max_depth", 4))
              .numRound(200)
              .groupColumns(List.of("mail_set"))
              .minGroupRows(10)
              .text(new TextConfig(List.of("subject", "body"), null, null, null))
              .build();
      Trainer trainer = new Trainer(spark, GpuProbe.system(), new TextEmbeddingsFeaturizer());
      long started = System.nanoTime();
      TrainingResult trained = trainer.train(config, work.resolve("model"));
      double trainSeconds = (System.nanoTime() - started) / 1e9;

      ModelFiles model = ModelFiles.load(work.resolve("model"));
      started = System.nanoTime();
      Evaluation.Result scored =
          Trainer.evaluate(model, datasets.read(kiln.core.DatasetRef.parse(later)));
      double scoreSeconds = (System.nanoTime() - started) / 1e9;

      System.out.printf(
          Locale.ROOT,
          "[bench] %s on all-MiniLM-L6-v2 embeddings of subject + body:%n"
              + "[bench]   training (embed %d mails once, fit, evaluate): %.1f s, %.1f mails/s%n"
              + "[bench]   held-out test split of the first sets: %d rows, AUC-ROC %.4f, AUC-PR %.4f%n"
              + "[bench]   later sets scored from raw text by the saved pipeline: %d rows, AUC-ROC %.4f,"
              + " %.1f s, %.1f texts/s%n",
          algorithm.name().toLowerCase(Locale.ROOT),
          firstRows,
          trainSeconds,
          firstRows / trainSeconds,
          trained.testRows(),
          trained.evaluation().metrics().get("auc_roc"),
          trained.evaluation().metrics().get("auc_pr"),
          laterRows,
          scored.metrics().get("auc_roc"),
          scoreSeconds,
          laterRows / scoreSeconds);
    } finally {
      spark.stop();
      kiln.core.LocalFiles.deleteTree(work);
    }
    System.exit(0);
  }
}
