package kiln.tests;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Spark standalone cluster on 127.0.0.1 (one master, one worker or more) started from the
 * Maven jars in {@code SPARK_HOME/jars}, and jobs submitted to it with a real Spark distribution's
 * {@code spark-submit} script (PyPI's pyspark). Every process it starts, and their children
 * (executors, drivers), is stopped by {@link #close}.
 */
final class SparkCluster implements AutoCloseable {
  final Path sparkHome;
  final String jvmFlags;
  final Path logs;
  final int masterPort;
  final int masterUiPort;
  private final List<Process> daemons = new ArrayList<>();

  record Submission(int exitCode, String output) {}

  SparkCluster(Path sparkHome, String jvmFlags, Path logs) throws IOException {
    this.sparkHome = sparkHome;
    this.jvmFlags = jvmFlags;
    this.logs = logs;
    this.masterPort = freePort();
    this.masterUiPort = freePort();
    Files.createDirectories(logs);
    // spark-launcher looks for SPARK_HOME/jars only in a "release" layout
    Files.writeString(
        sparkHome.resolve("RELEASE"), "Spark 3.5.5 (jars from Maven, for Kiln's tests)\n");
  }

  /**
   * A cluster of the tests' Spark (the jars of {@code kiln.sparkHome}, the JVM flags of {@code
   * kiln.jvmFlags}), its daemons' logs and work directories under {@code logs}, started: a master
   * and {@code workers} workers of {@code cores} cores and {@code memory} each.
   */
  static SparkCluster started(Path logs, int workers, int cores, String memory) throws Exception {
    SparkCluster cluster = notStarted(logs);
    try {
      cluster.start(workers, cores, memory);
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /**
   * The tests' Spark (the jars of {@code kiln.sparkHome}, the JVM flags of {@code kiln.jvmFlags})
   * with no daemon started: for spark-submit in local mode ({@link #submit(List, Duration)}), or to
   * {@link #start} later.
   */
  static SparkCluster notStarted(Path logs) throws IOException {
    return new SparkCluster(
        Path.of(System.getProperty("kiln.sparkHome")), System.getProperty("kiln.jvmFlags"), logs);
  }

  /**
   * What every kiln application on a test cluster is given (KEY=VALUE): a driver and executors of
   * 768 MB, one core for the application, two shuffle partitions. Small enough for a loaded 2-core
   * machine.
   */
  static final List<String> KILN_APPLICATION_CONF =
      List.of(
          "spark.executor.memory=768m",
          "spark.driver.memory=768m",
          "spark.cores.max=1",
          "spark.sql.shuffle.partitions=2");

  /** The driver's JVM options: the tests' JVM flags and log configuration. */
  String driverJavaOptions() {
    return jvmFlags + " -Dlog4j2.configurationFile=" + System.getProperty("kiln.logConfig");
  }

  /**
   * spark-submit's arguments for a kiln command on this cluster: the master, the deploy mode,
   * Kiln's main class, a driver and executors of 768 MB, one core for the application, two shuffle
   * partitions, the tests' log configuration, then {@code conf} (each a Spark setting KEY=VALUE),
   * the jobs jar and {@code kilnArgs}.
   */
  List<String> kilnSubmitArgs(String deployMode, List<String> conf, List<String> kilnArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--master",
                masterUrl(),
                "--deploy-mode",
                deployMode,
                "--class",
                "kiln.jobs.Kiln",
                "--driver-java-options",
                driverJavaOptions()));
    for (String setting : KILN_APPLICATION_CONF) {
      args.add("--conf");
      args.add(setting);
    }
    for (String setting : conf) {
      args.add("--conf");
      args.add(setting);
    }
    args.add(System.getProperty("kiln.jobsJar"));
    args.addAll(kilnArgs);
    return args;
  }

  String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /** The worker daemons, in the order they started (a fault test kills them). */
  final List<Process> workers = new ArrayList<>();

  /** Starts the master and {@code count} workers of {@code cores} cores and {@code memory} each. */
  void start(int count, int cores, String memory) throws Exception {
    daemons.add(
        daemon(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            String.valueOf(masterPort),
            "--webui-port",
            String.valueOf(masterUiPort)));
    waitFor(
        () -> masterJson().contains("\"status\" : \"ALIVE\""),
        Duration.ofSeconds(60),
        "the master to be ALIVE");
    for (int i = 0; i < count; i++) {
      startWorker(cores, memory);
    }
    waitFor(
        () -> masterJson().contains("\"aliveworkers\" : " + count),
        Duration.ofSeconds(60),
        "the worker(s) to register");
  }

  /** Starts one more worker (registering with the master is left to the caller to wait for). */
  Process startWorker(int cores, String memory) throws IOException {
    Process worker =
        daemon(
            "worker-" + (workers.size() + 1),
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--port",
            String.valueOf(freePort()),
            "--webui-port",
            String.valueOf(freePort()),
            "--cores",
            String.valueOf(cores),
            "--memory",
            memory,
            "--work-dir",
            logs.resolve("work").toString(),
            masterUrl());
    daemons.add(worker);
    workers.add(worker);
    return worker;
  }

  /**
   * Runs the real {@code bin/spark-submit} script of a Spark distribution (PyPI's pyspark: {@link
   * PythonEnv#sparkSubmit}) with these arguments, and waits for it. SPARK_HOME is left unset and
   * the venv's bin first on PATH, so that the script finds its own distribution, as in a user's
   * shell with the venv on PATH.
   */
  Submission submit(Path sparkSubmit, List<String> args, Duration timeout) throws Exception {
    List<String> command = new ArrayList<>(List.of(sparkSubmit.toString()));
    command.addAll(args);
    ProcessBuilder builder = environment(new ProcessBuilder(command));
    builder.environment().remove("SPARK_HOME");
    // as in the venv's shell: its find-spark-home asks the python3 on PATH where pyspark is
    builder
        .environment()
        .put("PATH", sparkSubmit.getParent() + java.io.File.pathSeparator + System.getenv("PATH"));
    Path output = Files.createTempFile(logs, "submit-", ".log");
    Process submit = builder.redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      if (!submit.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            "spark-submit did not finish in " + timeout + "; output: " + Files.readString(output));
      }
      return new Submission(submit.exitValue(), Files.readString(output));
    } finally {
      destroyTree(submit);
    }
  }

  /**
   * Runs spark-submit with these arguments from the Maven jars of SPARK_HOME (the command built the
   * way Spark's own {@code spark-class} builds it), and waits for it. For S3IT, whose local-mode
   * driver needs hadoop-aws, which that folder holds and a pyspark distribution does not.
   */
  Submission submit(List<String> args, Duration timeout) throws Exception {
    Path output = Files.createTempFile(logs, "submit-", ".log");
    Process submit = launch(args, output);
    try {
      if (!submit.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            "spark-submit did not finish in " + timeout + "; output: " + Files.readString(output));
      }
      return new Submission(submit.exitValue(), Files.readString(output));
    } finally {
      destroyTree(submit);
    }
  }

  /**
   * Starts spark-submit with these arguments from the Maven jars of SPARK_HOME (see {@link
   * #submit(List, Duration)}), its output and error into {@code output}, and returns at once.
   */
  Process launch(List<String> args, Path output) throws Exception {
    List<String> launcher =
        new ArrayList<>(
            List.of(
                java(),
                "-cp",
                sparkHome.resolve("jars") + File.separator + "*",
                "org.apache.spark.launcher.Main",
                "org.apache.spark.deploy.SparkSubmit"));
    launcher.addAll(args);
    Process build =
        environment(new ProcessBuilder(launcher))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    byte[] printed = build.getInputStream().readAllBytes();
    if (build.waitFor() != 0) {
      throw new IllegalStateException(
          "spark-launcher failed: " + new String(printed, StandardCharsets.UTF_8));
    }
    // the launcher prints the real command, NUL-separated, as Spark's spark-class script reads it
    List<String> command =
        new ArrayList<>(Arrays.asList(new String(printed, StandardCharsets.UTF_8).split("\0")));
    command.replaceAll(String::strip);
    command.removeIf(String::isEmpty);
    return environment(new ProcessBuilder(command))
        .redirectErrorStream(true)
        .redirectOutput(output.toFile())
        .start();
  }

  /** The final state of a cluster-mode driver, as the master reports it (spark-submit does not). */
  String driverState(String submissionId, Duration timeout) throws Exception {
    Pattern state =
        Pattern.compile(
            "\"id\" : \"" + Pattern.quote(submissionId) + "\",[^}]*?\"state\" : \"(\\w+)\"",
            Pattern.DOTALL);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String json = masterJson();
      int completed = json.indexOf("\"completeddrivers\"");
      if (completed >= 0) {
        Matcher matcher = state.matcher(json.substring(completed));
        if (matcher.find()) {
          return matcher.group(1);
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "driver " + submissionId + " did not finish in " + timeout + ": " + masterJson());
  }

  String masterJson() {
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      return response.body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private Process daemon(String name, String mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(Arrays.asList(jvmFlags.trim().split("\\s+")));
    command.addAll(
        List.of("-Xmx512m", "-cp", sparkHome.resolve("jars") + File.separator + "*", mainClass));
    command.addAll(Arrays.asList(args));
    return environment(new ProcessBuilder(command))
        .redirectErrorStream(true)
        .redirectOutput(logs.resolve(name + ".log").toFile())
        .start();
  }

  private ProcessBuilder environment(ProcessBuilder builder) {
    Map<String, String> env = builder.environment();
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.12");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.remove("SPARK_CONF_DIR");
    return builder;
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  @Override
  public void close() {
    for (int i = daemons.size() - 1; i >= 0; i--) {
      destroyTree(daemons.get(i));
    }
  }

  static void destroyTree(Process process) {
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

  interface Check {
    boolean ok() throws Exception;
  }

  static void waitFor(Check check, Duration timeout, String what) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (check.ok()) {
        return;
      }
      Thread.sleep(300);
    }
    throw new IllegalStateException("timed out waiting for " + what);
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
