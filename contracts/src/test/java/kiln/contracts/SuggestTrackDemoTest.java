package kiln.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SampleFlights;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.TrackedRun;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Suggested contracts and reporting to a tracking run. */
@ExtendWith(SharedSpark.class)
class SuggestTrackDemoTest {

  /** A TrackedRun that keeps what it is told. */
  static final class RecordingRun implements TrackedRun {
    final Map<String, String> params = new LinkedHashMap<>();
    final Map<String, Double> metrics = new LinkedHashMap<>();
    final Map<String, String> tags = new LinkedHashMap<>();
    final Map<String, String> artifacts = new LinkedHashMap<>();
    final List<String> inputs = new ArrayList<>();

    @Override
    public String id() {
      return "run-1";
    }

    @Override
    public String url() {
      return "http://127.0.0.1/run-1";
    }

    @Override
    public void logParams(Map<String, String> p) {
      params.putAll(p);
    }

    @Override
    public void logMetrics(Map<String, Double> m) {
      metrics.putAll(m);
    }

    @Override
    public void logMetric(String key, double value, long step) {
      metrics.put(key, value);
    }

    @Override
    public void setTags(Map<String, String> t) {
      tags.putAll(t);
    }

    @Override
    public void logArtifact(Path file, String artifactPath) {
      artifacts.put(artifactPath, file.toString());
    }

    @Override
    public void logText(String text, String artifactPath) {
      artifacts.put(artifactPath, text);
    }

    @Override
    public void logInput(DatasetRef pinned, String context) {
      inputs.add(context + ":" + pinned);
    }

    @Override
    public void finish() {}

    @Override
    public void fail(Throwable error) {}

    @Override
    public void close() {}
  }

  @Test
  void aSuggestedContractPassesOnItsDataAndFailsOnWorseData(SparkSession spark) {
    Dataset<Row> data = SampleFlights.regular(spark, 10);
    Contract draft = ContractSuggestions.suggest(data, "flights-draft", "flights");
    Contract reread = Contracts.parse(Contracts.toYaml(draft), "draft.yaml");

    ContractCheck check = new ContractCheck(spark, m -> {});
    ContractResult same = check.check(reread, null, data, MetricHistory.none());
    assertThat(same.passed()).as(ContractReports.table(same)).isTrue();
    assertThat(same.rules())
        .extracting(RuleResult::name)
        .contains(
            "delay.required",
            "origin.invalidValues",
            "distance.minimum",
            "distance.maximum",
            "rowCount");
    assertThat(reread.schema().get(0).properties())
        .allSatisfy(
            p -> p.quality().forEach(q -> assertThat(q.severity()).isEqualTo(Severity.ERROR)));

    Dataset<Row> worse =
        data.withColumn("origin", org.apache.spark.sql.functions.lit("XXX"))
            .withColumn("distance", org.apache.spark.sql.functions.col("distance").multiply(100));
    ContractResult broken = check.check(reread, null, worse, MetricHistory.none());
    assertThat(broken.errors())
        .extracting(RuleResult::name)
        .contains("origin.invalidValues", "distance.maximum");
  }

  @Test
  void reportingLogsOneMetricPerRuleTheContractReportsAndTheDatasetVersion(
      SparkSession spark, @TempDir Path dir) {
    String table = dir.resolve("flights").toString();
    new Datasets(spark)
        .write(SampleFlights.regular(spark, 10), table, WriteOptions.of(WriteMode.APPEND));
    Contract contract =
        ContractSuggestions.suggest(SampleFlights.regular(spark, 10), "flights-draft", "flights");
    CheckRun run =
        new ContractCheck(spark, m -> {})
            .run(
                CheckSpec.of(contract, DatasetRef.latest(table))
                    .withReportDirectory(dir.resolve("reports")));

    RecordingRun tracked = new RecordingRun();
    ContractTracking.report(tracked, run, Contracts.toYaml(contract));

    int ruleCount = run.result().rules().size();
    assertThat(tracked.metrics.keySet().stream().filter(k -> k.startsWith("rule.")))
        .hasSize(ruleCount);
    assertThat(tracked.metrics)
        .containsEntry("rule.rowCount", 10.0)
        .containsEntry("contract.passed", 1.0)
        .containsEntry("rule.delay.required", 1.0);
    assertThat(tracked.params)
        .containsEntry("contract.id", "flights-draft")
        .containsEntry("dataset", table + "@0");
    assertThat(tracked.inputs).containsExactly("input:" + table + "@0");
    assertThat(tracked.artifacts)
        .containsKeys(
            "contract/flights-draft.yaml", "contract/report.json", "contract/report.html");
    assertThat(tracked.artifacts.get("contract/flights-draft.yaml")).contains("kind: DataContract");
    assertThat(tracked.tags).containsEntry("kiln.contract.status", "passed");
  }
}
