package kiln.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checking ten-row frames and Delta tables against contracts: verdicts, quarantine, history,
 * anomalies.
 */
@ExtendWith(SharedSpark.class)
class ContractCheckTest {
  static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.LongType, false)
          .add("code", DataTypes.StringType, true)
          .add("amount", DataTypes.LongType, true)
          .add("at", DataTypes.TimestampType, true);
  static final Instant NOW = Instant.parse("2026-01-10T12:00:00Z");

  static final String CONTRACT =
      """
      apiVersion: v3.1.0
      kind: DataContract
      id: orders
      version: 2.0.0
      status: active
      schema:
        - name: orders
          properties:
            - name: id
              physicalType: bigint
              required: true
              unique: true
            - name: code
              logicalType: string
              required: true
              logicalTypeOptions: {pattern: "^[A-Z]{3}$"}
              quality:
                - metric: invalidValues
                  arguments: {validValues: [ABC, DEF, GHI]}
                  mustBe: 0
            - name: amount
              logicalType: integer
              logicalTypeOptions: {minimum: 0, maximum: 100}
              quality:
                - {metric: mean, mustBeBetween: [10, 60]}
                - {metric: nullValues, unit: percent, mustBeLessOrEqualTo: 20}
                - {metric: quantile, arguments: {quantile: 0.5}, mustBeBetween: [10, 60]}
            - name: at
              logicalType: timestamp
              quality:
                - {metric: freshness, arguments: {maximumAge: P2D}, severity: warning}
          quality:
            - {name: size, metric: rowCount, mustBeBetween: [5, 20]}
            - {name: smallOrders, metric: predicate, arguments: {expression: "amount < 90 OR code = 'ABC'"}}
            - {name: growth, metric: rowCount, anomaly: {strategy: relativeRateOfChange, maxRateDecrease: 0.8, maxRateIncrease: 1.5}}
            - {name: bigOnes, type: sql, query: "SELECT COUNT(*) FROM {object} WHERE amount > 95", mustBeLessOrEqualTo: 1}
            - {name: doc, type: text, description: "Orders are final."}
      """;

  static Dataset<Row> orders(SparkSession spark, Function<Integer, Object[]> damage) {
    List<Row> rows = new ArrayList<>();
    String[] codes = {"ABC", "DEF", "GHI"};
    for (int i = 0; i < 10; i++) {
      Object[] values = {
        (long) i, codes[i % 3], (long) (i * 10), Timestamp.from(NOW.minusSeconds(3600L * i))
      };
      Object[] damaged = damage.apply(i);
      rows.add(RowFactory.create(damaged == null ? values : damaged));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  static Dataset<Row> orders(SparkSession spark) {
    return orders(spark, i -> null);
  }

  static ContractCheck checker(SparkSession spark) {
    return new ContractCheck(spark, m -> {}).withClock(Clock.fixed(NOW, ZoneOffset.UTC));
  }

  static Map<String, RuleResult> byName(ContractResult result) {
    return result.rules().stream().collect(Collectors.toMap(RuleResult::name, r -> r));
  }

  @Test
  void cleanDataPassesEveryRuleInOnePass(SparkSession spark) {
    Dataset<Row> data = orders(spark);
    data.schema();
    SparkJobs jobs = SparkJobs.watch(spark);
    ContractResult result =
        checker(spark).check(Contracts.parse(CONTRACT, "c"), null, data, MetricHistory.none());
    // counted as Spark runs them: one query for every rule Deequ computes from a scan, two for
    // uniqueness
    // (Deequ counts the groups, then aggregates them), one for the sql rule
    assertThat(jobs.queries()).as("%s", jobs.jobs()).isEqualTo(4);
    // without the uniqueness and sql rules, every other rule is computed in one pass over the data
    jobs.reset();
    String scanOnly =
        CONTRACT
            .replaceAll("(?m)^ *unique: true\n", "")
            .replaceAll("(?m)^ *- \\{name: bigOnes.*\n", "");
    assertThat(scanOnly).doesNotContain("unique", "bigOnes");
    ContractResult scanned =
        checker(spark).check(Contracts.parse(scanOnly, "c"), null, data, MetricHistory.none());
    assertThat(scanned.passed()).isTrue();
    assertThat(jobs.queries()).as("%s", jobs.jobs()).isEqualTo(1);
    jobs.close();

    assertThat(result.passed()).as(ContractReports.table(result)).isTrue();
    Map<String, RuleResult> rules = byName(result);
    assertThat(rules.get("size").value()).isEqualTo(10.0);
    assertThat(rules.get("amount.mean").value()).isEqualTo(45.0);
    assertThat(rules.get("amount.maximum").value()).isEqualTo(90.0);
    assertThat(rules.get("id.unique").status()).isEqualTo(RuleResult.Status.PASSED);
    assertThat(rules.get("at.freshness").status()).isEqualTo(RuleResult.Status.PASSED);
    assertThat(rules.get("bigOnes").value()).isEqualTo(0.0);
    assertThat(rules.get("doc").status()).isEqualTo(RuleResult.Status.SKIPPED);
    assertThat(rules.get("growth").message()).contains("no earlier version");
    assertThat(result.rows()).isEqualTo(10);
    assertThat(result.metrics()).anySatisfy(m -> assertThat(m.name()).isEqualTo("Size"));
  }

  @Test
  void brokenRulesFailWithTheirValuesAndWarningsDoNotFailTheContract(SparkSession spark) {
    Dataset<Row> data =
        orders(
            spark,
            i ->
                i == 3
                    ? new Object[] {3L, "xyz", 500L, Timestamp.from(NOW)}
                    : i == 4 ? new Object[] {4L, null, null, Timestamp.from(NOW)} : null);
    ContractResult result =
        checker(spark).check(Contracts.parse(CONTRACT, "c"), null, data, MetricHistory.none());

    assertThat(result.passed()).isFalse();
    Map<String, RuleResult> rules = byName(result);
    assertThat(rules.get("amount.maximum").status()).isEqualTo(RuleResult.Status.FAILED);
    assertThat(rules.get("amount.maximum").message()).isEqualTo("measured 500, expected <= 100");
    assertThat(rules.get("code.required").value()).isEqualTo(0.9);
    assertThat(rules.get("code.pattern").failed()).isTrue();
    assertThat(rules.get("code.invalidValues").value()).isEqualTo(1.0);
    assertThat(rules.get("amount.nullValues").value()).isEqualTo(10.0);
    assertThat(rules.get("amount.nullValues").failed()).isFalse();
    assertThat(result.errors())
        .extracting(RuleResult::name)
        .containsExactlyInAnyOrder(
            "code.required",
            "code.pattern",
            "code.invalidValues",
            "amount.maximum",
            "amount.mean",
            "smallOrders");

    ContractResult stale =
        checker(spark)
            .withClock(Clock.fixed(NOW.plusSeconds(86400 * 5), ZoneOffset.UTC))
            .check(Contracts.parse(CONTRACT, "c"), null, orders(spark), MetricHistory.none());
    assertThat(stale.passed()).isTrue();
    assertThat(stale.warnings()).extracting(RuleResult::name).containsExactly("at.freshness");
  }

  @Test
  void aSchemaThatDiffersIsReportedBeforeAnyScan(SparkSession spark) {
    Dataset<Row> data =
        orders(spark)
            .drop("code")
            .withColumn("amount", org.apache.spark.sql.functions.col("amount").cast("string"));
    ContractResult result =
        checker(spark).check(Contracts.parse(CONTRACT, "c"), null, data, MetricHistory.none());

    assertThat(result.passed()).isFalse();
    assertThat(result.rows()).isEqualTo(-1);
    assertThat(result.schemaDifferences())
        .extracting(SchemaDifference::describe)
        .containsExactly(
            "column 'code' is missing (contract: logicalType string)",
            "column 'amount' is string, the contract says logicalType integer");
    assertThat(result.rules())
        .filteredOn(r -> !r.name().equals("schema"))
        .allSatisfy(r -> assertThat(r.status()).isEqualTo(RuleResult.Status.SKIPPED));
  }

  @Test
  void anEmptyDatasetGetsVerdictsNotACrash(SparkSession spark) {
    ContractResult result =
        checker(spark)
            .check(
                Contracts.parse(CONTRACT, "c"), null, orders(spark).limit(0), MetricHistory.none());

    Map<String, RuleResult> rules = byName(result);
    assertThat(rules.get("size").message()).isEqualTo("measured 0, expected between 5 and 20");
    assertThat(rules.get("amount.mean").failed()).isTrue();
    assertThat(rules.get("amount.mean").message()).isNotBlank();
    assertThat(result.passed()).isFalse();
  }

  @Test
  void runQuarantinesBreakingRowsWithRuleNamesAndWritesCleanRowsMetricsAndReports(
      SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("orders").toString();
    datasets.write(orders(spark), table, WriteOptions.of(WriteMode.APPEND));
    datasets.write(
        orders(
            spark,
            i ->
                i == 3
                    ? new Object[] {3L, "xyz", 500L, Timestamp.from(NOW)}
                    : i == 4 ? new Object[] {4L, null, 20L, Timestamp.from(NOW)} : null),
        table,
        WriteOptions.of(WriteMode.OVERWRITE));
    Contract contract = Contracts.parse(CONTRACT, "c");

    CheckRun first = checker(spark).run(CheckSpec.of(contract, DatasetRef.atVersion(table, 0)));
    assertThat(first.passed()).isTrue();
    assertThat(first.quarantine()).isEmpty();

    CheckRun second =
        checker(spark)
            .run(
                CheckSpec.of(contract, DatasetRef.latest(table))
                    .withCleanOutput(dir.resolve("clean").toString())
                    .withReportDirectory(dir.resolve("report")));
    assertThat(second.passed()).isFalse();
    assertThat(second.quarantinedRows()).isEqualTo(2);
    List<Row> quarantined =
        spark
            .read()
            .format("delta")
            .load(table + "_quarantine")
            .orderBy("raw_record")
            .collectAsList();
    assertThat(quarantined).hasSize(2);
    assertThat(quarantined.get(0).getString(0)).contains("\"id\":3");
    assertThat(quarantined.get(0).<String>getList(1))
        .containsExactly("code.pattern", "code.invalidValues", "amount.maximum", "smallOrders");
    assertThat(quarantined.get(1).<String>getList(1))
        .containsExactly("code.required", "code.pattern");
    assertThat(quarantined.get(0).getLong(4)).isEqualTo(1L);
    assertThat(spark.read().format("delta").load(dir.resolve("clean").toString()).count())
        .isEqualTo(8);

    assertThat(second.metrics()).isPresent();
    assertThat(
            spark
                .read()
                .format("delta")
                .load(table + "_metrics")
                .select("dataset_version")
                .distinct()
                .count())
        .isEqualTo(2);
    assertThat(second.jsonReport()).exists();
    assertThat(second.htmlReport())
        .content()
        .contains("<svg")
        .contains("amount.maximum")
        .doesNotContain("<script")
        .contains("Metric history");

    CheckRun again = checker(spark).run(CheckSpec.of(contract, DatasetRef.latest(table)));
    assertThat(again.quarantine().orElseThrow().version())
        .isEqualTo(second.quarantine().orElseThrow().version());
  }

  @Test
  void anomalyRulesCompareWithTheHistoryOfEarlierVersions(SparkSession spark) {
    Contract contract = Contracts.parse(CONTRACT, "c");
    ContractResult grown =
        checker(spark)
            .check(
                contract,
                null,
                orders(spark),
                (name, instance) -> name.equals("Size") ? List.of(6.0) : List.of());
    RuleResult growth = byName(grown).get("growth");
    assertThat(growth.failed()).isTrue();
    assertThat(growth.message()).startsWith("measured 10 (previous version: 6)");

    ContractResult steady =
        checker(spark)
            .check(
                contract,
                null,
                orders(spark),
                (name, instance) -> name.equals("Size") ? List.of(3.0, 9.0) : List.of());
    assertThat(byName(steady).get("growth").failed()).isFalse();
  }

  @Test
  void referenceValuesComeFromAnotherDataset(SparkSession spark, @TempDir Path dir) {
    String codes = dir.resolve("codes").toString();
    new Datasets(spark)
        .write(
            spark.sql("SELECT * FROM VALUES ('ABC'), ('DEF') AS t(code)"),
            codes,
            WriteOptions.of(WriteMode.APPEND));
    Contract contract =
        Contracts.parse(
            """
        apiVersion: v3.1.0
        kind: DataContract
        id: ref
        version: 1.0.0
        status: active
        schema:
          - name: orders
            properties:
              - name: code
                quality:
                  - {metric: valuesIn, arguments: {dataset: "%s@0"}}
        """
                .formatted(codes),
            "ref.yaml");
    ContractResult result =
        checker(spark).check(contract, null, orders(spark), MetricHistory.none());
    RuleResult rule = byName(result).get("code.valuesIn");
    assertThat(rule.failed()).isTrue();
    assertThat(rule.value()).isEqualTo(0.7);

    Contract wrongColumn =
        Contracts.parse(
            Contracts.toYaml(contract).replace("dataset:", "property: name\n        dataset:"),
            "w");
    assertThatThrownBy(
            () -> checker(spark).check(wrongColumn, null, orders(spark), MetricHistory.none()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("has no column 'name'; it has 'code'");
  }

  @Test
  void aSqlRuleThatDoesNotRunIsBadInput(SparkSession spark) {
    Contract contract =
        Contracts.parse(CONTRACT.replace("WHERE amount > 95", "WHERE amout > 95"), "c");
    assertThatThrownBy(
            () -> checker(spark).check(contract, null, orders(spark), MetricHistory.none()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("rule 'bigOnes': its query does not run")
        .hasMessageContaining("amout");
  }

  @Test
  void theReportsAreWritten(SparkSession spark, @TempDir Path dir) throws Exception {
    ContractResult result =
        checker(spark)
            .check(Contracts.parse(CONTRACT, "c"), null, orders(spark), MetricHistory.none());
    String json = ContractReports.json(result, 0, null);
    assertThat(json).contains("\"status\" : \"passed\"").contains("\"name\" : \"amount.mean\"");
    String table = ContractReports.table(result);
    assertThat(table)
        .startsWith("STATUS")
        .containsPattern("PASS +error +size +rowCount +10 +between 5 and 20")
        .contains("PASSED");
    Files.writeString(dir.resolve("r.html"), ContractReports.html(result, Map.of()));
    assertThat(dir.resolve("r.html")).content().contains("<!DOCTYPE html>").contains("PASSED");
  }

  @Test
  void aContractDatacontractCliWroteChecksATenRowFrameAndReportsWhatItDoesNotCheck(
      SparkSession spark) {
    // datacontract-cli 1.2.8's ODCS export of a Data Contract Specification file (fixture)
    Contract contract =
        Contracts.read(Path.of("src/test/resources/datacontract-cli/dcs-export.odcs.yaml"));
    StructType schema =
        new StructType()
            .add("flight_id", DataTypes.LongType, false)
            .add("delay", DataTypes.IntegerType, true)
            .add("origin", DataTypes.StringType, true)
            .add("carrier", DataTypes.StringType, true);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      rows.add(RowFactory.create((long) i, i * 10 - 5, i == 3 ? null : "SFO", "AA"));
    }
    ContractResult result =
        checker(spark)
            .check(contract, null, spark.createDataFrame(rows, schema), MetricHistory.none());
    Map<String, RuleResult> rules = byName(result);
    assertThat(rules.get("schema").status()).isEqualTo(RuleResult.Status.PASSED);
    assertThat(rules.get("flight_id.unique").status()).isEqualTo(RuleResult.Status.PASSED);
    assertThat(rules.get("delay.minimum").status()).isEqualTo(RuleResult.Status.PASSED);
    assertThat(rules.get("origin.pattern").status()).isEqualTo(RuleResult.Status.PASSED);
    // the one null origin breaks nullValues mustBe 0; ten rows are far below rowCount > 1000
    assertThat(rules.get("origin.nullValues").status()).isEqualTo(RuleResult.Status.FAILED);
    assertThat(rules.get("origin.nullValues").value()).isEqualTo(1.0);
    assertThat(rules.get("rowCount").status()).isEqualTo(RuleResult.Status.FAILED);
    assertThat(rules.get("text").status()).isEqualTo(RuleResult.Status.SKIPPED);
    // AVG(delay) over -5, 5, ..., 85 is 40, below 60
    assertThat(rules.get("delay.sql").value()).isEqualTo(40.0);
    assertThat(rules.get("delay.sql").status()).isEqualTo(RuleResult.Status.PASSED);
    assertThat(result.notChecked())
        .contains("name", "status", "team", "schema[].properties[].enum");
    assertThat(ContractReports.table(result))
        .contains("not checked (standard fields Kiln does not act on): ")
        .contains("schema[].properties[].enum");
    assertThat(ContractReports.json(result, 0, null)).contains("\"notChecked\" : [ ");
  }
}
