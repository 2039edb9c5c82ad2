package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.TableVersion;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiln on S3: a real S3 API server (s3proxy, filesystem-backed, its own process on 127.0.0.1), read
 * and written through hadoop-aws's s3a:// by {@code kiln} submitted with spark-submit.
 */
@ExtendWith(SharedSpark.class)
class S3IT {
  private static final String BUCKET = "kiln-lake";
  @TempDir static Path dir;
  private static Process s3proxy;
  private static int port;
  private static SparkCluster spark;

  @BeforeAll
  static void startS3() throws Exception {
    port = SparkCluster.freePort();
    Path objects = dir.resolve("objects");
    Files.createDirectories(objects.resolve(BUCKET).resolve("landing"));
    StringBuilder csv = new StringBuilder("id,amount\n");
    for (int i = 0; i < 200; i++) {
      csv.append(i).append(',').append(i * 3).append('\n');
    }
    // with the filesystem backend, a file under the bucket's folder is an object
    Files.writeString(objects.resolve(BUCKET).resolve("landing/amounts.csv"), csv);
    Path properties = dir.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
                "\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=kiln-access",
                "s3proxy.credential=kiln-secret",
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + objects)
            + "\n");
    Path logs = Path.of("target", "s3-logs").toAbsolutePath();
    Files.createDirectories(logs);
    s3proxy =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                System.getProperty("kiln.s3proxyJar"),
                "--properties",
                properties.toString())
            .redirectErrorStream(true)
            .redirectOutput(logs.resolve("s3proxy.log").toFile())
            .start();
    SparkCluster.waitFor(
        () -> listening(port), Duration.ofSeconds(60), "s3proxy to listen on " + port);
    spark =
        new SparkCluster(
            Path.of(System.getProperty("kiln.sparkHome")),
            System.getProperty("kiln.jvmFlags"),
            logs);
  }

  @AfterAll
  static void stopS3() throws InterruptedException {
    if (s3proxy != null) {
      s3proxy.destroy();
      if (!s3proxy.waitFor(20, TimeUnit.SECONDS)) {
        s3proxy.destroyForcibly();
      }
    }
  }

  private static boolean listening(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static SparkCluster.Submission kiln(String... args) throws Exception {
    List<String> submit =
        new ArrayList<>(
            List.of(
                "--master",
                "local[2]",
                "--class",
                "kiln.jobs.Kiln",
                "--conf",
                "spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:" + port,
                "--conf",
                "spark.hadoop.fs.s3a.path.style.access=true",
                "--conf",
                "spark.hadoop.fs.s3a.connection.ssl.enabled=false",
                "--conf",
                "spark.hadoop.fs.s3a.access.key=kiln-access",
                "--conf",
                "spark.hadoop.fs.s3a.secret.key=kiln-secret",
                "--conf",
                "spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
                "--conf",
                "spark.sql.shuffle.partitions=2",
                // the landing file was put on s3proxy's disk directly, so it has no ETag for s3a to
                // pin
                "--conf",
                "spark.hadoop.fs.s3a.change.detection.version.required=false",
                "--driver-java-options",
                spark.jvmFlags
                    + " -Dlog4j2.configurationFile="
                    + System.getProperty("kiln.logConfig"),
                System.getProperty("kiln.jobsJar")));
    submit.addAll(List.of(args));
    submit.addAll(List.of("--profile", "cluster", "--workdir", dir.resolve("work").toString()));
    return spark.submit(submit, Duration.ofMinutes(4));
  }

  /** The test JVM's Spark session, given the s3proxy endpoint and credentials kiln was given. */
  private static SparkSession s3(SparkSession spark) {
    org.apache.hadoop.conf.Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    hadoop.set("fs.s3a.endpoint", "http://127.0.0.1:" + port);
    hadoop.set("fs.s3a.path.style.access", "true");
    hadoop.set("fs.s3a.connection.ssl.enabled", "false");
    hadoop.set("fs.s3a.access.key", "kiln-access");
    hadoop.set("fs.s3a.secret.key", "kiln-secret");
    hadoop.set(
        "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    hadoop.set("fs.s3a.change.detection.version.required", "false");
    return spark;
  }

  @Test
  void ingestReadsAndWritesVersionedDeltaTablesOnS3(SparkSession session) throws Exception {
    String table = "s3a://" + BUCKET + "/tables/amounts";
    String source = "s3a://" + BUCKET + "/landing/";

    SparkCluster.Submission first =
        kiln("ingest", "--source", source, "--format", "csv", "--output", table);
    assertThat(first.exitCode()).as(first.output()).isZero();
    assertThat(first.output()).contains("Ingested 200 rows into " + table + ", version 0");
    assertThat(
            dir.resolve("objects")
                .resolve(BUCKET)
                .resolve("tables/amounts/_delta_log/00000000000000000000.json"))
        .exists();
    // the table itself, read through s3a here: the 200 rows with their values, not just what Kiln
    // says
    Datasets datasets = new Datasets(s3(session));
    Row totals =
        datasets
            .read(DatasetRef.atVersion(table, 0))
            .selectExpr("count(*)", "sum(id)", "sum(amount)")
            .first();
    assertThat(totals.getLong(0)).isEqualTo(200);
    assertThat(totals.getLong(1)).isEqualTo(199 * 200 / 2);
    assertThat(totals.getLong(2)).isEqualTo(3L * 199 * 200 / 2);

    SparkCluster.Submission retry =
        kiln("ingest", "--source", source, "--format", "csv", "--output", table);
    assertThat(retry.exitCode()).as(retry.output()).isZero();
    assertThat(retry.output())
        .contains("Already ingested: " + table + "@0 holds this load (200 rows)");
    // and a retry wrote nothing: still one version, still 200 rows
    assertThat(datasets.history(table)).extracting(TableVersion::version).containsExactly(0L);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(200);

    SparkCluster.Submission show = kiln("datasets", "show", table + "@0", "--limit", "3");
    assertThat(show.exitCode()).as(show.output()).isZero();
    assertThat(show.output())
        .contains(table + "@0 (struct<id:int,amount:int>)")
        .contains("only showing top 3 rows");

    SparkCluster.Submission missing = kiln("datasets", "show", table + "@9");
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.output())
        .contains("version 9 of " + table + " does not exist; it has versions 0");
  }
}
