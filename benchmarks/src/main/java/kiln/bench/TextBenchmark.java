package kiln.bench;

import static org.apache.spark.sql.functions.col;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import kiln.core.Datasets;
import kiln.core.GpuProbe;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.YamlFiles;
import kiln.core.models.ModelFiles;
import kiln.jobs.TextEmbeddingsFeaturizer;
import kiln.training.Algorithm;
import kiln.training.Evaluation;
import kiln.training.FeatureConfig;
import kiln.training.FeatureJob;
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
   * The raw mails (id, group, text), all of them or the first {@code perSet} of each set by a hash
   * of their id (the same rows every run).
   */
  static Dataset<Row> rawMails(SparkSession spark, String directory, int perSet) {
    Dataset<Row> raw =
        spark.read().json(directory + "/*-[12]/*.json").select("id", "group", "text");
    if (perSet <= 0) {
      return raw;
    }
    return raw.withColumn(
            "kiln_rank",
            org.apache.spark.sql.functions.expr(
                "row_number() over (partition by `group` order by xxhash64(id))"))
        .where(col("kiln_rank").leq(perSet))
        .drop("kiln_rank");
  }

  private static <T> T example(String name, Class<T> type) throws java.io.IOException {
    try (java.io.InputStream in =
        TextBenchmark.class.getResourceAsStream("/kiln/jobs/demo/" + name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the kiln jar (kiln/jobs/demo)");
      }
      return YamlFiles.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), name, type);
    }
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
      String raw = work.resolve("mail-raw").toString();
      String first = work.resolve("mail-1").toString();
      String later = work.resolve("mail-2").toString();
      datasets.write(rawMails(spark, directory, perSet), raw, WriteOptions.of(WriteMode.OVERWRITE));
      // training/examples/spam-features.yaml: the first sets to train on, the later ones to score
      FeatureConfig features = example("spam-features.yaml", FeatureConfig.class);
      long firstRows =
          new FeatureJob(spark).run(features.toBuilder().input(raw).output(first).build()).rows();
      long laterRows =
          new FeatureJob(spark)
              .run(
                  features.toBuilder()
                      .input(raw)
                      .output(later)
                      .where("mail_set like '%-2'")
                      .build())
              .rows();
      System.out.printf(
          Locale.ROOT,
          "[bench] %d mails of the first sets, %d of the later sets%n",
          firstRows,
          laterRows);

      // training/examples/spam-train.yaml, on this run's feature table
      TrainConfig example = example("spam-train.yaml", TrainConfig.class);
      TrainConfig config =
          example.toBuilder()
              .features(first + "@0")
              .algorithm(algorithm)
              .hyperparameters(
                  algorithm == Algorithm.LOGISTIC_REGRESSION
                      ? example.hyperparameters()
                      : Map.of("max_depth", 4))
              .numRound(200)
              .build();
      Trainer trainer = new Trainer(spark, GpuProbe.system(), new TextEmbeddingsFeaturizer());
      long started = System.nanoTime();
      TrainingResult trained = trainer.train(config, work.resolve("model"));
      double trainSeconds = (System.nanoTime() - started) / 1e9;

      ModelFiles model = ModelFiles.load(work.resolve("model"));
      started = System.nanoTime();
      Evaluation.Result scored =
          Trainer.evaluate(model, datasets.read(kiln.core.DatasetRef.parse(later + "@0")));
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
