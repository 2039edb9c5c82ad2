package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.jobs.KilnRun;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiln with the real MLflow (3.x from PyPI, in the venv bin/kiln-python-env builds): jobs track to
 * a real {@code mlflow server} on SQLite, the store Kiln's embedded server writes opens in it, and
 * MLflow's own Python client reads both back (python/mlflow/readback.py), and talks to Kiln's
 * embedded server.
 */
@ExtendWith(SharedSpark.class)
class RealMlflowIT {
  private static final Path HOME = Path.of(System.getProperty("kiln.home"));
  private static Path venv;

  /**
   * The MLflow venv, built (or found ready) on first use; for other ITs that run the real server.
   */
  static synchronized Path venv() throws Exception {
    if (venv == null) {
      pythonEnvironment();
    }
    return venv;
  }

  @BeforeAll
  static void pythonEnvironment() throws Exception {
    long start = System.nanoTime();
    Process build =
        new ProcessBuilder(HOME.resolve("bin/kiln-python-env").toString(), "mlflow")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String printed =
        new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(build.waitFor()).as("bin/kiln-python-env mlflow").isZero();
    venv = Path.of(printed);
    System.err.printf(
        "[RealMlflowIT] MLflow venv %s ready in %d s%n",
        venv, (System.nanoTime() - start) / 1_000_000_000);
  }

  /** A real `mlflow server` on 127.0.0.1, stopped (with its workers) by close. */
  static final class MlflowServer implements AutoCloseable {
    final int port;
    final Process process;

    MlflowServer(String backendStoreUri, Path artifacts, Path log) throws Exception {
      this(backendStoreUri, artifacts.toString(), log, java.util.Map.of());
    }

