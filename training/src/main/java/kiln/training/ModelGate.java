package kiln.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.LocalFiles;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.RegisteredModels;
import kiln.core.models.Split;
import kiln.core.models.Task;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Promotion through the registry: a candidate version is compared with the {@value #CHAMPION} on
 * the candidate's own test rows (same feature table version, same split); if it passes it becomes
 * champion and the old champion {@value #PREVIOUS}. {@link #rollback} undoes the last promotion.
 */
public final class ModelGate {
  public static final String CHAMPION = "champion";
  public static final String PREVIOUS = "previous";

  private final SparkSession spark;
  private final Tracking tracking;

  public ModelGate(SparkSession spark, Tracking tracking) {
    this.spark = spark;
    this.tracking = tracking;
  }

  /**
   * Evaluates the gate, promotes on a pass, and reports to {@code run}. A failed gate is a result,
   * not an error.
   */
  public GateResult gate(String name, String version, GateCriteria criteria, TrackedRun run) {
    RegisteredModels registry = new RegisteredModels(tracking);
    Tracking.ModelVersion candidateVersion = registry.version(name, version);
    Tracking.ModelVersion championVersion = tracking.versionByAlias(name, CHAMPION).orElse(null);
    if (championVersion != null && championVersion.version().equals(candidateVersion.version())) {
      throw Errors.badInput(
          "version " + version + " of " + name + " is already the champion",
          "gate a newer version, or `kiln models rollback --model models:/"
              + name
              + "` to go back");
    }
    Path directory = temporaryDirectory();
    try {
      ModelFiles candidate = registry.download(candidateVersion, directory.resolve("candidate"));
      ModelInfo info = candidate.info();
      ModelFiles champion = null;
      if (championVersion != null) {
        champion = registry.download(championVersion, directory.resolve("champion"));
        if (!champion.info().label().equals(info.label())
            || champion.info().task() != info.task()) {
          throw Errors.badInput(
              "the champion (version "
                  + championVersion.version()
                  + ") is a "
                  + describe(champion.info())
                  + ", the candidate a "
                  + describe(info)
                  + "; they cannot be compared",
              "register models for another label under another name");
        }
      }
      DatasetRef testData = DatasetRef.atVersion(info.featureTable(), info.featureVersion());
      Dataset<Row> test =
          Split.test(new Datasets(spark).read(testData), info.key(), info.seed(), info.split());
      if (champion != null && !sameSplit(info, champion.info())) {
        // the champion fitted some of the candidate's test rows: compare both only on rows neither
        // fitted
        test = sharedTestRows(test, testData, info, champion.info(), championVersion);
      }
      test = test.cache();
      try {
        long testRows = champion == null || sameSplit(info, champion.info()) ? -1 : test.count();
        if (testRows >= 0 && testRows < MIN_SHARED_TEST_ROWS) {
          throw Errors.badInput(
              "the candidate and the champion (version "
                  + championVersion.version()
                  + ") were split"
                  + " differently ("
                  + Split.describe(info.key(), info.seed(), info.split())
                  + " vs "
                  + Split.describe(
                      champion.info().key(), champion.info().seed(), champion.info().split())
                  + ") and share only "
                  + testRows
                  + " test rows of "
                  + testData
                  + "; at least "
                  + MIN_SHARED_TEST_ROWS
                  + " are needed for a fair comparison",
              "train the candidate with the champion's split (key, seed, split in the training config)");
        }
        Evaluation.Result candidateResult = Trainer.evaluate(candidate, test);
        double candidateLatency = Trainer.latencyMillisPer1000Rows(candidate, test);
        Evaluation.Result championResult =
            champion == null ? null : Trainer.evaluate(champion, test);
        List<GateResult.Criterion> checks =
            criteria(
                info.task(),
                criteria,
                candidateResult,
                candidateLatency,
                championResult,
                championVersion);
        boolean pass = checks.stream().allMatch(GateResult.Criterion::passed);
        Map<String, Double> candidateMetrics = new LinkedHashMap<>(candidateResult.metrics());
        candidateMetrics.put("largest_group_gap", candidateResult.largestGap());
        candidateMetrics.put("latency_ms_per_1000_rows", candidateLatency);
        report(
            run, name, version, championVersion, testData, candidateMetrics, championResult, pass);
        if (pass) {
          if (championVersion != null) {
            tracking.setAlias(name, PREVIOUS, championVersion.version());
          }
          tracking.setAlias(name, CHAMPION, candidateVersion.version());
        }
        return new GateResult(
            name,
            version,
            championVersion == null ? null : championVersion.version(),
            pass,
            checks,
            candidateMetrics,
            championResult == null ? null : championResult.metrics());
      } finally {
        test.unpersist();
      }
    } finally {
      delete(directory);
    }
  }

  /** Fewer shared test rows than this and two differently split models are not compared. */
  static final long MIN_SHARED_TEST_ROWS = 100;

  private static boolean sameSplit(ModelInfo a, ModelInfo b) {
    return a.key().equals(b.key()) && a.seed() == b.seed() && a.split().equals(b.split());
  }

  /**
   * The candidate's test rows that are also in the champion's test part: rows neither model fitted
   * or tuned on.
   */
  private static Dataset<Row> sharedTestRows(
      Dataset<Row> candidateTest,
      DatasetRef testData,
      ModelInfo candidate,
      ModelInfo champion,
      Tracking.ModelVersion championVersion) {
    if (!List.of(candidateTest.columns()).contains(champion.key())) {
      throw Errors.badInput(
          "the champion (version "
              + championVersion.version()
              + ") was split by key '"
              + champion.key()
              + "', which "
              + testData
              + " lacks, so its training rows cannot be kept out of the"
              + " comparison (the candidate is split by '"
              + candidate.key()
              + "')",
          "train the candidate with the champion's split key, or gate it against a champion split the same way");
    }
    return candidateTest.where(
        Split.part(champion.key(), champion.seed(), champion.split()).equalTo(Split.TEST));
  }

  /** Points champion back at the previous version; returns that version. */
  public String rollback(String name) {
    RegisteredModels registry = new RegisteredModels(tracking);
    registry.requireModel(name);
    Tracking.ModelVersion previous =
        tracking
            .versionByAlias(name, PREVIOUS)
            .orElseThrow(
                () ->
                    Errors.conflict(
                        "model "
                            + name
                            + " has no '"
                            + PREVIOUS
                            + "' version to roll back to; its aliases: "
                            + tracking.aliases(name),
                        "a version becomes previous when a newer one passes `kiln models gate`"));
    tracking.setAlias(name, CHAMPION, previous.version());
    tracking.deleteAlias(name, PREVIOUS);
    return previous.version();
  }

  static List<GateResult.Criterion> criteria(
      Task task,
      GateCriteria criteria,
      Evaluation.Result candidate,
      double latency,
      Evaluation.Result champion,
      Tracking.ModelVersion championVersion) {
    String primary = task.primaryMetric();
    double value = candidate.metrics().get(primary);
    List<GateResult.Criterion> checks = new ArrayList<>();
    if (champion == null) {
      if (task == Task.CLASSIFIER) {
        checks.add(
            new GateResult.Criterion(
                "min_auc_roc",
                value >= criteria.minAucRoc(),
                String.format(
                    Locale.ROOT,
                    "AUC-ROC %.4f, at least %.4f needed (first model, no champion yet)",
                    value,
                    criteria.minAucRoc())));
      } else if (criteria.maxRmse() != null) {
        checks.add(
            new GateResult.Criterion(
                "max_rmse",
                value <= criteria.maxRmse(),
                String.format(
                    Locale.ROOT,
                    "RMSE %.4f, at most %.4f allowed (first model, no champion yet)",
                    value,
                    criteria.maxRmse())));
      }
    } else {
      double championValue = champion.metrics().get(primary);
      double improvement = task.higherIsBetter() ? value - championValue : championValue - value;
      checks.add(
          new GateResult.Criterion(
              "min_improvement",
              improvement >= criteria.minImprovement(),
              String.format(
                  Locale.ROOT,
                  "%s %.4f vs champion (version %s) %.4f: improvement %.4f, at least %.4f needed",
                  primary,
                  value,
                  championVersion.version(),
                  championValue,
                  improvement,
                  criteria.minImprovement())));
    }
    checks.add(
        new GateResult.Criterion(
            "max_group_gap",
            candidate.largestGap() <= criteria.maxGroupGap(),
            String.format(
                Locale.ROOT,
                "largest %s gap between groups %.4f, at most %.4f allowed %s",
                primary,
                candidate.largestGap(),
                criteria.maxGroupGap(),
                candidate.gaps())));
    checks.add(
        new GateResult.Criterion(
            "max_latency",
            latency <= criteria.maxLatencyMillisPer1000Rows(),
            String.format(
                Locale.ROOT,
                "scoring latency %.2f ms per 1000 rows, at most %.2f allowed",
                latency,
                criteria.maxLatencyMillisPer1000Rows())));
    return checks;
  }

  private static void report(
      TrackedRun run,
      String name,
      String version,
      Tracking.ModelVersion champion,
      DatasetRef testData,
      Map<String, Double> candidate,
      Evaluation.Result championResult,
      boolean pass) {
    run.logParams(
        Map.of(
            "model",
            name,
            "candidate_version",
            version,
            "champion_version",
            champion == null ? "none" : champion.version()));
    run.logInput(testData, "test");
    Map<String, Double> metrics = new LinkedHashMap<>();
    candidate.forEach((k, v) -> metrics.put("candidate_" + k, v));
    if (championResult != null) {
      championResult.metrics().forEach((k, v) -> metrics.put("champion_" + k, v));
    }
    metrics.put("passed", pass ? 1.0 : 0.0);
    run.logMetrics(metrics);
    run.setTags(Map.of("kiln.gate", pass ? "passed" : "failed"));
  }

  private static String describe(ModelInfo info) {
    return info.task().name().toLowerCase(Locale.ROOT) + " of label '" + info.label() + "'";
  }

  private static Path temporaryDirectory() {
    try {
      return Files.createTempDirectory("kiln-gate-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path directory) {
    try {
      LocalFiles.deleteTree(directory);
    } catch (IOException | RuntimeException e) {
      // a temporary directory left behind is harmless
    }
  }
}
