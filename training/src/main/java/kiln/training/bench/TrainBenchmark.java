package kiln.training.bench;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.LocalFiles;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.YamlFiles;
import kiln.core.bench.Bench;
import kiln.training.Device;
import kiln.training.FeatureConfig;
import kiln.training.FeatureJob;
import kiln.training.Split;
import kiln.training.SplitFractions;
import kiln.training.Task;
import kiln.training.TrainConfig;
import kiln.training.Trainer;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code TrainBenchmark [FLIGHTS_PARQUET] [--repetitions N] [--rounds R]}: Kiln's training step
 * ({@link Trainer#fit}: input checks, hash split, early stopping) against xgboost4j-spark called directly
 * with the same parameters on the same rows, alternating in one JVM, on the January-March features.
 * Target: ratio at most 1.10. The full training ({@link Trainer#train}: fit, one evaluation pass over the
 * validation and test rows, model files) is timed too, against Kiln's own fit: target at most 1.5.
 * Then Kiln alone fits 10x the rows and 1x again, three runs each (target: time(10x) / time(1x) at most 11);
 * {@code --no-10x} skips that part.
 */
public final class TrainBenchmark {
  /** Where the kiln jar (jobs) carries training/examples/, which bin/kiln-bench runs with. */
  private static final String EXAMPLES = "/kiln/examples/training/";

    private TrainBenchmark() {}

  /** The flights example's training (features, label, key) with the benchmark's parameters. */
  private static TrainConfig training(String features, int rounds, int workers) {
    return example("flights-train.yaml", TrainConfig.class).toBuilder().features(features + "@0").model("bench")
        .task(Task.CLASSIFIER).seed(42L).hyperparameters(Map.of("max_depth", 6)).numRound(rounds).earlyStoppingRounds(0)
        .device(Device.CPU).numWorkers(workers).nthread(1).groupColumns(List.of()).build();
  }

  private static <T> T example(String name, Class<T> type) {
    try (java.io.InputStream in = TrainBenchmark.class.getResourceAsStream(EXAMPLES + name)) {
      if (in == null) {
        throw new IllegalStateException(EXAMPLES + name + " is not on the classpath: run with the kiln jar (bin/kiln-bench)");
      }
      return YamlFiles.parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), name, type);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** What a user writes without Kiln: the same rows, split, parameters and vector. */
  private static Object direct(SparkSession spark, String features, TrainConfig example, int rounds, int workers) {
    Dataset<Row> table = spark.read().format("delta").option("versionAsOf", 0).load(features);
    Dataset<Row> train = table.where(Split.part(example.key(), 42L, SplitFractions.DEFAULT).equalTo(Split.TRAIN));
    Dataset<Row> assembled = new VectorAssembler().setInputCols(example.featureColumns().toArray(new String[0]))
        .setOutputCol("features").setHandleInvalid("keep").transform(train);
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