    /**
     * A server whose artifacts go to DESTINATION (a folder, or s3://bucket/prefix with the endpoint
     * and credentials in ENVIRONMENT).
     */
    MlflowServer(
        String backendStoreUri,
        String destination,
        Path log,
        java.util.Map<String, String> environment)
        throws Exception {
      port = SparkCluster.freePort();
      ProcessBuilder builder =
          new ProcessBuilder(
                  venv().resolve("bin/mlflow").toString(),
                  "server",
                  "--backend-store-uri",
                  backendStoreUri,
                  "--artifacts-destination",
                  destination,
                  "--host",
                  "127.0.0.1",
                  "--port",
                  String.valueOf(port),
                  "--workers",
                  "1")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      builder.environment().putAll(environment);
      process = builder.start();
      try {
        SparkCluster.waitFor(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException("mlflow server exited: " + Files.readString(log));
              }
              return listening(port);
            },
            Duration.ofSeconds(120),
            "mlflow server to listen on " + port);
      } catch (Exception e) {
        close();
        throw e;
      }
    }

    String uri() {
      return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
      List<ProcessHandle> children = process.toHandle().descendants().toList();
      process.destroy();
      children.forEach(ProcessHandle::destroy);
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
      children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static boolean listening(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** MLflow's Python client's view of a tracking server (python/mlflow/readback.py). */
  static JsonNode readBack(String uri, String... extra) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                venv().resolve("bin/python").toString(),
                HOME.resolve("python/mlflow/readback.py").toString(),
                uri));
    command.addAll(List.of(extra));
    Path err = Files.createTempFile("readback", ".err");
    Process process = new ProcessBuilder(command).redirectError(err.toFile()).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("readback.py: " + Files.readString(err)).isZero();
    return new ObjectMapper().readTree(out);
  }

  static JsonNode experiment(JsonNode all, String name) {
    for (JsonNode experiment : all.path("experiments")) {
      if (experiment.path("name").asText().equals(name)) {
        return experiment;
      }
    }
    throw new AssertionError("no experiment " + name + " in " + all.toPrettyString());
  }

  static JsonNode runNamed(JsonNode experiment, String prefix) {
    for (JsonNode run : experiment.path("runs")) {
      if (run.path("run_name").asText().startsWith(prefix)) {
        return run;
      }
    }
    throw new AssertionError("no run named " + prefix + "... in " + experiment.toPrettyString());
  }

  static List<String> artifactPaths(JsonNode run) {
    List<String> paths = new ArrayList<>();
    run.path("artifacts").forEach(a -> paths.add(a.path("path").asText()));
    return paths;
  }

  static JsonNode model(JsonNode all, String name) {
    for (JsonNode model : all.path("registered_models")) {
      if (model.path("name").asText().equals(name)) {
        return model;
      }
    }
    throw new AssertionError(
        "no registered model " + name + " in " + all.path("registered_models").toPrettyString());
  }

  /**
   * Tiny flights: 400 rows over January-June; evening flights and ORD departures are late more
   * often.
   */
  private static String flights(SparkSession spark, Path dir) {
    String flights = dir.resolve("flights").toString();
    new Datasets(spark)
        .write(
            spark
                .range(400)
                .selectExpr(
                    "timestamp_ntz'2001-01-01 00:00:00' + make_interval(0, 0, 0, 0, cast(id * 10 % 4300 as int), cast(id * 7 % 60 as int), 0) as date",
                    "case when (id * 10 % 24 >= 17 and id % 3 != 0) or (id % 4 = 2 and id % 5 = 0) then 30l else cast(id % 7 as bigint) end as delay",
                    "cast(100 + id * 37 % 2000 as bigint) as distance",
                    "element_at(array('SFO', 'LAX', 'ORD', 'JFK'), cast(id % 4 + 1 as int)) as origin",
                    "element_at(array('LAX', 'ORD', 'JFK', 'SFO'), cast(id % 3 + 1 as int)) as destination"),
            flights,
            WriteOptions.of(WriteMode.OVERWRITE));
    return flights;
  }

  private static Path landing(Path dir) throws IOException {
    Path landing = dir.resolve("landing");
    Files.createDirectories(landing);
    StringBuilder csv = new StringBuilder("id,amount\n");
    for (int i = 0; i < 50; i++) {
      csv.append(i).append(',').append(i * 3).append('\n');
    }
    Files.writeString(landing.resolve("amounts.csv"), csv);
    return landing;
  }

  /**
   * ingest, features, train, gate and score, each tracked to TRACKING (a URI, or the embedded
   * server if null).
   */
  private static void lifecycle(SparkSession spark, Path dir, String tracking) throws Exception {
    List<String> common = new ArrayList<>(List.of("--workdir", dir.resolve("work").toString()));
    if (tracking != null) {
      common.addAll(List.of("--tracking-uri", tracking));
    }
    java.util.function.Function<List<String>, KilnRun> run =
        args -> {
          List<String> all = new ArrayList<>(args);
          all.addAll(common);
          KilnRun result = KilnRun.kiln(all.toArray(String[]::new));
          assertThat(result.exitCode()).as(String.join(" ", all) + "\n" + result.err()).isZero();
          // what the server refuses would be spooled, and the job would go on: nothing may be
          // spooled
          assertThat(result.err()).as(String.join(" ", all)).doesNotContain("spool");
          return result;
        };
    run.apply(
        List.of(
            "ingest",
            "--source",
            landing(dir).toString(),
            "--format",
            "csv",
            "--output",
            dir.resolve("amounts").toString()));
    String flights = flights(spark, dir);
    String features = dir.resolve("features").toString();
    Path featureConfig = FlightsConfigs.features(HOME, dir, flights, features);
    Path trainConfig = FlightsConfigs.training(dir, features);
    run.apply(List.of("features", "--config", featureConfig.toString()));
    assertThat(run.apply(List.of("train", "--config", trainConfig.toString())).out())
        .contains("Registered delays version 1");
    assertThat(
            run.apply(
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
            run.apply(
                    List.of(
                        "score",
                        "--model",
                        "models:/delays@champion",
                        "--input",
                        features + "@0",
                        "--output",
                        dir.resolve("predictions").toString()))
                .out())
        .contains("Scored 400 rows");
  }

  /** What the lifecycle leaves in MLflow, as MLflow's Python client reads it. */
  private static void assertLifecycle(JsonNode all, Path dir) {
    assertThat(all.path("mlflow_version").asText()).startsWith("3.");
    JsonNode kiln = experiment(all, "kiln");

    JsonNode ingest = runNamed(kiln, "ingest ");
    assertThat(ingest.path("status").asText()).isEqualTo("FINISHED");
    assertThat(ingest.at("/params/format").asText()).isEqualTo("csv");
    assertThat(ingest.at("/metrics/rows").asDouble()).isEqualTo(50.0);
    assertThat(ingest.at("/tags/kiln.job").asText()).isEqualTo("ingest");
    assertThat(ingest.path("dataset_inputs").get(0).path("name").asText()).isEqualTo("amounts");
    assertThat(ingest.path("dataset_inputs").get(0).path("source_type").asText())
        .isEqualTo("delta_table");
    assertThat(artifactPaths(ingest)).contains("ingest/source.json");

    JsonNode train = runNamed(kiln, "train");
    assertThat(train.path("status").asText()).isEqualTo("FINISHED");
    assertThat(train.path("params").toString()).contains("max_depth");
    assertThat(train.at("/metrics/auc_roc").asDouble()).isBetween(0.0, 1.0);
    assertThat(train.path("dataset_inputs").findValuesAsText("source"))
        .anyMatch(s -> s.contains(dir.resolve("features").toString()));
    assertThat(artifactPaths(train)).contains("model/kiln-model.json", "model_card.md");

    JsonNode score = runNamed(kiln, "score");
    assertThat(score.path("status").asText()).isEqualTo("FINISHED");
    assertThat(score.path("dataset_inputs").findValuesAsText("source"))
        .anyMatch(s -> s.contains(dir.resolve("predictions").toString()));

    JsonNode delays = model(all, "delays");
    assertThat(delays.at("/aliases/champion").asText()).isEqualTo("1");
    JsonNode version = delays.path("versions").get(0);
    assertThat(version.path("version").asText()).isEqualTo("1");
    assertThat(version.path("run_id").asText()).isEqualTo(train.path("run_id").asText());
    assertThat(version.path("status").asText()).isEqualTo("READY");
    assertThat(version.path("aliases").toString()).isEqualTo("[\"champion\"]");
    assertThat(version.path("source").asText())
        .endsWith("/" + train.path("run_id").asText() + "/artifacts/model");
    assertThat(version.at("/tags/kiln.feature_table").asText())
        .isEqualTo(dir.resolve("features").toString());
  }

  @Test
  void jobsTrackToARealMlflowServerThatItsPythonClientReadsBack(
      SparkSession spark, @TempDir Path dir) throws Exception {
    try (MlflowServer mlflow =
        new MlflowServer(
            "sqlite:///" + dir.resolve("mlflow.db"),
            dir.resolve("mlartifacts"),
            dir.resolve("mlflow-server.log"))) {
      lifecycle(spark, dir, mlflow.uri());
      JsonNode all = readBack(mlflow.uri());
      System.err.println("[RealMlflowIT] real server read back: " + all.toPrettyString());
      assertLifecycle(all, dir);
    }
  }

  @Test
  void theStoreOfTheEmbeddedServerOpensInTheRealMlflow(SparkSession spark, @TempDir Path dir)
      throws Exception {
    lifecycle(spark, dir, null);
    Path store = dir.resolve("work/mlflow");
    assertThat(store.resolve("mlflow.db")).exists();
    String database = "sqlite:///" + store.resolve("mlflow.db");
    Process upgrade =
        new ProcessBuilder(venv.resolve("bin/mlflow").toString(), "db", "upgrade", database)
            .redirectErrorStream(true)
            .start();
    String upgraded = new String(upgrade.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(upgrade.waitFor()).as(upgraded).isZero();
    try (MlflowServer mlflow =
        new MlflowServer(
            database, store.resolve("mlartifacts"), dir.resolve("mlflow-server.log"))) {
      JsonNode all = readBack(mlflow.uri());
      System.err.println("[RealMlflowIT] embedded store read back: " + all.toPrettyString());
      assertLifecycle(all, dir);
    }
  }

  @Test
  void mlflowsPythonClientWorksAgainstTheEmbeddedServer(@TempDir Path dir) throws Exception {
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start()) {
      JsonNode all = readBack(server.uri().toString(), "--write", "python");
      JsonNode run = runNamed(experiment(all, "python"), "python-client");
      assertThat(run.path("status").asText()).isEqualTo("FINISHED");
      assertThat(run.path("params").toString()).isEqualTo("{\"alpha\":\"0.5\",\"beta\":\"2\"}");
      assertThat(run.at("/metrics/loss").asDouble()).isEqualTo(0.125);
      assertThat(run.at("/metric_history_lengths/loss").asInt()).isEqualTo(2);
      assertThat(run.at("/tags/batch").asText()).isEqualTo("yes");
      // found only when the search with tags.`mlflow.prompt.is_prompt` != 'true' keeps untagged
      // models
      JsonNode model = model(all, "python-model");
      assertThat(model.at("/aliases/champion").asText()).isEqualTo("1");
      assertThat(model.path("versions").get(0).path("run_id").asText())
          .isEqualTo(run.path("run_id").asText());
      assertThat(model.path("versions").get(0).at("/tags/checked").asText()).isEqualTo("yes");
    }
  }
}
