package kiln.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.core.testing.SparkJobs;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift job on real Delta tables: verdicts, awkward columns, profile reuse, history, report,
 * tracking.
 */
@ExtendWith(SharedSpark.class)
class DriftMonitorTest {
  @TempDir static Path dir;
  static String reference;
  static String current;

  static final StructType REFERENCE =
      new StructType()
          .add("amount", DataTypes.DoubleType)
          .add("city", DataTypes.StringType)
          .add("flag", DataTypes.BooleanType)
          .add("empty", DataTypes.StringType)
          .add("constant", DataTypes.IntegerType)
          .add("code", DataTypes.LongType)
          .add("dropped", DataTypes.IntegerType)
          .add("score", DataTypes.DoubleType);
  static final StructType CURRENT =
      new StructType()
          .add("amount", DataTypes.DoubleType)
          .add("city", DataTypes.StringType)
          .add("flag", DataTypes.BooleanType)
          .add("empty", DataTypes.StringType)
          .add("constant", DataTypes.IntegerType)
          .add("code", DataTypes.StringType)
          .add("added", DataTypes.IntegerType)
          .add("score", DataTypes.DoubleType);

  @BeforeAll
  static void tables(SparkSession spark) {
    List<Row> r = new ArrayList<>();
    List<Row> c = new ArrayList<>();
    String[] cities = {"Oslo", "Lima", "Pune", "Kyiv"};
    for (int i = 0; i < 200; i++) {
      r.add(
          RowFactory.create(
              (double) (i % 50), cities[i % 4], i % 2 == 0, null, 7, (long) i, i, (i % 10) / 10.0));
      double amount = i == 0 ? Double.NaN : i == 1 ? Double.POSITIVE_INFINITY : 30 + (i % 50);
      c.add(
          RowFactory.create(
              amount,
              i % 3 == 0 ? null : cities[i % 4],
              i % 2 == 0,
              null,
              7,
              "c" + i,
              i,
              (i % 10) / 10.0 + 0.5));
    }
    Datasets datasets = new Datasets(spark);
    reference = dir.resolve("reference").toString();
    current = dir.resolve("current").toString();
    datasets.write(
        spark.createDataFrame(r, REFERENCE), reference, WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(
        spark.createDataFrame(c, CURRENT), current, WriteOptions.of(WriteMode.OVERWRITE));
  }

  DriftConfig config() {
    return DriftConfig.defaults()
        .withTables(dir.resolve("profiles").toString(), dir.resolve("history").toString());
  }

  @Test
  void everyKindOfColumnGetsAVerdictAndNothingCrashes(SparkSession spark) throws Exception {
    DriftConfig config = config().withColumns(null, "score", null);
    SparkJobs jobs = SparkJobs.watch(spark);
    DriftResult result =
        new DriftMonitor(spark, config)
            .run(
                DriftInput.of(DatasetRef.parse(reference + "@0")),
                DriftInput.of(DatasetRef.parse(current)));
    // each side profiled in one pass: one Spark job per side, whatever the number of columns and
    // statistics
    assertThat(jobs.startedAt("Profiler.java")).as("%s", jobs.jobs()).isEqualTo(2);

    assertThat(result.current().dataset().version()).isEqualTo(0L);
    assertThat(verdict(result, "amount")).isEqualTo(Verdict.DRIFTED);
    assertThat(verdict(result, "city"))
        .isEqualTo(Verdict.DRIFTED); // a third of the cities became null
    assertThat(result.feature("city").orElseThrow().reasons())
        .anyMatch(r -> r.startsWith("null rate changed by 0.335"));
    assertThat(verdict(result, "flag")).isEqualTo(Verdict.STABLE);
    assertThat(verdict(result, "empty")).isEqualTo(Verdict.NO_DATA);
    assertThat(verdict(result, "constant")).isEqualTo(Verdict.STABLE);
    assertThat(result.feature("constant").orElseThrow().statistics())
        .containsEntry("psi", 0.0)
        .containsEntry("wasserstein_normalised", 0.0);
    assertThat(verdict(result, "code")).isEqualTo(Verdict.TYPE_CHANGED);
    assertThat(result.feature("code").orElseThrow().reasons())
        .containsExactly("type changed from bigint to string: not comparable");
    assertThat(verdict(result, "dropped")).isEqualTo(Verdict.MISSING_IN_CURRENT);
    assertThat(verdict(result, "added")).isEqualTo(Verdict.NEW_IN_CURRENT);
    FeatureDrift score = result.feature("score").orElseThrow();
    assertThat(score.role()).isEqualTo(Role.PREDICTION);
    assertThat(score.drifted()).isTrue();

    FeatureDrift amount = result.feature("amount").orElseThrow();
    assertThat(amount.statistics().get("non_finite_rate_current")).isEqualTo(0.01);
    assertThat(amount.statistics().get("out_of_range_rate")).isGreaterThan(0.5);
    // amount, city, code, dropped drifted of flag, constant, amount, city, code, dropped (empty,
    // added not compared)
    assertThat(result.driftedShare()).isEqualTo(4.0 / 6);
    assertThat(result.drifted()).isTrue();
    assertThat(result.summary())
        .isEqualTo(
            "4 of 6 features drifted (67%, dataset threshold 50%); drifted: prediction 'score': DRIFTED");
    assertThat(result.features().get(0).drifted()).isTrue();
    assertThat(result.features().get(result.features().size() - 1).drifted()).isFalse();

    // the reference is scanned once: the second comparison reads its stored profile (and the
    // current's),
    // so it profiles nothing
    jobs.reset();
    DriftResult again =
        new DriftMonitor(spark, config)
            .run(
                DriftInput.of(DatasetRef.parse(reference + "@0")),
                DriftInput.of(DatasetRef.parse(current + "@0")));
    assertThat(jobs.startedAt("Profiler.java")).as("%s", jobs.jobs()).isZero();
    jobs.close();
    assertThat(again.referenceProfileReused()).isTrue();
    assertThat(again.features()).isEqualTo(result.features());

    Path report = DriftReport.write(result, dir.resolve("out/report.html"));
    String html = Files.readString(report);
    assertThat(html)
        .startsWith("<!DOCTYPE html>")
        .contains("<svg", "amount", "TYPE_CHANGED", "4 of 6 features drifted")
        .doesNotContain("<script", "http://", "https://", "src=");
    assertThat(html.indexOf("id=\"col-amount\"")).isLessThan(html.indexOf("id=\"col-flag\""));

    long version =
        DriftHistory.append(
            spark, dir.resolve("history").toString(), result, "run-1", Instant.now());
    Dataset<Row> history =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", version)
            .load(dir.resolve("history").toString());
    assertThat(history.where("feature = 'amount' and statistic = 'psi'").count()).isEqualTo(1);
    assertThat(
            history
                .where("statistic = 'drifted_share'")
                .first()
                .getDouble(history.schema().fieldIndex("value")))
        .isEqualTo(4.0 / 6);

    InMemoryRun run = new InMemoryRun();
    DriftTracking.report(run, result, report);
    assertThat(run.metrics)
        .containsKey("drift.amount.psi")
        .containsEntry("drift.dataset.drifted", 1.0)
        .containsEntry("drift.code.drifted", 1.0);
    assertThat(run.metrics.values()).allMatch(Double::isFinite);
    assertThat(run.tags)
        .containsEntry("drift.verdict", "drifted")
        .containsEntry("drift.score.verdict", "drifted")
        .containsEntry("drift.added.verdict", "new_in_current");
    assertThat(run.inputs)
        .containsExactly("reference=" + reference + "@0", "current=" + current + "@0");
    assertThat(run.artifacts).containsEntry(DriftTracking.REPORT_ARTIFACT, report);
    assertThat(run.params).containsEntry("drift.threshold.psi", "0.2");
  }

  @Test
  void slicesOfOneTableAreComparedAndEachProfiledOnce(SparkSession spark) {
    DriftConfig config = config().withColumns(List.of("amount", "flag"), null, null);
    List<String> progress = new ArrayList<>();
    DriftMonitor monitor = new DriftMonitor(spark, config, progress::add);
    DatasetRef table = DatasetRef.parse(reference + "@0");
    SparkJobs jobs = SparkJobs.watch(spark);
    long resolved = Datasets.resolutions(reference);
    List<DriftResult> results =
        monitor.consecutive(
            List.of(
                DriftInput.of(table).where("amount < 10").labelled("low"),
                DriftInput.of(table).where("amount >= 10 and amount < 20").labelled("middle"),
                DriftInput.of(table).where("amount >= 20").labelled("high")));
    assertThat(results).hasSize(2);
    assertThat(results.get(0).feature("amount").orElseThrow().drifted()).isTrue();
    assertThat(results.get(0).current().label()).isEqualTo("middle");
    assertThat(results.get(1).referenceProfileReused()).isTrue();
    assertThat(progress.stream().filter(p -> p.startsWith("profiling")).count()).isEqualTo(3);
    // three slices, three profiling jobs (the middle one profiled once though it is a side twice);
    // one table
    // version, resolved once for all of them
    assertThat(jobs.startedAt("Profiler.java")).as("%s", jobs.jobs()).isEqualTo(3);
    jobs.close();
    assertThat(Datasets.resolutions(reference) - resolved).isEqualTo(1);
  }

  @Test
  void inputThatCannotBeComparedIsAClearError(SparkSession spark) {
    DriftMonitor monitor = new DriftMonitor(spark, config());
    DriftInput ref = DriftInput.of(DatasetRef.parse(reference));
    assertThatThrownBy(
            () -> monitor.run(ref, DriftInput.of(DatasetRef.parse(current)).where("amount < -1")))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("the current data " + current + "@0 where amount < -1 has no rows");
    assertThatThrownBy(
            () -> monitor.run(ref, DriftInput.of(DatasetRef.parse(current)).where("amount >>> 2")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "the current filter 'amount >>> 2' is not a valid Spark SQL condition");
    assertThatThrownBy(() -> monitor.run(ref, DriftInput.of(DatasetRef.parse(current + "@5"))))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("version 5 of " + current + " does not exist");
    DriftMonitor declared =
        new DriftMonitor(spark, config().withColumns(List.of("amount", "amout"), null, null));
    assertThatThrownBy(() -> declared.run(ref, DriftInput.of(DatasetRef.parse(current))))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("neither the reference nor the current data lacks column 'amout'");
  }

  private static Verdict verdict(DriftResult result, String column) {
    return result.feature(column).orElseThrow().verdict();
  }
}
