package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
    KilnRun drift =
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
    KilnRun run =
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
    String page = Files.readString(html);
    assertThat(page)
        .contains("<figure id=\"cost-over-time\">", "<figure id=\"idle-share\">", "<td>risk</td>")
        .contains("<title>risk / drift, ")
        .doesNotContain("<script", "http:", "https:");
  }

  @Test
  void reportEstimatesTheCpuRunsCostOnTheGpuProfileFromGpuCheckCoverage() throws Exception {
    // the coverage file as kiln gpu check --json writes it, for a drift plan 3 of 4 on the GPU
    kiln.gpu.Operator gpu = new kiln.gpu.Operator("ProjectExec", true, List.of());
    kiln.gpu.Operator cpu = new kiln.gpu.Operator("ObjectHashAggregateExec", false, List.of("x"));
    Path coverage = dir.resolve("gpu-check.json");
    Files.writeString(
        coverage,
        JsonOption.write(
            GpuCommand.Check.checked(
                List.of(
                    new kiln.gpu.JobCoverage(
                        "drift",
                        List.of(
                            new kiln.gpu.PlanCoverage(
                                "drift: profiles", List.of(gpu, gpu, gpu, cpu))),
                        List.of())))));
    KilnRun run =
        kiln(
            "cost",
            "report",
            "--since",
            "2000-01-01",
            "--workdir",
            work.toString(),
            "--gpu-coverage",
            coverage.toString(),
            "--gpu-speedup",
            "3",
            "--gpu-type",
            "L4",
            "--cores-per-gpu",
            "2",
            "--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("groups")).as("the report stays as it was").isNotEmpty();
    JsonNode estimate = json.get("gpuEstimate");
    assertThat(estimate.get("label").asText()).startsWith("ESTIMATE (not measured on a GPU)");
    assertThat(estimate.get("assumptions").get("speedup").asDouble()).isEqualTo(3.0);
    JsonNode drift = estimate.get("jobs").get(0);
    assertThat(drift.get("job").asText()).isEqualTo("drift");
    assertThat(drift.get("coverage").asDouble()).isEqualTo(0.75);
    double ratio = 0.25 + 0.75 / 3;
    assertThat(drift.get("ratio").asDouble()).isCloseTo(ratio, within(1e-12));
    double cpuCost = 0;
    for (JsonNode group : json.get("groups")) {
      if (group.get("key").get("job").asText().equals("drift")) {
        cpuCost = group.get("cpu").asDouble();
      }
    }
    assertThat(cpuCost).isPositive();
    assertThat(drift.get("estimatedCpu").asDouble()).isCloseTo(cpuCost * ratio, within(1e-12));
    double gpuHours = cpuCost / kiln.cost.PriceCatalog.defaults().coreHour() * ratio / 2;
    assertThat(drift.get("estimatedGpu").asDouble())
        .isCloseTo(gpuHours * kiln.cost.PriceCatalog.defaults().gpuHour().get("L4"), within(1e-9));
    assertThat(run.err())
        .contains("ESTIMATE (not measured on a GPU)")
        .contains("runs 3.00x faster (given with --gpu-speedup); one L4 per 2 executor cores")
        .containsPattern("drift\\s+1\\s+75\\.0%");

    KilnRun missing =
        kiln(
            "cost",
            "report",
            "--since",
            "2000-01-01",
            "--workdir",
            work.toString(),
            "--gpu-coverage",
            dir.resolve("none.json").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("none.json does not exist", "kiln gpu check --json");
  }

  @Test
  void checkExitsOneWhenABudgetIsExceededAndTwoForAGroupNoRunHas() throws Exception {
    Path budgets = dir.resolve("budgets.yaml");
    Files.writeString(
        budgets,
        "budgets:\n  - {team: risk, period: day, limit: 0.0000000001}\n"
            + "  - {job: drift, period: month, limit: 1000000}\n");
    KilnRun exceeded =
        kiln("cost", "check", "--budgets", budgets.toString(), "--workdir", work.toString());
    assertThat(exceeded.exitCode()).as(exceeded.err()).isEqualTo(1);
    assertThat(exceeded.out())
        .containsPattern("CRITICAL\\s+team risk per day.*action: page")
        .containsPattern("OK\\s+job drift per month.*action: none")
        .contains("Worst tier: CRITICAL (action: page)");
    assertThat(exceeded.err()).contains("1 budget(s) exceeded: team risk");

    KilnRun json =
        kiln(
            "cost",
            "check",
            "--budgets",
            budgets.toString(),
            "--workdir",
            work.toString(),
            "--json");
    assertThat(json.exitCode()).as(json.err()).isEqualTo(1);
    JsonNode summary = new ObjectMapper().readTree(json.out());
    assertThat(summary.get("tier").asText()).isEqualTo("CRITICAL");
    assertThat(summary.get("action").asText()).isEqualTo("page");
    assertThat(summary.get("budgets")).hasSize(2);
    assertThat(summary.get("budgets").get(1).get("tier").asText()).isEqualTo("OK");
    assertThat(summary.get("budgets").get(0).get("action").asText()).isEqualTo("page");
    double spent = summary.get("budgets").get(0).get("spent").asDouble();
    assertThat(spent).isGreaterThan(0);

    // 90% of a limit: a warning, which fails the check only from --fail-on warning
    Files.writeString(
        budgets, "budgets:\n  - {team: risk, period: month, limit: " + spent / 0.9 + "}\n");
    KilnRun warning =
        kiln("cost", "check", "--budgets", budgets.toString(), "--workdir", work.toString());
    assertThat(warning.exitCode()).as(warning.err()).isEqualTo(0);
    assertThat(warning.out()).contains("Worst tier: WARNING (action: notify)");
    KilnRun failOnWarning =
        kiln(
            "cost",
            "check",
            "--budgets",
            budgets.toString(),
            "--workdir",
            work.toString(),
            "--fail-on",
            "warning");
    assertThat(failOnWarning.exitCode()).as(failOnWarning.err()).isEqualTo(1);
    assertThat(failOnWarning.err()).contains("1 budget(s) at WARNING or worse: team risk");

    Files.writeString(budgets, "budgets:\n  - {team: nobody, period: day, limit: 1}\n");
    KilnRun unknown =
        kiln("cost", "check", "--budgets", budgets.toString(), "--workdir", work.toString());
    assertThat(unknown.exitCode()).as(unknown.err()).isEqualTo(2);
    assertThat(unknown.err()).contains("team 'nobody'").contains("risk");
  }

  @Test
  void storagePricesATablesBytesOncePerDayInTheCostTable() throws Exception {
    String costTable = dir.resolve("storage-cost").toString();
    String reference = dir.resolve("reference").toString();
    KilnRun first =
        kiln(
            "cost",
            "storage",
            "--table",
            reference,
            "--input",
            costTable,
            "--tag",
            "team=risk",
            "--workdir",
            work.toString(),
            "--json");
    assertThat(first.exitCode()).as(first.err()).isEqualTo(0);
    JsonNode priced = new ObjectMapper().readTree(first.out()).get(0);
    assertThat(priced.get("table").asText()).isEqualTo(reference);
    assertThat(priced.get("bytes").asLong()).isGreaterThan(0);
    assertThat(priced.get("cost").asDouble()).isGreaterThan(0);
    assertThat(priced.get("alreadyPriced").asBoolean()).isFalse();
    KilnRun again =
        kiln(
            "cost",
            "storage",
            "--table",
            reference,
            "--input",
            costTable,
            "--workdir",
            work.toString());
    assertThat(again.exitCode()).as(again.err()).isEqualTo(0);
    assertThat(again.out()).contains("already priced today");

    KilnRun report =
        kiln(
            "cost",
            "report",
            "--since",
            "2000-01-01",
            "--group-by",
            "team,job",
            "--input",
            costTable,
            "--workdir",
            work.toString(),
            "--json");
    assertThat(report.exitCode()).as(report.err()).isEqualTo(0);
    JsonNode groups = new ObjectMapper().readTree(report.out()).get("groups");
    assertThat(groups).hasSize(1);
    assertThat(groups.get(0).get("key").get("job").asText()).isEqualTo("storage");
    assertThat(groups.get(0).get("runs").asLong()).isEqualTo(1);
    assertThat(groups.get(0).get("storage").asDouble())
        .isEqualTo(groups.get(0).get("total").asDouble())
        .isEqualTo(priced.get("cost").asDouble());

    KilnRun missing =
        kiln(
            "cost",
            "storage",
            "--table",
            dir.resolve("nothing").toString(),
            "--input",
            costTable,
            "--workdir",
            work.toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("does not exist");
    KilnRun noDays =
        kiln(
            "cost",
            "storage",
            "--table",
            reference,
            "--days",
            "0",
            "--input",
            costTable,
            "--workdir",
            work.toString());
    assertThat(noDays.exitCode()).isEqualTo(2);
    assertThat(noDays.err()).contains("--days 0.0 is not a positive number");
  }

  @Test
  void monitorTiersTheLatestRunsMetricsAndExitsOneAtFailOn() throws Exception {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(
        rules,
        """
        rules:
          - {job: drift, metric: drift.dataset.drifted, critical: 1}
          - {job: drift, metric: cost.total, info: 0.000000000001}
          - {job: ingest, metric: ingest.rows, warning: 1}
        """);
    KilnRun run =
        kiln("monitor", "--rules", rules.toString(), "--workdir", work.toString(), "--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(0);
    JsonNode summary = new ObjectMapper().readTree(run.out());
    assertThat(summary.get("tier").asText()).isEqualTo("WARNING");
    assertThat(summary.get("action").asText()).isEqualTo("notify");
    JsonNode alerts = summary.get("alerts");
    assertThat(alerts).hasSize(3);
    assertThat(alerts.get(0).get("tier").asText())
        .as("the same data on both sides has not drifted")
        .isEqualTo("OK");
    assertThat(alerts.get(0).get("value").asDouble()).isEqualTo(0.0);
    assertThat(alerts.get(0).get("runId").asText()).isNotBlank();
    assertThat(alerts.get(1).get("tier").asText()).isEqualTo("INFO");
    assertThat(alerts.get(1).get("action").asText()).isEqualTo("log");
    assertThat(alerts.get(1).get("value").asDouble()).isGreaterThan(0);
    assertThat(alerts.get(2).get("tier").asText()).isEqualTo("WARNING");
    assertThat(alerts.get(2).get("why").asText()).isEqualTo("no run of job ingest");

    KilnRun failOnWarning =
        kiln(
            "monitor",
            "--rules",
            rules.toString(),
            "--workdir",
            work.toString(),
            "--fail-on",
            "warning");
    assertThat(failOnWarning.exitCode()).as(failOnWarning.err()).isEqualTo(1);
    assertThat(failOnWarning.out()).containsPattern("WARNING\\s+ingest ingest.rows = -");
    assertThat(failOnWarning.err()).contains("1 rule(s) at WARNING or worse: ingest ingest.rows");

    Files.writeString(
        rules, "rules:\n  - {job: drift, metric: cost.total, critical: 0.000000000001}\n");
    KilnRun critical = kiln("monitor", "--rules", rules.toString(), "--workdir", work.toString());
    assertThat(critical.exitCode()).as(critical.err()).isEqualTo(1);
    assertThat(critical.out()).contains("Worst tier: CRITICAL (action: page)");

    Files.writeString(rules, "rules:\n  - {job: drift, metric: cost.total}\n");
    KilnRun bad = kiln("monitor", "--rules", rules.toString(), "--workdir", work.toString());
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.err()).contains("has no threshold");
  }

  @Test
  void aSinceInTheFutureIsBadInput() {
    KilnRun run = kiln("cost", "report", "--since", "2999-01-01", "--workdir", work.toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--since 2999-01-01 is in the future");
  }
}
