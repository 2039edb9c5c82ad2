package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.jobs.KilnRun;
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
    // no cluster: kiln is submitted in local mode, the s3a driver being what is tested
    spark = SparkCluster.notStarted(logs);
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
                spark.driverJavaOptions(),
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

  /** Runs kiln in this JVM (its Spark session carries the s3a settings); must exit 0. */
  private static KilnRun kilnHere(String... args) {
    KilnRun run = KilnRun.kiln(args);
    assertThat(run.exitCode()).as(String.join(" ", args) + "\n" + run.err()).isZero();
    // what the server refuses would be spooled and the job would go on: nothing may be spooled
    assertThat(run.err()).as(String.join(" ", args)).doesNotContain("spool");
    return run;
  }

  /**
   * The lifecycle on s3a:// tables with a real MLflow server whose artifacts live on the same S3:
   * ingest, contract check (clean table and metric history on S3), features, train, gate, score,
   * and drift between two versions of an S3 table; the model Kiln uploads through the server's
   * artifact API lands in the bucket, and scoring reads it back from there.
   */
  @Test
  void theLifecycleRunsOnS3TablesWithMlflowArtifactsOnS3AndShowsInMlflowsUi(SparkSession session)
      throws Exception {
    Datasets datasets = new Datasets(s3(session));
    String lake = "s3a://" + BUCKET + "/e2e/";
    Path work = dir.resolve("e2e");
    Files.createDirectories(work);
    try (RealMlflowIT.MlflowServer mlflow =
        new RealMlflowIT.MlflowServer(
            "sqlite:///" + work.resolve("mlflow.db"),
            "s3://" + BUCKET + "/mlartifacts",
            work.resolve("mlflow-server.log"),
            java.util.Map.of(
                "MLFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:" + port,
                "AWS_ACCESS_KEY_ID", "kiln-access",
                "AWS_SECRET_ACCESS_KEY", "kiln-secret",
                "AWS_DEFAULT_REGION", "us-east-1"))) {
      List<String> common =
          List.of("--tracking-uri", mlflow.uri(), "--workdir", work.resolve("work").toString());
      java.util.function.Function<List<String>, KilnRun> job =
          args -> {
            List<String> all = new ArrayList<>(args);
            all.addAll(common);
            return kilnHere(all.toArray(String[]::new));
          };

      job.apply(
          List.of(
              "ingest",
              "--source",
              "s3a://" + BUCKET + "/landing/",
              "--format",
              "csv",
              "--output",
              lake + "amounts"));
      assertThat(datasets.read(DatasetRef.atVersion(lake + "amounts", 0)).count()).isEqualTo(200);

      // 400 flights: evening departures and ORD are late more often (as in RealMlflowIT)
      String flights = lake + "flights";
      datasets.write(
          session
              .range(400)
              .selectExpr(
                  "timestamp_ntz'2001-01-01 00:00:00' + make_interval(0, 0, 0, 0, cast(id * 10 % 4300 as int), cast(id * 7 % 60 as int), 0) as date",
                  "case when (id * 10 % 24 >= 17 and id % 3 != 0) or (id % 4 = 2 and id % 5 = 0) then 30l else cast(id % 7 as bigint) end as delay",
                  "cast(100 + id * 37 % 2000 as bigint) as distance",
                  "element_at(array('SFO', 'LAX', 'ORD', 'JFK'), cast(id % 4 + 1 as int)) as origin",
                  "element_at(array('LAX', 'ORD', 'JFK', 'SFO'), cast(id % 3 + 1 as int)) as destination"),
          flights,
          WriteOptions.of(WriteMode.OVERWRITE));

      Path contract = work.resolve("flights.odcs.yaml");
      Files.writeString(
          contract,
          String.join(
              "\n",
              "apiVersion: v3.1.0",
              "kind: DataContract",
              "id: flights-s3",
              "version: 1.0.0",
              "status: active",
              "schema:",
              "  - name: flights",
              "    properties:",
              "      - {name: date, logicalType: timestamp, required: true}",
              "      - {name: delay, logicalType: integer, required: true,"
                  + " logicalTypeOptions: {minimum: 0, maximum: 60}}",
              "      - {name: origin, logicalType: string, logicalTypeOptions: {pattern: '^[A-Z]{3}$'}}",
              "    quality:",
              "      - {metric: rowCount, mustBe: 400}",
              ""));
      KilnRun check =
          job.apply(
              List.of(
                  "contracts",
                  "check",
                  "--contract",
                  contract.toString(),
                  "--input",
                  flights + "@0",
                  "--output",
                  lake + "flights-clean",
                  "--metrics-table",
                  lake + "contract-metrics"));
      assertThat(check.out() + check.err()).contains("PASSED");
      assertThat(datasets.read(DatasetRef.latest(lake + "flights-clean")).count()).isEqualTo(400);
      assertThat(datasets.read(DatasetRef.latest(lake + "contract-metrics")).count()).isPositive();

      String features = lake + "features";
      Path home = Path.of(System.getProperty("kiln.home"));
      Path featureConfig = FlightsConfigs.features(home, work, flights, features);
      Path trainConfig = FlightsConfigs.training(work, features);
      job.apply(List.of("features", "--config", featureConfig.toString()));
      assertThat(job.apply(List.of("train", "--config", trainConfig.toString())).out())
          .contains("Registered delays version 1");
      assertThat(
              job.apply(
                      List.of(
                          "models",
                          "gate",
                          "--model",
                          "models:/delays/1",
                          "--max-latency-ms",
                          "60000",
                          "--max-group-gap",
                          "1"))
                  .out())
          .contains("Version 1 of delays is now champion");
      assertThat(
              job.apply(
                      List.of(
                          "score",
                          "--model",
                          "models:/delays@champion",
                          "--input",
                          features + "@0",
                          "--output",
                          lake + "predictions"))
                  .out())
          .contains("Scored 400 rows");
      assertThat(datasets.read(DatasetRef.latest(lake + "predictions")).count()).isEqualTo(400);

      // a second version of the flights table: delays two hours later, flights three times as long,
      // from and to other airports; four of five columns drift, over the dataset's threshold: exit
      // 1
      datasets.write(
          datasets
              .read(DatasetRef.atVersion(flights, 0))
              .selectExpr(
                  "date",
                  "delay + 120 as delay",
                  "distance * 3 as distance",
                  "'DEN' as origin",
                  "'BOS' as destination"),
          flights,
          WriteOptions.of(WriteMode.OVERWRITE));
      List<String> drift =
          new ArrayList<>(
              List.of(
                  "drift",
                  "--reference",
                  flights + "@0",
                  "--current",
                  flights + "@1",
                  "--report",
                  work.resolve("drift.html").toString()));
      drift.addAll(common);
      KilnRun drifted = KilnRun.kiln(drift.toArray(String[]::new));
      assertThat(drifted.exitCode()).as(drifted.err()).isEqualTo(1);
      assertThat(drifted.out() + drifted.err()).as(drifted.out()).contains("delay");
      assertThat(work.resolve("drift.html")).exists();

      // the model's files are objects in the bucket, under the train run's artifacts
      JsonNode all = RealMlflowIT.readBack(mlflow.uri());
      JsonNode train = RealMlflowIT.runNamed(RealMlflowIT.experiment(all, "kiln"), "train");
      String runId = train.path("run_id").asText();
      assertThat(RealMlflowIT.artifactPaths(train)).contains("model/kiln-model.json");
      try (java.util.stream.Stream<Path> objects =
          Files.walk(dir.resolve("objects").resolve(BUCKET).resolve("mlartifacts"))) {
        assertThat(objects.map(Path::toString))
            .anyMatch(p -> p.endsWith(runId + "/artifacts/model/kiln-model.json"));
      }
      JsonNode model = RealMlflowIT.model(all, "delays");
      assertThat(model.at("/aliases/champion").asText()).isEqualTo("1");
      // every run of the lifecycle is in MLflow, finished
      JsonNode experiment = RealMlflowIT.experiment(all, "kiln");
      assertThat(experiment.path("runs").findValuesAsText("status"))
          .hasSizeGreaterThanOrEqualTo(7)
          .containsOnly("FINISHED");

      // and the MLflow UI shows them: the experiment's runs page lists every run name, the model's
      // page its version and alias (screenshots kept in target/mlflow-ui for people to look at)
      Path shots = Path.of("target", "mlflow-ui").toAbsolutePath();
      Files.createDirectories(shots);
      MlflowUi.Page runs =
          MlflowUi.open(
              mlflow.uri()
                  + "/#/experiments/"
                  + experiment.path("experiment_id").asText()
                  + "/runs",
              shots.resolve("experiment-runs.png"));
      assertThat(runs.text())
          .contains("Training runs")
          .contains(experiment.path("runs").findValuesAsText("run_name"));
      MlflowUi.Page models =
          MlflowUi.open(mlflow.uri() + "/#/models/delays", shots.resolve("model-delays.png"));
      assertThat(models.text()).contains("delays").contains("Version 1").contains("@ champion");
      for (MlflowUi.Page page : List.of(runs, models)) {
        byte[] png = Files.readAllBytes(page.screenshot());
        assertThat(png.length).as(page.screenshot().toString()).isGreaterThan(20_000);
        assertThat(java.util.Arrays.copyOf(png, 4))
            .isEqualTo(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
      }
    }
  }
}
