package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kiln.core.testing.SharedSpark;
import kiln.lineage.OpenLineageSchema;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln contracts check|suggest} as a user meets them: output, files, messages and exit
 * codes.
 */
@ExtendWith(SharedSpark.class)
class ContractsCommandTest {
  static final String CONTRACT =
      """
      apiVersion: v3.1.0
      kind: DataContract
      id: orders
      version: 1.0.0
      status: active
      schema:
        - name: orders
          properties:
            - name: id
              physicalType: int
              required: true
            - name: amount
              logicalType: integer
              logicalTypeOptions: {minimum: 0, maximum: 100}
          quality:
            - {name: size, metric: rowCount, mustBeBetween: [1, 100]}
            - {name: tiny, metric: rowCount, mustBeLessThan: 3, severity: warning}
      """;

  static String table(SparkSession spark, Path dir, String values) {
    String table = dir.resolve("orders").toString();
    spark
        .sql("SELECT * FROM VALUES " + values + " AS t(id, amount)")
        .write()
        .format("delta")
        .save(table);
    return table;
  }

  @Test
  void aPassingCheckPrintsTheRulesAndWritesReportsWithExitZero(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String table = table(spark, dir, "(1, 10), (2, 20), (3, 30)");
    Path contract = Files.writeString(dir.resolve("c.yaml"), CONTRACT);

    KilnRun run =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            contract.toString(),
            "--input",
            table,
            "--report-dir",
            dir.resolve("reports").toString());

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .containsPattern("PASS +error +amount.maximum +maximum +30 +<= 100")
        .containsPattern("WARN +warning +tiny")
        .contains("contract orders 1.0.0 on " + table + "@0: PASSED, 0 error(s), 1 warning(s)");
    assertThat(dir.resolve("reports/report.json")).content().contains("\"status\" : \"passed\"");
    assertThat(dir.resolve("reports/report.html")).exists();
    assertThat(run.err()).doesNotContain("Exception").contains("MLflow run: ");
  }

  @Test
  void aBrokenContractExitsOneAndQuarantinesTheBreakingRows(SparkSession spark, @TempDir Path dir)
      throws Exception {
    String table =
        table(spark, dir, "(1, 10), (2, 500), (3, CAST(NULL AS INT)), (CAST(NULL AS INT), 5)");
    Path contract = Files.writeString(dir.resolve("c.yaml"), CONTRACT);

    KilnRun run =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            contract.toString(),
            "--input",
            table + "@0",
            "--output",
            dir.resolve("clean").toString(),
            "--report-dir",
            dir.resolve("r").toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("error: amount.maximum: measured 500, expected <= 100")
        .contains("Quarantined 2 rows into " + table + "_quarantine, version 0")
        .contains("Wrote 2 clean rows to " + dir.resolve("clean"));
    assertThat(run.err()).contains("contract broken: id.required, amount.maximum");

    // the verdicts travel with the checked version in OpenLineage's data-quality facets
    OpenLineageSchema schema = new OpenLineageSchema();
    List<JsonNode> events = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("work/lineage/events.jsonl"))) {
      assertThat(schema.violations(line)).as(line).isEmpty();
      events.add(new ObjectMapper().readTree(line));
    }
    JsonNode complete = events.get(events.size() - 1);
    assertThat(complete.get("eventType").asText()).isEqualTo("COMPLETE");
    JsonNode input = complete.at("/inputs/0");
    assertThat(input.get("name").asText()).isEqualTo(Path.of(table).toAbsolutePath().toString());
    assertThat(input.at("/facets/version/datasetVersion").asText()).isEqualTo("0");
    assertThat(input.at("/inputFacets/dataQualityAssertions/assertions"))
        .extracting(
            a ->
                a.get("name").asText()
                    + " "
                    + a.get("assertion").asText()
                    + " "
                    + a.get("success").asBoolean()
                    + " "
                    + a.get("severity").asText())
        .contains(
            "schema schema true error",
            "id.required not_null false error",
            "amount.maximum maximum false error",
            "tiny row_count false warn",
            "size row_count true error");
    JsonNode metrics = input.at("/inputFacets/dataQualityMetrics");
    assertThat(metrics.get("rowCount").asLong()).isEqualTo(4);
    assertThat(metrics.at("/columnMetrics/id/nullCount").asLong()).isEqualTo(1);
    assertThat(metrics.at("/columnMetrics/amount/max").asDouble()).isEqualTo(500.0);
    assertThat(complete.at("/outputs")).allSatisfy(o -> assertThat(o.has("inputFacets")).isFalse());
  }

  @Test
  void aBrokenContractWithJsonPrintsItsRecordOnStandardOutputThenExitsOne(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String table =
        table(spark, dir, "(1, 10), (2, 500), (3, CAST(NULL AS INT)), (CAST(NULL AS INT), 5)");
    Path contract = Files.writeString(dir.resolve("c.yaml"), CONTRACT);

    KilnRun run =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            contract.toString(),
            "--input",
            table + "@0",
            "--report-dir",
            dir.resolve("r").toString(),
            "--json");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("passed").asBoolean()).isFalse();
    assertThat(json.at("/check/result/dataset/table").asText()).isEqualTo(table);
    assertThat(json.at("/check/result/dataset/version").asLong()).isZero();
    assertThat(json.at("/check/result/rows").asLong()).isEqualTo(4);
    assertThat(json.at("/check/result/rules").findValuesAsText("name"))
        .contains("id.required", "amount.maximum");
    assertThat(json.at("/check/quarantinedRows").asLong()).isEqualTo(2);
    assertThat(json.at("/check/htmlReport").asText())
        .isEqualTo(dir.resolve("r/report.html").toString());
    assertThat(run.err())
        .contains("error: amount.maximum: measured 500, expected <= 100")
        .contains("contract broken: id.required, amount.maximum");
  }

  @Test
  void suggestWritesAContractThatCheckAcceptsAsItIs(SparkSession spark, @TempDir Path dir) {
    String table = table(spark, dir, "(1, 10), (2, 20), (3, 30), (4, 40)");
    Path out = dir.resolve("draft.yaml");

    KilnRun suggest = kiln("contracts", "suggest", "--input", table, "--out", out.toString());
    assertThat(suggest.exitCode()).as(suggest.err()).isZero();
    assertThat(suggest.out()).contains("Wrote a draft contract with 2 properties to " + out);
    assertThat(out).content().contains("kind: DataContract").contains("id: orders");

    KilnRun check =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            out.toString(),
            "--input",
            table,
            "--report-dir",
            dir.resolve("r").toString());
    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
  }

  @Test
  void badContractsAndDataAreExitTwoWithAMessageAndNoStackTrace(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String table = table(spark, dir, "(1, 10)");
    Path typo =
        Files.writeString(
            dir.resolve("typo.yaml"), CONTRACT.replace("required: true", "requird: true"));
    KilnRun run =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            typo.toString(),
            "--input",
            table);
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains(typo + ":11:9: unknown key 'requird'")
        .contains("fix: use one of the valid keys")
        .doesNotContain("\tat ");

    Path contract = Files.writeString(dir.resolve("c.yaml"), CONTRACT);
    KilnRun missing =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            contract.toString(),
            "--input",
            dir.resolve("nothing").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("is not a Delta table").doesNotContain("MLflow tracking");
    assertThat(dir.resolve("work/mlflow")).doesNotExist();

    KilnRun version =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            contract.toString(),
            "--input",
            table + "@7");
    assertThat(version.exitCode()).isEqualTo(2);
    assertThat(version.err())
        .contains("version 7 of " + table + " does not exist; it has versions 0");

    KilnRun noFile =
        kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            dir.resolve("none.yaml").toString(),
            "--input",
            table);
    assertThat(noFile.exitCode()).isEqualTo(2);
    assertThat(noFile.err()).contains("none.yaml does not exist");
  }
}
