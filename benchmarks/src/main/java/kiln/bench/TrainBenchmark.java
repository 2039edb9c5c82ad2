package kiln.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.Datasets;
import kiln.core.LocalFiles;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import kiln.core.models.Task;
import kiln.jobs.demo.FlightsExamples;
import kiln.training.Device;
import kiln.training.FeatureJob;
import kiln.training.TrainConfig;
import kiln.training.Trainer;
import kiln.training.TrainingResult;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code TrainBenchmark [FLIGHTS_PARQUET] [--repetitions N] [--rounds R]}: Kiln's training step
 * ({@link Trainer#fit}: input checks, hash split, early stopping) against xgboost4j-spark called
 * directly with the same parameters on the same rows, alternating in one JVM, on the January-March
 * features. Target: ratio at most 1.10. The full training ({@link Trainer#train}: fit, one
 * evaluation pass over the validation and test rows, model files) is compared with Kiln's own fit,
 * the two alternating: target at most 1.5. Then Kiln alone fits 10x the rows and 1x again, three
 * runs each (target: time(10x) / time(1x) at most 11); {@code --no-10x} skips that part.
 */
public final class TrainBenchmark {
  private TrainBenchmark() {}

  /** The flights example's training (features, label, key) with the benchmark's parameters. */
  private static TrainConfig training(String features, int rounds, int workers) {
    return FlightsExamples.trainConfig().toBuilder()
        .features(features + "@0")
        .model("bench")
        .task(Task.CLASSIFIER)
        .seed(42L)
        .hyperparameters(Map.of("max_depth", 6))
        .numRound(rounds)
        .earlyStoppingRounds(0)
        .device(Device.CPU)
        .numWorkers(workers)
        .nthread(1)
        .groupColumns(List.of())
        .build();
  }

  public static void main(String[] args) throws Exception {
    int repetitions = 3;
    int rounds = 50;
    boolean tenfold = true;
    String source = "/tmp/kiln-data/flights-3m.parquet";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--repetitions" -> repetitions = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--no-10x" -> tenfold = false;
        default -> source = args[i];
      }
    }
    Path work = Files.createTempDirectory("kiln-bench-train-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try {
      String flights = work.resolve("flights").toString();
      String features = work.resolve("features").toString();
      System.out.println("[bench] January-March flights and features into " + work);
      new Datasets(spark)
          .write(
              spark.read().parquet(source).where("date < '2001-04-01'"),
              flights,
              WriteOptions.of(WriteMode.OVERWRITE));
      new FeatureJob(spark)
          .run(FlightsExamples.featureConfig().toBuilder().input(flights).output(features).build());
      TrainConfig example = FlightsExamples.trainConfig();
      int workers = spark.sparkContext().defaultParallelism();
      int numRound = rounds;
      TrainConfig config = training(features, rounds, workers);
      Trainer trainer = new Trainer(spark);
      Bench bench = new Bench(System.out, 1, repetitions);
      List<Bench.Comparison> comparisons = new ArrayList<>();
      comparisons.add(
          bench.compare(
              "fit XGBoost, " + rounds + " rounds, depth 6, " + workers + " workers",
              () -> trainer.fit(config).model(),
              () -> direct(spark, features, example, numRound, workers)));
      // the whole training against its own fit, alternating in the same stretch of time (target at
      // most 1.5)
      // the evaluation pass's own time in each full training (its scan time, from the latency it
      // reports): a direct measure of that stage, less sensitive to load than the ratio
      List<Double> evaluationSeconds = new ArrayList<>();
      comparisons.add(
          bench.compare(
              "full training (fit + evaluation + model files), against the fit alone as baseline",
              () -> {
                TrainingResult result =
                    trainer.train(config, Files.createTempDirectory(work, "model-"));
                long rows = result.validationRows() + result.testRows();
                evaluationSeconds.add(
                    result.latencyMillisPer1000Rows() * Math.max(rows, 1000) / 1000 / 1000);
                return result;
              },
              () -> trainer.fit(config).model()));
      double full = comparisons.get(1).candidateSeconds();
      Map<String, String> extra = new LinkedHashMap<>();
      extra.put(
          "full training / kiln fit (alternating, medians)",
          String.format(Locale.ROOT, "%.2f", comparisons.get(1).ratio()));
      extra.put(
          "full training / direct fit of the first comparison",
          String.format(Locale.ROOT, "%.2f", full / comparisons.get(0).baselineSeconds()));
      // the first full training is the warm-up
      List<Double> timedEvaluations = evaluationSeconds.subList(1, evaluationSeconds.size());
      extra.put(
          "evaluation pass of the full training, median (s), timed runs",
          String.format(
              Locale.ROOT,
              "%.2f, %s",
              Bench.median(timedEvaluations),
              timedEvaluations.stream().map(v -> String.format(Locale.ROOT, "%.2f", v)).toList()));
      if (tenfold) {
        // the scaling target compares Kiln with itself: the feature table ten times over, fitted
        // with the same
        // config (no warm-up: the JVM is warm), then 1x again in the same stretch of time
        String features10 = work.resolve("features-10x").toString();
        new Datasets(spark)
            .write(
                Bench.repeated(
                    spark.read().format("delta").option("versionAsOf", 0).load(features), 10),
                features10,
                WriteOptions.of(WriteMode.OVERWRITE));
        TrainConfig config10 = training(features10, rounds, workers);
        Bench scaling = new Bench(System.out, 0, 3);
        double tenTimes =
            scaling.median("kiln fit, 10x the rows", () -> trainer.fit(config10).model());
        double once = scaling.median("kiln fit, 1x again", () -> trainer.fit(config).model());
        extra.put("kiln fit 10x, median of 3 (s)", String.format(Locale.ROOT, "%.2f", tenTimes));
        extra.put(
            "kiln fit 1x, median of 3 right after (s)", String.format(Locale.ROOT, "%.2f", once));
        extra.put("kiln time(10x) / time(1x)", String.format(Locale.ROOT, "%.2f", tenTimes / once));
      }
      System.out.println();
      System.out.println(Bench.markdown(comparisons, extra));
      System.out.printf(
          Locale.ROOT, "Target: ratio <= 1.10 (got %.3f)%n", comparisons.get(0).ratio());
      System.out.printf(
          Locale.ROOT,
          "Target: full training / fit <= 1.5 (got %.2f)%n",
          comparisons.get(1).ratio());
    } finally {
      spark.stop();
      LocalFiles.deleteTree(work);
    }
  }

  /** What a user writes without Kiln: the same rows, split, parameters and vector. */
  private static Object direct(
      SparkSession spark, String features, TrainConfig example, int rounds, int workers) {
    Dataset<Row> table = spark.read().format("delta").option("versionAsOf", 0).load(features);
    Dataset<Row> train =
        table.where(Split.part(example.key(), 42L, SplitFractions.DEFAULT).equalTo(Split.TRAIN));
    Dataset<Row> assembled =
        new VectorAssembler()
            .setInputCols(example.featureColumns().toArray(new String[0]))
            .setOutputCol("features")
            .setHandleInvalid("keep")
            .transform(train);
    XGBoostClassifier classifier = new XGBoostClassifier();
    classifier.setFeaturesCol("features");
    classifier.setLabelCol(example.label());
    classifier.setObjective("binary:logistic");
    classifier.setTreeMethod("hist");
    classifier.setDevice("cpu");
    classifier.setMaxDepth(6);
    classifier.setNumRound(rounds);
    classifier.setNumWorkers(workers);
    classifier.setNthread(1);
    classifier.setSeed(42L);
    classifier.setForceRepartition(true);
    return classifier.fit(assembled);
  }
}
