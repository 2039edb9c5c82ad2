package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.cost.CostTable;
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
 * Every job's run lands in the cost table (measured, priced, tagged); kiln cost report and check
 * read it.
 */
@ExtendWith(SharedSpark.class)
class CostCommandTest {
  @TempDir static Path dir;
  static Path work;

  record Run(int exitCode, String out, String err) {}

  static Run kiln(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Kiln.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @BeforeAll
  static void aDriftJobRunsTagged(SparkSession spark) {
    StructType schema =
        new StructType().add("x", DataTypes.LongType).add("city", DataTypes.StringType);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      rows.add(RowFactory.create((long) i, i % 2 == 0 ? "SFO" : "JFK"));
    }
    String reference = dir.resolve("reference").toString();
    String current = dir.resolve("current").toString();
    new Datasets(spark)
        .write(
            spark.createDataFrame(rows, schema), reference, WriteOptions.of(WriteMode.OVERWRITE));
    new Datasets(spark)
        .write(spark.createDataFrame(rows, schema), current, WriteOptions.of(WriteMode.OVERWRITE));
    work = dir.resolve("work");
    Run drift =
        kiln(
            "drift",
            "--reference",
            reference,
            "--current",
            current,
            "--no-history",
            "--report",
            dir.resolve("drift.html").toString(),
            "--workdir",
            work.toString(),
            "--tag",
            "team=risk",
            "--tag",
            "model=fraud");
    assertThat(drift.exitCode()).as(drift.err()).isEqualTo(0);
    assertThat(drift.err() + drift.out()).containsPattern("Cost: \\d+\\.\\d+ USD \\(cpu");
  }

  @Test
  void theJobsRunIsMeasuredPricedAndTaggedInTheCostTable(SparkSession spark) {
    List<Row> rows =
        new CostTable(spark, work.resolve("cost").toAbsolutePath().toString()).since(Instant.EPOCH);
    assertThat(rows).hasSize(1);
    Row row = rows.get(0);
    assertThat(row.<String>getAs("job")).isEqualTo("drift");
    assertThat(row.<String>getAs("run_id")).isNotBlank();
    assertThat(row.getJavaMap(row.fieldIndex("tags")))
        .containsEntry("team", "risk")
        .containsEntry("model", "fraud");
    assertThat(row.<Long>getAs("tasks"))
        .as("drift profiles both sides in Spark jobs")
        .isGreaterThan(0);
    assertThat(row.<Long>getAs("input_bytes")).isGreaterThan(0);
    assertThat(row.<Double>getAs("core_seconds_used"))
        .isGreaterThan(0)
        .isLessThanOrEqualTo(row.<Double>getAs("core_seconds_allocated"));
    assertThat(row.<Double>getAs("cost_total")).isGreaterThan(0);
    assertThat(row.<String>getAs("catalog_version")).isEqualTo("2026-12-05");
  }

  @Test
  void reportGroupsByTagsAsTextJsonAndHtml() throws Exception {
    Path html = dir.resolve("cost.html");
    Run run =
        kiln(
            "cost",
            "report",
            "--since",
            "2000-01-01",
            "--group-by",
            "team,job",
            "--workdir",
            work.toString(),
            "--json",
            "--html",
            html.toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("groups")).hasSize(1);
    assertThat(json.get("groups").get(0).get("key").get("team").asText()).isEqualTo("risk");
    assertThat(json.get("groups").get(0).get("runs").asLong()).isEqualTo(1);
    assertThat(run.err()).containsPattern("risk\\s+drift\\s+1\\s+\\d");
    assertThat(Files.readString(html)).contains("<svg", "risk / drift");
  }

  @Test
  void checkExitsOneWhenABudgetIsExceededAndTwoForAGroupNoRunHas() throws Exception {
    Path budgets = dir.resolve("budgets.yaml");
    Files.writeString(
        budgets,
        "budgets:\n  - {team: risk, period: day, limit: 0.0000000001}\n"
            + "  - {job: drift, period: month, limit: 1000000}\n");
    Run exceeded =
        kiln("cost", "check", "--budgets", budgets.toString(), "--workdir", work.toString());
    assertThat(exceeded.exitCode()).as(exceeded.err()).isEqualTo(1);
    assertThat(exceeded.out())
        .containsPattern("CRITICAL\\s+team risk per day")
        .containsPattern("OK\\s+job drift per month");
    assertThat(exceeded.err()).contains("1 budget(s) exceeded: team risk");

    Files.writeString(budgets, "budgets:\n  - {team: nobody, period: day, limit: 1}\n");
    Run unknown =
        kiln("cost", "check", "--budgets", budgets.toString(), "--workdir", work.toString());
    assertThat(unknown.exitCode()).as(unknown.err()).isEqualTo(2);
    assertThat(unknown.err()).contains("team 'nobody'").contains("risk");
  }

  @Test
  void aSinceInTheFutureIsBadInput() {
    Run run = kiln("cost", "report", "--since", "2999-01-01", "--workdir", work.toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--since 2999-01-01 is in the future");
  }
}
