package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import kiln.core.Datasets;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command resolves each table it reads once ({@code TABLE[@V|@TS]} to a version) and passes the
 * pinned table down: counted by {@link Datasets#resolutions}, which every resolution goes through.
 */
@ExtendWith(SharedSpark.class)
class PinnedReadsTest {

  @Test
  void contractsCheckResolvesItsTableOnce(SparkSession spark, @TempDir Path dir) throws Exception {
    String table = ContractsCommandTest.table(spark, dir, "(1, 10), (2, 500)");
    Path contract = Files.writeString(dir.resolve("c.yaml"), ContractsCommandTest.CONTRACT);
    long before = Datasets.resolutions(table);

    KilnRun run =
        KilnRun.kiln(
            "contracts",
            "check",
            "--workdir",
            dir.resolve("work").toString(),
            "--contract",
            contract.toString(),
            "--input",
            table,
            "--output",
            dir.resolve("clean").toString(),
            "--report-dir",
            dir.resolve("reports").toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(Datasets.resolutions(table) - before).isEqualTo(1);
  }

  @Test
  void contractsSuggestResolvesItsTableOnce(SparkSession spark, @TempDir Path dir) {
    String table = ContractsCommandTest.table(spark, dir, "(1, 10), (2, 20)");
    long before = Datasets.resolutions(table);

    KilnRun run = KilnRun.kiln("contracts", "suggest", "--input", table + "@0");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(Datasets.resolutions(table) - before).isEqualTo(1);
  }

  @Test
  void driftResolvesEachSideOnce(SparkSession spark, @TempDir Path dir) {
    String reference = dir.resolve("reference").toString();
    String current = dir.resolve("current").toString();
    spark.sql("SELECT id % 50 AS delay FROM range(200)").write().format("delta").save(reference);
    spark.sql("SELECT id % 50 + 30 AS delay FROM range(200)").write().format("delta").save(current);
    long referenceBefore = Datasets.resolutions(reference);
    long currentBefore = Datasets.resolutions(current);

    KilnRun run =
        KilnRun.kiln(
            "drift",
            "--reference",
            reference + "@0",
            "--current",
            current,
            "--workdir",
            dir.resolve("work").toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(Datasets.resolutions(reference) - referenceBefore).isEqualTo(1);
    assertThat(Datasets.resolutions(current) - currentBefore).isEqualTo(1);
  }
}
