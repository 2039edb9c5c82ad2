package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.TableVersion;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln ingest} submitted with the real spark-submit of a Spark 3.5.5 distribution (PyPI's
 * pyspark, in the venv bin/kiln-python-env builds) to a real standalone cluster on 127.0.0.1, in
 * client and in cluster deploy mode, and README's cluster command run as written; the Delta table's
 * versions and row counts are checked afterwards.
 */
@ExtendWith(SharedSpark.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  private static final Duration SUBMIT_TIMEOUT = Duration.ofMinutes(4);
  @TempDir static Path dir;
  private static SparkCluster cluster;
  private static Path source;
  private static String table;
  private static Path sparkSubmit;

  @BeforeAll
  static void startCluster() throws Exception {
    sparkSubmit = PythonEnv.sparkSubmit(PythonEnv.build("pyspark"));
    cluster = SparkCluster.started(Path.of("target", "cluster-logs").toAbsolutePath(), 1, 2, "3g");
    source = dir.resolve("landing");
    Files.createDirectories(source);
    StringBuilder csv = new StringBuilder("id,amount,day\n");
    for (int i = 0; i < 1000; i++) {
      csv.append(i)
          .append(',')
          .append(i % 17)
          .append(",2001-01-")
          .append(String.format("%02d", 1 + i % 28))
          .append('\n');
    }
    csv.append("1000,not-a-number,2001-01-01\n");
    Files.writeString(source.resolve("part-1.csv"), csv);
    Files.writeString(
        dir.resolve("schema.yaml"),
        "columns:\n  - {name: id, type: long, nullable: false}\n  - {name: amount, type: int}\n  - {name: day, type: date}\n");
    table = dir.resolve("tables/amounts").toString();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static List<String> submitArgs(String deployMode, String... kilnArgs) {
    return cluster.kilnSubmitArgs(deployMode, List.of(), List.of(kilnArgs));
  }

  @Test
  @Order(1)
  void clientModeIngestWritesVersionZero(SparkSession spark) throws Exception {
    SparkCluster.Submission run =
        cluster.submit(
            sparkSubmit,
            submitArgs(
                "client",
                "ingest",
                "--profile",
                "cluster",
                "--source",
                source.toString(),
                "--format",
                "csv",
                "--schema",
                dir.resolve("schema.yaml").toString(),
                "--output",
                table),
            SUBMIT_TIMEOUT);

    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output())
        .contains("Ingested 1,000 rows into " + table + ", version 0")
        .contains("Quarantined 1 rows into " + table + "_quarantine, version 0");
    Datasets datasets = new Datasets(spark);
    assertThat(datasets.read(DatasetRef.atVersion(table, 0)).count()).isEqualTo(1000);
    assertThat(datasets.read(DatasetRef.latest(table + "_quarantine")).count()).isEqualTo(1);
  }

  @Test
  @Order(2)
  void clusterModeIngestRunsTheDriverOnTheWorker(SparkSession spark) throws Exception {
    SparkCluster.Submission run =
        cluster.submit(
            sparkSubmit,
            submitArgs(
                "cluster",
                "ingest",
                "--profile",
                "cluster",
                "--source",
                source.toString(),
                "--format",
                "csv",
                "--schema",
                dir.resolve("schema.yaml").toString(),
                "--output",
                table,
                "--where",
                "amount < 5",
                "--idempotency-key",
                "cluster-mode-run"),
            SUBMIT_TIMEOUT);

    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(cluster.driverState(submissionId(run.output()), SUBMIT_TIMEOUT))
        .isEqualTo("FINISHED");
    Datasets datasets = new Datasets(spark);
    List<TableVersion> history = datasets.history(table);
    assertThat(history).extracting(TableVersion::version).containsExactly(0L, 1L);
    long expected = datasets.read(DatasetRef.atVersion(table, 0)).filter("amount < 5").count();
    assertThat(history.get(1).outputRows()).hasValue(expected);
    assertThat(datasets.read(DatasetRef.atVersion(table, 1)).count()).isEqualTo(1000 + expected);
  }

  @Test
  @Order(3)
  void aFailedClusterDriverIsSeenThoughSparkSubmitExitsZero(SparkSession spark) throws Exception {
    SparkCluster.Submission run =
        cluster.submit(
            sparkSubmit,
            submitArgs(
                "cluster",
                "ingest",
                "--profile",
                "cluster",
                "--source",
                dir.resolve("no-such-dir").toString(),
                "--format",
                "csv",
                "--output",
                table),
            SUBMIT_TIMEOUT);

    assertThat(run.exitCode())
        .as("spark-submit in cluster mode does not report the driver")
        .isZero();
    assertThat(cluster.driverState(submissionId(run.output()), SUBMIT_TIMEOUT)).isEqualTo("FAILED");
    assertThat(new Datasets(spark).latestVersion(table)).isEqualTo(1); // nothing written
  }

  private static String submissionId(String output) {
    Matcher matcher = Pattern.compile("(driver-\\d+-\\d+)").matcher(output);
    assertThat(matcher.find()).as("a driver id in: " + output).isTrue();
    return matcher.group(1);
  }

  @Test
  @Order(4)
  void theReadmesClusterCommandRunsAsWritten(SparkSession spark) throws Exception {
    Path home = PythonEnv.HOME;
    String readme = Files.readString(home.resolve("README.md"));
    int section = readme.indexOf("### On a cluster");
    assertThat(section).as("README's cluster section").isPositive();
    Matcher block = Pattern.compile("```bash\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(block.find(section)).as("a bash block in README's cluster section").isTrue();
    // the block as written, but for the master, and the source and table under this test's dir
    String command = block.group(1).replaceAll("(?m)^mvn .*$", "");
    assertThat(command)
        .contains(
            "$(bin/kiln-python-env pyspark)",
            "PATH=$spark/bin:$PATH",
            "spark-submit --master spark://127.0.0.1:7077",
            README_SOURCE)
        .contains(README_TABLE);
    String readmeTable = dir.resolve("readme/flights").toString();
    String script =
        command
            .replace("spark://127.0.0.1:7077", cluster.masterUrl())
            .replace(README_SOURCE, source + "/")
            .replace(README_TABLE, readmeTable);
    Path log = dir.resolve("readme-submit.log");
    ProcessBuilder builder =
        new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
            .directory(home.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().remove("SPARK_HOME");
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process process = builder.start();
    assertThat(process.waitFor(SUBMIT_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
        .isTrue();
    String output = Files.readString(log);
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(cluster.driverState(submissionId(output), SUBMIT_TIMEOUT)).isEqualTo("FINISHED");
    Datasets datasets = new Datasets(spark);
    assertThat(datasets.latestVersion(readmeTable)).isZero();
    assertThat(datasets.read(DatasetRef.latest(readmeTable)).count()).isEqualTo(1001);
  }

  /** README's example paths, replaced by this test's. */
  private static final String README_SOURCE = "/data/landing/flights/";

  private static final String README_TABLE = "/data/lake/flights";
}
