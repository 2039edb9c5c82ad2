package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.TableVersion;
import kiln.core.testing.SharedSpark;
import kiln.jobs.KilnRun;
import kiln.tracking.server.TrackingServer;
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
 * Kiln's Airflow DAGs (cluster-config/airflow/dags) in the real Airflow 3 (PyPI, the venv
 * bin/kiln-python-env airflow builds), with SQLite metadata in a temporary AIRFLOW_HOME: the folder
 * imports without errors and each DAG has its shape; {@code airflow dags test} runs the daily DAG
 * end to end, every Spark task submitted by the Spark provider's SparkSubmitOperator with the real
 * spark-submit of PyPI's pyspark 3.5.5 to a standalone cluster on 127.0.0.1, tracking to Kiln's
 * tracking server; a drifted day takes the retrain branch; a day run twice writes nothing twice;
 * and a job that exits 2 fails its task at once with Kiln's message.
 */
@ExtendWith(SharedSpark.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AirflowIT {
  private static final Path HOME = PythonEnv.HOME;
  // a day is 5 to 7 spark-submits; idle about 3 minutes, on a machine shared by many builds 30+
  private static final Duration DAG_TIMEOUT = Duration.ofMinutes(45);
  private static final int ROWS_PER_DAY = 400;
  private static final List<String> DAILY_TASKS =
      List.of(
          "ingest",
          "contract_check",
          "features",
          "drift",
          "retrain_or_score",
          "train",
          "gate",
          "score");

  @TempDir static Path dir;
  private static Path airflowEnv;
  private static SparkCluster cluster;
  private static TrackingServer tracking;
  private static Path settings;
  private static final Map<String, String> ENV = new LinkedHashMap<>();

  record Run(int exitCode, String output) {}

  @BeforeAll
  static void airflowSparkAndTracking() throws Exception {
    airflowEnv = PythonEnv.build("airflow");
    Path pyspark = PythonEnv.build("pyspark");
    cluster =
        SparkCluster.started(
            Path.of("target", "airflow-cluster-logs").toAbsolutePath(), 1, 2, "3g");
    tracking =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("mlflow"))
            .build()
            .start();

    Path jobs = Files.createDirectories(dir.resolve("jobs"));
    writeJobs(jobs);
    landing(dir.resolve("landing"));
    settings = dir.resolve("kiln-settings.yaml");
    Files.writeString(
        settings,
        "workdir: "
            + dir.resolve("work")
            + "\ntracking:\n  uri: "
            + tracking.uri()
            + "\n  experiment: airflow\n");
    Path sparkConf = dir.resolve("spark-kiln.conf");
    // the DAG's spark-submit gets the settings the other cluster tests give kiln, as a file
    List<String> conf = new ArrayList<>();
    SparkCluster.KILN_APPLICATION_CONF.forEach(setting -> conf.add(setting.replaceFirst("=", " ")));
    conf.add("spark.ui.showConsoleProgress false");
    conf.add(
        "spark.driver.extraJavaOptions -Dlog4j2.configurationFile="
            + System.getProperty("kiln.logConfig"));
    Files.writeString(sparkConf, String.join("\n", conf) + "\n");

    Path airflowHome = Files.createDirectories(dir.resolve("airflow-home"));
    ENV.put("AIRFLOW_HOME", airflowHome.toString());
    ENV.put("AIRFLOW__CORE__DAGS_FOLDER", HOME.resolve("cluster-config/airflow/dags").toString());
    ENV.put("AIRFLOW__CORE__LOAD_EXAMPLES", "False");
    ENV.put(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite:///" + airflowHome.resolve("airflow.db"));
    // spark-submit on PATH is pyspark's: Spark 3.5.5's own script and jars
    ENV.put(
        "PATH",
        pyspark.resolve("bin") + ":" + airflowEnv.resolve("bin") + ":" + System.getenv("PATH"));
    ENV.put("JAVA_HOME", System.getProperty("java.home"));
    ENV.put("SPARK_LOCAL_IP", "127.0.0.1");
    ENV.put("AIRFLOW_CONN_KILN_SPARK", "spark://127.0.0.1:" + cluster.masterPort);
    // local: the jar is on every node (the workers here share this machine's disk), so executors
    // read it in place instead of fetching the 450 MB jar from the driver for every task
    ENV.put("AIRFLOW_VAR_KILN_JAR", "local:" + System.getProperty("kiln.jobsJar"));
    ENV.put("AIRFLOW_VAR_KILN_SETTINGS", settings.toString());
    ENV.put("AIRFLOW_VAR_KILN_SPARK_CONF", sparkConf.toString());
    ENV.put("AIRFLOW_VAR_KILN_JOBS", jobs.toString());
    ENV.put("AIRFLOW_VAR_KILN_LANDING", dir.resolve("landing").toString());
    ENV.put("AIRFLOW_VAR_KILN_LAKE", dir.resolve("lake").toString());
    ENV.put("AIRFLOW_VAR_KILN_MODEL", "delays");
    ENV.put("AIRFLOW_VAR_KILN_GATE_MAX_LATENCY_MS", "60000");
    ENV.put("AIRFLOW_VAR_KILN_GATE_MAX_GROUP_GAP", "1");
    long start = System.nanoTime();
    Run migrate = airflow("db", "migrate");
    assertThat(migrate.exitCode()).as(migrate.output()).isZero();
    System.err.printf(
        "[AirflowIT] airflow db migrate: %d s%n", (System.nanoTime() - start) / 1_000_000_000);
  }

  @AfterAll
  static void stop() {
    if (tracking != null) {
      tracking.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void theDagFolderImportsWithoutErrorsAndEachDagHasItsShape() throws Exception {
    Path out = dir.resolve("dags.json");
    Run loaded =
        run(
            List.of(
                airflowEnv.resolve("bin/python").toString(),
                HOME.resolve("python/airflow/dag_structure.py").toString(),
                ENV.get("AIRFLOW__CORE__DAGS_FOLDER"),
                out.toString()),
            Duration.ofMinutes(3));
    assertThat(loaded.exitCode()).as(loaded.output()).isZero();
    JsonNode bag = new ObjectMapper().readTree(out.toFile());
    assertThat(bag.path("import_errors").size()).as(bag.path("import_errors").toString()).isZero();
    assertThat(names(bag.path("dags")))
        .containsExactly("kiln_cost", "kiln_daily", "kiln_llm_batch");

    JsonNode daily = bag.at("/dags/kiln_daily/tasks");
    assertThat(names(daily)).containsExactlyInAnyOrderElementsOf(DAILY_TASKS);
    assertThat(downstream(daily, "ingest")).containsExactly("contract_check");
    assertThat(downstream(daily, "contract_check")).containsExactly("features");
    assertThat(downstream(daily, "features")).containsExactly("drift");
    assertThat(downstream(daily, "drift")).containsExactly("retrain_or_score");
    assertThat(downstream(daily, "retrain_or_score")).containsExactly("score", "train");
    assertThat(downstream(daily, "train")).containsExactly("gate");
    assertThat(downstream(daily, "gate")).containsExactly("score");
    assertThat(texts(daily.at("/score/upstream"))).containsExactly("gate", "retrain_or_score");
    // the score runs after the branch skipped the retrain, and after a retrain
    assertThat(daily.at("/score/trigger_rule").asText()).isEqualTo("none_failed_min_one_success");
    assertThat(texts(daily.at("/retrain_or_score/bases"))).contains("BranchMixIn");
    for (String task :
        List.of("ingest", "contract_check", "features", "drift", "train", "gate", "score")) {
      sparkTask(daily.path(task), task);
    }
    assertThat(texts(daily.at("/ingest/application_args")))
        .contains("ingest", "{{ var.value.get('kiln_landing', '/data/landing') }}/{{ ds }}");
    assertThat(texts(daily.at("/drift/application_args")))
        .contains("drift", "--model", "--current-where", "to_date(date) = date'{{ ds }}'");
    assertThat(texts(daily.at("/score/application_args")))
        .contains("score", "--where", "to_date(date) = date'{{ ds }}'");

    JsonNode llm = bag.at("/dags/kiln_llm_batch/tasks");
    assertThat(names(llm)).containsExactlyInAnyOrder("pii_redact", "llm_run", "llm_evaluate");
    assertThat(downstream(llm, "pii_redact")).containsExactly("llm_run");
    assertThat(downstream(llm, "llm_run")).containsExactly("llm_evaluate");
    for (String task : List.of("pii_redact", "llm_run", "llm_evaluate")) {
      sparkTask(llm.path(task), task);
    }
    assertThat(texts(llm.at("/pii_redact/application_args")))
        .startsWith("pii", "redact", "--config");
    assertThat(texts(llm.at("/llm_run/application_args"))).startsWith("llm", "run", "--config");
    assertThat(texts(llm.at("/llm_evaluate/application_args")))
        .startsWith("llm", "evaluate", "--config");

    JsonNode cost = bag.at("/dags/kiln_cost/tasks");
    assertThat(names(cost))
        .containsExactlyInAnyOrder(
            "cost_report",
            "budget_check",
            "budget_tier",
            "within_budget",
            "budget_info",
            "budget_warning",
            "budget_exceeded");
    sparkTask(cost.path("cost_report"), "cost_report");
    sparkTask(cost.path("budget_check"), "budget_check");
    assertThat(downstream(cost, "budget_tier"))
        .containsExactly("budget_exceeded", "budget_info", "budget_warning", "within_budget");
    assertThat(texts(cost.at("/budget_tier/bases"))).contains("BranchMixIn");
  }

  @Test
  @Order(1)
  void theReadmesAirflowCommandSetsWhatThisTestSets() throws Exception {
    String readme = Files.readString(HOME.resolve("README.md"));
    int section = readme.indexOf("### Airflow");
    assertThat(section).as("README's Airflow section").isPositive();
    java.util.regex.Matcher block =
        java.util.regex.Pattern.compile("```bash\\n(.*?)```", java.util.regex.Pattern.DOTALL)
            .matcher(readme);
    assertThat(block.find(section)).isTrue();
    String command = block.group(1);
    assertThat(command)
        .contains(
            "$(bin/kiln-python-env airflow)",
            "$(bin/kiln-python-env pyspark)",
            "PATH=$spark/bin:$PATH",
            "airflow db migrate",
            "airflow dags test kiln_daily ");
    for (String name : ENV.keySet()) {
      if (name.startsWith("AIRFLOW_VAR_KILN_GATE")
          || List.of(
                  "PATH",
                  "JAVA_HOME",
                  "SPARK_LOCAL_IP",
                  "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                  "AIRFLOW_VAR_KILN_SPARK_CONF",
                  "AIRFLOW_VAR_KILN_MODEL")
              .contains(name)) {
        continue; // the test's machine and sizes; the DAGs' defaults serve a user
      }
      assertThat(command).as("README's Airflow command sets " + name).contains(name + "=");
    }
  }

  private static void sparkTask(JsonNode task, String name) {
    assertThat(texts(task.path("bases"))).as(name).contains("SparkSubmitOperator");
    assertThat(task.path("java_class").asText()).as(name).isEqualTo("kiln.jobs.Kiln");
    assertThat(task.path("conn_id").asText()).as(name).isEqualTo("kiln_spark");
    assertThat(task.path("deploy_mode").asText()).as(name).isEqualTo("client");
    assertThat(task.path("application").asText()).as(name).contains("kiln_jar");
    assertThat(task.path("properties_file").asText()).as(name).contains("kiln_spark_conf");
    List<String> args = texts(task.path("application_args"));
    assertThat(args).as(name).contains("--profile", "cluster", "--settings", "--json");
    assertThat(args.get(args.indexOf("--profile") + 1)).isEqualTo("cluster");
    assertThat(task.path("retries").asInt()).as(name).isEqualTo(2);
    // the task instance is the OpenLineage parent of the job's run events, named as OpenLineage's
    // Airflow integration names a task: NAMESPACE/DAG_ID.TASK_ID/RUN_ID
    assertThat(args).as(name).contains("--lineage-parent");
    assertThat(args.get(args.indexOf("--lineage-parent") + 1))
        .as(name)
        .contains("{{ dag.dag_id }}.{{ task.task_id }}");
    JsonNode parent = task.path("lineage_parent");
    String dagId = task.path("dag_id").asText();
    String rendered = parent.path("first").asText();
    assertThat(rendered)
        .as(name)
        .matches("default/" + java.util.regex.Pattern.quote(dagId + "." + name) + "/[0-9a-f-]{36}");
    // a UUID, as Kiln's --lineage-parent requires; the same for one try, new for the next
    java.util.UUID.fromString(rendered.substring(rendered.lastIndexOf('/') + 1));
    assertThat(parent.path("again").asText()).as(name).isEqualTo(rendered);
    assertThat(parent.path("retry").asText()).as(name).isNotEqualTo(rendered);
  }

  @Test
  @Order(2)
  void theDailyDagRunsOnTheClusterRetrainsOnADriftedDayAndWritesNothingTwice(SparkSession spark)
      throws Exception {
    bootstrapChampion();
    Datasets datasets = new Datasets(spark);
    String flights = dir.resolve("lake/flights").toString();
    String features = dir.resolve("lake/features").toString();
    String predictions = dir.resolve("lake/predictions").toString();

    // a day like the champion's: no drift, no retrain, the day scored
    Run stable = dagsTest("2001-01-08");
    Map<String, String> states = states("2001-01-08");
    assertThat(states)
        .as(stable.output())
        .containsEntry("ingest", "success")
        .containsEntry("contract_check", "success")
        .containsEntry("features", "success")
        .containsEntry("drift", "success")
        .containsEntry("retrain_or_score", "success")
        .containsEntry("train", "skipped")
        .containsEntry("gate", "skipped")
        .containsEntry("score", "success");
    assertThat(stable.exitCode()).as(stable.output()).isZero();
    assertThat(xcom("2001-01-08", "drift")).contains("\"exit_code\": 0");
    assertThat(xcom("2001-01-08", "retrain_or_score", "skipmixin_key"))
        .isEqualTo("{\"followed\": [\"score\"]}");
    assertThat(versions(datasets, flights)).containsExactly(0L, 1L);
    assertThat(datasets.read(DatasetRef.atVersion(flights, 1)).count())
        .isEqualTo(8L * ROWS_PER_DAY);
    assertThat(versions(datasets, predictions)).containsExactly(0L);
    assertThat(datasets.read(DatasetRef.latest(predictions)).count()).isEqualTo(ROWS_PER_DAY);
    assertThat(
            datasets
                .read(DatasetRef.latest(predictions))
                .filter("to_date(date) = date'2001-01-08' and model_version = '1'")
                .count())
        .isEqualTo(ROWS_PER_DAY);

    // the same day again: ingest, features and score find their writes done; nothing written
    long featuresVersion = datasets.latestVersion(features);
    Run again = dagsTest("2001-01-08");
    assertThat(again.exitCode()).as(again.output()).isZero();
    assertThat(states("2001-01-08")).as(again.output()).containsEntry("score", "success");
    assertThat(xcom("2001-01-08", "ingest")).contains("\"alreadyIngested\": true");
    assertThat(versions(datasets, flights)).containsExactly(0L, 1L);
    assertThat(datasets.latestVersion(features)).isEqualTo(featuresVersion);
    assertThat(versions(datasets, predictions)).containsExactly(0L);

    // a drifted day: drift exits 1, the branch retrains (train, gate), then the day is scored
    Run drifted = dagsTest("2001-01-09");
    states = states("2001-01-09");
    assertThat(states)
        .as(drifted.output())
        .containsEntry("drift", "success")
        .containsEntry("train", "success")
        .containsEntry("gate", "success")
        .containsEntry("score", "success");
    assertThat(drifted.exitCode()).as(drifted.output()).isZero();
    assertThat(xcom("2001-01-09", "drift")).contains("\"exit_code\": 1");
    // a branch records the branch it followed (Airflow's skipmixin_key), not a return value
    // Airflow 3.3 lists score as followed too, in no fixed order: it is downstream of the branch
    // and of train; what matters is that train is followed (the stable day's record is score alone)
    List<String> followed = new java.util.ArrayList<>();
    new ObjectMapper()
        .readTree(xcom("2001-01-09", "retrain_or_score", "skipmixin_key"))
        .path("followed")
        .forEach(task -> followed.add(task.asText()));
    assertThat(followed).contains("train").isSubsetOf("train", "score");
    assertThat(xcom("2001-01-09", "train")).contains("\"version\": \"2\"");
    assertThat(versions(datasets, flights)).containsExactly(0L, 1L, 2L);
    assertThat(versions(datasets, predictions)).containsExactly(0L, 1L);
    assertThat(datasets.read(DatasetRef.latest(predictions)).count()).isEqualTo(2L * ROWS_PER_DAY);

    JsonNode runs = mlflowRuns();
    Map<String, Integer> byJob = new TreeMap<>();
    for (JsonNode run : runs) {
      assertThat(run.at("/info/status").asText()).as(run.toString()).isEqualTo("FINISHED");
      for (JsonNode tag : run.at("/data/tags")) {
        if (tag.path("key").asText().equals("kiln.job")) {
          byJob.merge(tag.path("value").asText(), 1, Integer::sum);
        }
      }
    }
    // the bootstrap (ingest, features, train, gate), then three DAG runs (a re-run is still a run)
    assertThat(byJob)
        .containsEntry("ingest", 4)
        .containsEntry("contracts check", 3)
        .containsEntry("features", 4)
        .containsEntry("drift", 3)
        .containsEntry("train", 2)
        .containsEntry("gate", 2)
        .containsEntry("score", 3);
    JsonNode model = getJson("/api/2.0/mlflow/registered-models/get?name=delays");
    assertThat(model.toString()).contains("\"version\":\"2\"");
  }

  @Test
  @Order(3)
  void aJobThatExitsTwoFailsItsTaskWithoutRetryAndShowsKilnsMessage() throws Exception {
    // no landing folder for this day: kiln ingest exits 2 (bad input)
    Run run = dagsTest("2001-01-20");
    Map<String, String> states = states("2001-01-20");
    assertThat(states).as(run.output()).containsEntry("ingest", "failed");
    assertThat(tries("2001-01-20", "ingest")).as("retries=2, yet one try").isEqualTo(1);
    assertThat(states).containsEntry("contract_check", "upstream_failed");
    String log = taskLog("2001-01-20", "ingest") + run.output();
    assertThat(log)
        .contains("kiln exited 2 (bad input")
        .contains("kiln: error: ")
        .contains(dir.resolve("landing/2001-01-20").toString())
        .contains("fix: ");
  }

  // ---- the bootstrap: history ingested, features, the first champion (in this JVM, local Spark)

  private static void bootstrapChampion() {
    for (List<String> args :
        List.of(
            List.of(
                "ingest",
                "--source",
                dir.resolve("landing") + "/2001-01-0[1-7]",
                "--format",
                "csv",
                "--schema",
                dir.resolve("jobs/schema.yaml").toString(),
                "--output",
                dir.resolve("lake/flights").toString()),
            List.of("features", "--config", dir.resolve("jobs/features.yaml").toString()),
            List.of("train", "--config", dir.resolve("jobs/train.yaml").toString()),
            List.of(
                "models",
                "gate",
                "--model",
                "models:/delays/1",
                "--max-latency-ms",
                "60000",
                "--max-group-gap",
                "1"))) {
      List<String> all = new ArrayList<>(args);
      all.addAll(List.of("--settings", settings.toString()));
      KilnRun result = KilnRun.kiln(all.toArray(String[]::new));
      assertThat(result.exitCode()).as(String.join(" ", all) + "\n" + result.output()).isZero();
    }
  }

  // ---- Airflow

  private static Run airflow(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(airflowEnv.resolve("bin/airflow").toString()));
    command.addAll(List.of(args));
    return run(command, DAG_TIMEOUT);
  }

  private static Run dagsTest(String day) throws Exception {
    long start = System.nanoTime();
    Run run = airflow("dags", "test", "kiln_daily", day);
    System.err.printf(
        "[AirflowIT] airflow dags test kiln_daily %s: exit %d in %d s%n",
        day, run.exitCode(), (System.nanoTime() - start) / 1_000_000_000);
    return run;
  }

  private static Run run(List<String> command, Duration timeout) throws Exception {
    Path log = Files.createTempFile(dir, "airflow-", ".log");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().remove("SPARK_HOME");
    builder.environment().putAll(ENV);
    Process process = builder.start();
    try {
      if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError(
            "did not finish in " + timeout + ": " + command + "\n" + Files.readString(log));
      }
      return new Run(process.exitValue(), Files.readString(log));
    } finally {
      List<ProcessHandle> children = process.toHandle().descendants().toList();
      process.destroy();
      children.forEach(ProcessHandle::destroyForcibly);
      // airflow finishes its own shutdown on SIGTERM, which a timed-out run may never reach
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  /** The run of the day, as Airflow's metadata database holds it. */
  private static String runId(Connection db, String day) throws Exception {
    try (PreparedStatement query =
        db.prepareStatement(
            "select run_id from dag_run where dag_id = 'kiln_daily' and logical_date like ?"
                + " order by id desc limit 1")) {
      query.setString(1, day + "%");
      try (ResultSet rows = query.executeQuery()) {
        assertThat(rows.next()).as("a kiln_daily run for " + day).isTrue();
        return rows.getString(1);
      }
    }
  }

  private static Connection metadata() throws Exception {
    return DriverManager.getConnection(
        ENV.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN").replace("sqlite:///", "jdbc:sqlite:"));
  }

  private static Map<String, String> states(String day) throws Exception {
    Map<String, String> states = new TreeMap<>();
    try (Connection db = metadata();
        PreparedStatement query =
            db.prepareStatement(
                "select task_id, state from task_instance where dag_id = 'kiln_daily' and run_id = ?")) {
      query.setString(1, runId(db, day));
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          states.put(rows.getString(1), String.valueOf(rows.getString(2)));
        }
      }
    }
    return states;
  }

  private static int tries(String day, String task) throws Exception {
    try (Connection db = metadata();
        PreparedStatement query =
            db.prepareStatement(
                "select try_number from task_instance where dag_id = 'kiln_daily' and run_id = ?"
                    + " and task_id = ?")) {
      query.setString(1, runId(db, day));
      query.setString(2, task);
      try (ResultSet rows = query.executeQuery()) {
        assertThat(rows.next()).isTrue();
        return rows.getInt(1);
      }
    }
  }

  /** A task's return value (XCom) as stored, JSON. */
  private static String xcom(String day, String task) throws Exception {
    return xcom(day, task, "return_value");
  }

  /** A task's XCom under KEY as stored, JSON. */
  private static String xcom(String day, String task, String key) throws Exception {
    try (Connection db = metadata();
        PreparedStatement query =
            db.prepareStatement(
                "select value from xcom where dag_id = 'kiln_daily' and run_id = ? and task_id = ?"
                    + " and key = ?")) {
      query.setString(1, runId(db, day));
      query.setString(2, task);
      query.setString(3, key);
      try (ResultSet rows = query.executeQuery()) {
        assertThat(rows.next()).as("an XCom of " + task).isTrue();
        return new String(rows.getBytes(1), StandardCharsets.UTF_8);
      }
    }
  }

  private static String taskLog(String day, String task) throws IOException {
    StringBuilder logs = new StringBuilder();
    try (Stream<Path> files = Files.walk(Path.of(ENV.get("AIRFLOW_HOME"), "logs"))) {
      for (Path file :
          files
              .filter(Files::isRegularFile)
              .filter(f -> f.toString().contains("dag_id=kiln_daily"))
              .filter(f -> f.toString().contains(day))
              .filter(f -> f.toString().contains("task_id=" + task + "/"))
              .toList()) {
        logs.append(Files.readString(file));
      }
    }
    return logs.toString();
  }

  // ---- Delta and MLflow

  private static List<Long> versions(Datasets datasets, String table) {
    return datasets.history(table).stream().map(TableVersion::version).toList();
  }

  private static JsonNode getJson(String path) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tracking.uri() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new ObjectMapper().readTree(response.body());
  }

  private static JsonNode mlflowRuns() throws Exception {
    String id =
        getJson("/api/2.0/mlflow/experiments/get-by-name?experiment_name=airflow")
            .at("/experiment/experiment_id")
            .asText();
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(tracking.uri() + "/api/2.0/mlflow/runs/search"))
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"experiment_ids\":[\"" + id + "\"],\"max_results\":1000}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new ObjectMapper().readTree(response.body()).path("runs");
  }

  // ---- JSON helpers

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    names.sort(null);
    return names;
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(n -> texts.add(n.asText()));
    return texts;
  }

  private static List<String> downstream(JsonNode tasks, String task) {
    return texts(tasks.path(task).path("downstream"));
  }

  // ---- the data and the jobs' files

  /**
   * Flights of 2001-01-01 to 01-09, one landing folder per day, ROWS_PER_DAY each: evening flights
   * and ORD departures are late more often; the 9th drifts (long evening flights from ORD only).
   */
  private static void landing(Path landing) throws IOException {
    String[] airports = {"SFO", "LAX", "ORD", "JFK"};
    for (int day = 1; day <= 9; day++) {
      boolean drifted = day == 9;
      Random random = new Random(day);
      StringBuilder csv = new StringBuilder("date,delay,distance,origin,destination\n");
      String date = String.format("2001-01-%02d", day);
      for (int i = 0; i < ROWS_PER_DAY; i++) {
        int hour = drifted ? 20 + random.nextInt(4) : 6 + random.nextInt(17);
        String origin = drifted ? "ORD" : airports[random.nextInt(4)];
        String destination = airports[random.nextInt(4)];
        int distance = (100 + random.nextInt(2000)) * (drifted ? 5 : 1);
        boolean late =
            (hour >= 17 && random.nextDouble() < 0.6)
                || (origin.equals("ORD") && random.nextDouble() < 0.3);
        int delay = late ? 16 + random.nextInt(75) : -10 + random.nextInt(25);
        csv.append(
            String.format(
                "%s %02d:%02d,%d,%d,%s,%s%n",
                date, hour, random.nextInt(60), delay, distance, origin, destination));
      }
      Path folder = Files.createDirectories(landing.resolve(date));
      Files.writeString(folder.resolve("flights.csv"), csv);
    }
  }

  private static void writeJobs(Path jobs) throws IOException {
    String lake = dir.resolve("lake").toString();
    Files.writeString(
        jobs.resolve("schema.yaml"),
        """
        columns:
          - {name: date, type: timestamp_ntz, format: "yyyy-MM-dd HH:mm", nullable: false}
          - {name: delay, type: long}
          - {name: distance, type: long}
          - {name: origin, type: string}
          - {name: destination, type: string}
        """);
    Files.writeString(
        jobs.resolve("contract.yaml"),
        """
        apiVersion: v3.1.0
        kind: DataContract
        id: airflow-flights
        name: Flights landed by the daily DAG
        version: 1.0.0
        status: active
        schema:
          - name: flights
            physicalType: table
            properties:
              - {name: date, logicalType: timestamp, physicalType: timestamp_ntz, required: true}
              - name: delay
                logicalType: integer
                physicalType: bigint
                required: true
                logicalTypeOptions: {minimum: -1440, maximum: 2000}
              - name: distance
                logicalType: integer
                physicalType: bigint
                required: true
                logicalTypeOptions: {exclusiveMinimum: 0, maximum: 20000}
              - {name: origin, logicalType: string, physicalType: string, required: true}
              - {name: destination, logicalType: string, physicalType: string, required: true}
        """);
    // the flights example's features, over this lake; codes and statistics from the first week
    Files.writeString(
        jobs.resolve("features.yaml"),
        Files.readString(HOME.resolve("training/examples/flights-features.yaml"))
            .replaceFirst("(?m)^input: .*$", "input: " + lake + "/flights")
            .replaceFirst("(?m)^output: .*$", "output: " + lake + "/features")
            .replaceFirst(
                "(?m)^trainingPeriod: .*$",
                "trainingPeriod: \"date < cast('2001-01-08' as timestamp_ntz)\""));
    Files.writeString(
        jobs.resolve("train.yaml"),
        "features: "
            + lake
            + "/features\nmodel: delays\nnumRound: 10\nearlyStoppingRounds: 5\n"
            + "numWorkers: 1\nnthread: 1\ngroupColumns: [origin]\nminGroupRows: 10\ndevice: auto\n"
            + "label: label\nkey: flight_id\n"
            + "featureColumns: [hour, distance, origin_index, destination_index, origin_flights,"
            + " origin_delay_rate, destination_flights, destination_delay_rate, route_flights,"
            + " route_delay_rate, route_mean_delay]\nhyperparameters:\n  max_depth: 3\n");
    // one day against a week: the day of the week and the date always differ, so they are left out
    Files.writeString(
        jobs.resolve("drift.yaml"),
        """
        exclude: [date, day_of_week, month, flight_id]
        thresholds:
          psi: 0.2
          testsDecide: false
          jensenShannon: 0.1
          driftShare: 0.5
        """);
  }
}
