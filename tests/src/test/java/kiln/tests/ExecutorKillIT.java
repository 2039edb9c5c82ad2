package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 2: an executor, or the worker that runs it, killed with SIGKILL in the middle of a
 * job on a real standalone cluster on 127.0.0.1 (a master and two workers of one core each). The
 * job, {@code kiln ingest} of 320,000 CSV rows with quarantine submitted in client mode through
 * Spark's own spark-submit, is watched through its driver's progress bar; once a scan stage has
 * finished a task and runs another, the executor JVM ({@code CoarseGrainedExecutorBackend}, found
 * among the workers' child processes) is killed. Spark re-launches an executor and re-runs the lost
 * tasks ({@code spark.task.maxFailures=4}, Spark's cluster default, set explicitly); the job ends
 * with exit 0, and the table and its quarantine hold exactly one commit each with the same rows and
 * content checksum as an undisturbed run of the same command.
 *
 * <p>{@code -Dkiln.faults.kills=N} ({@code bin/kiln-faults}: 10) runs N jobs, at least two, killing
 * in turn the executor and the worker that runs it (a worker is started again after): CI kills one
 * executor and one worker. That the executor was mid-task is read from the application's event log
 * (a task ended with {@code ExecutorLostFailure}): Kiln keeps Spark's warnings, "Lost task" among
 * them, off the console, and prints its own line for it ("[kiln] executor 1 lost (...): Spark runs
 * its 1 task again elsewhere"), which is checked too.
 */
@ExtendWith(SharedSpark.class)
class ExecutorKillIT {
  static final Duration TIMEOUT = Duration.ofMinutes(4);

  /** At least two: CI (one kill per job) kills one executor and one worker. */
  static final int KILLS = Math.max(2, Integer.getInteger("kiln.faults.kills", 1));

  @TempDir static Path dir;
  static SparkCluster cluster;
  static Path logs;
  static Path source;
  static Path schema;
  static Path table;
  static KilnProcess undisturbed;

  @BeforeAll
  static void startCluster() throws Exception {
    logs = Path.of("target", "faults-logs", "executor-kill").toAbsolutePath();
    Files.createDirectories(logs);
    // 320,000 rows in 8 files of 0.9 MB, every hundredth amount unreadable (3,200 rows to
    // quarantine): scans of 16 tasks (512 KB splits) of a few hundred ms each on one core
    source = Files.createDirectories(dir.resolve("landing"));
    for (int f = 0; f < 8; f++) {
      Files.writeString(
          source.resolve("part-" + f + ".csv"),
          DriverKillIT.csv(f * 40_000, f * 40_000 + 40_000, true));
    }
    schema =
        Files.writeString(
            dir.resolve("schema.yaml"),
            "columns:\n  - {name: id, type: long, nullable: false}\n  - {name: amount, type: int}\n  - {name: day, type: date}\n");
    table = dir.resolve("tables/amounts");
    // the undisturbed run, while the cluster starts: the same command in one local JVM, into the
    // table the cluster's jobs write (the quarantine records its table's path), moved aside after
    undisturbed =
        KilnProcess.start(
            logs,
            List.of(
                "ingest",
                "--source",
                source.toString(),
                "--format",
                "csv",
                "--schema",
                schema.toString(),
                "--output",
                table.toString(),
                "--master",
                "local[2]",
                "--conf",
                "spark.sql.shuffle.partitions=2",
                "--conf",
                "spark.ui.enabled=false",
                "--workdir",
                dir.resolve("work-reference").toString()));
    cluster = SparkCluster.started(logs.resolve("cluster"), 2, 1, "1g");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
    if (undisturbed != null && undisturbed.process.isAlive()) {
      undisturbed.process.destroyForcibly();
    }
  }

  @Test
  void anExecutorOrWorkerKilledMidJobIsReplacedAndTheJobWritesExactlyTheUndisturbedResult(
      SparkSession spark) throws Exception {
    Path reference = dir.resolve("reference/amounts");
    KilnProcess.Result done = undisturbed.await(TIMEOUT);
    assertThat(done.exitCode()).as(done.output()).isZero();
    Files.createDirectories(reference.getParent());
    Files.move(table, reference);
    Files.move(Path.of(table + "_quarantine"), Path.of(reference + "_quarantine"));
    TableState expected = TableState.of(spark, reference);
    TableState expectedQuarantine = TableState.of(spark, Path.of(reference + "_quarantine"));
    assertThat(expected.rows()).isEqualTo(316_800);
    assertThat(expectedQuarantine.rows()).isEqualTo(3_200);

    List<String> lines = new ArrayList<>();
    for (int kill = 1; kill <= KILLS; kill++) {
      boolean worker = kill % 2 == 0;
      TableState.delete(table);
      TableState.delete(Path.of(table + "_quarantine"));
      Path output = logs.resolve("submit-" + kill + ".log");
      long started = System.nanoTime();
      Process submit = cluster.launch(submitArgs(table, kill), output);
      try {
        String stage = waitForScanMidway(submit, output);
        ProcessHandle executor = executor();
        String appId =
            executor.info().commandLine().orElseThrow().replaceAll(".*--app-id (\\S+).*", "$1");
        long killedAt = (System.nanoTime() - started) / 1_000_000;
        Process killedWorker = null;
        if (worker) {
          killedWorker =
              cluster.workers.stream()
                  .filter(Process::isAlive)
                  .filter(w -> w.toHandle().descendants().anyMatch(executor::equals))
                  .findFirst()
                  .orElseThrow();
          killedWorker.destroyForcibly();
        } else {
          executor.destroyForcibly();
        }
        // the executor dies with its worker (its WorkerWatcher ends it)
        assertThat(executor.onExit().get(60, TimeUnit.SECONDS).isAlive()).isFalse();
        assertThat(submit.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
            .as("the job ends: %s", output)
            .isTrue();
        String log = Files.readString(output);
        long elapsed = (System.nanoTime() - started) / 1_000_000;
        assertThat(submit.exitValue()).as(log).isZero();
        assertThat(log)
            .contains("Ingested 316,800 rows into " + table + ", version 0")
            .contains("Lost executor")
            // Kiln's own line for the lost task, shown without --verbose (Spark's are WARNs)
            .containsPattern(
                "\\[kiln\\] executor \\d+ lost.*: Spark runs its \\d+ tasks? again elsewhere");
        int executors = executorDirectories(appId);
        assertThat(executors).as("executors launched for %s", appId).isGreaterThanOrEqualTo(2);
        // the executor was killed mid-task: a task it ran ended with it, and was run again
        long lostTasks = tasksLostWithTheirExecutor(kill);
        assertThat(lostTasks)
            .as("tasks ended by the executor's loss (event log %s)", events(kill))
            .isPositive();
        TableState state = TableState.of(spark, table);
        TableState quarantine = TableState.of(spark, Path.of(table + "_quarantine"));
        assertThat(state.versions()).as("commits of %s", table).isEqualTo(1);
        assertThat(quarantine.versions()).as("commits of its quarantine").isEqualTo(1);
        assertThat(state.sameAs(expected))
            .as("%s is %s, undisturbed %s", table, state, expected)
            .isTrue();
        assertThat(quarantine.sameAs(expectedQuarantine))
            .as("quarantine is %s, undisturbed %s", quarantine, expectedQuarantine)
            .isTrue();
        lines.add(
            String.format(
                "  kill %d: %s (pid %d) SIGKILLed at %d ms, mid-scan (%s); %d running task(s) lost with"
                    + " it (event log: ExecutorLostFailure), %d executors launched in all; job done in %d ms, exit 0; table and"
                    + " quarantine as undisturbed (1 commit each, %d + %d rows, same checksums)",
                kill,
                worker ? "the worker running the executor" : "the executor",
                worker ? killedWorker.pid() : executor.pid(),
                killedAt,
                stage,
                lostTasks,
                executors,
                elapsed,
                state.rows(),
                quarantine.rows()));
        if (worker) {
          cluster.startWorker(1, "1g");
          SparkCluster.waitFor(
              () -> cluster.masterJson().contains("\"aliveworkers\" : 2"),
              Duration.ofSeconds(60),
              "a new worker to register");
        }
      } finally {
        SparkCluster.destroyTree(submit);
      }
    }
    String summary =
        String.format(
                "executor or worker killed on a standalone cluster (2 workers of 1 core): %d kill(s),"
                    + " every job complete and equal to the undisturbed run%n",
                KILLS)
            + String.join("\n", lines)
            + "\n";
    System.err.print("[faults] " + summary);
    Files.writeString(
        Path.of("target", "faults-summary.txt"),
        summary,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  List<String> submitArgs(Path table, int kill) {
    return cluster.kilnSubmitArgs(
        "client",
        List.of(
            "spark.executor.cores=1",
            // Spark's default on a cluster, made explicit: a task is tried up to 4 times, and the
            // attempts an executor's loss ends count
            "spark.task.maxFailures=4",
            "spark.sql.files.maxPartitionBytes=512k",
            "spark.ui.showConsoleProgress=true",
            // the event log says which tasks the loss ended (Kiln keeps Spark's warnings, "Lost
            // task" among them, off the console without --verbose, and prints its own line)
            "spark.eventLog.enabled=true",
            "spark.eventLog.dir=" + events(kill).toUri()),
        List.of(
            "ingest",
            "--profile",
            "cluster",
            "--source",
            source.toString(),
            "--format",
            "csv",
            "--schema",
            schema.toString(),
            "--output",
            table.toString(),
            "--workdir",
            dir.resolve("work-" + kill).toString()));
  }

  /** The event log directory of the kill-th job (created: Spark requires it to exist). */
  static Path events(int kill) {
    try {
      return Files.createDirectories(logs.resolve("events-" + kill));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The tasks that ended because their executor was lost, from the application's event log: task
   * ends whose reason is {@code ExecutorLostFailure}. A task running on the killed executor ends
   * so.
   */
  static long tasksLostWithTheirExecutor(int kill) throws IOException {
    try (Stream<Path> files = Files.list(events(kill))) {
      long lost = 0;
      for (Path file : files.toList()) {
        try (Stream<String> lines = Files.lines(file)) {
          lost +=
              lines
                  .filter(l -> l.startsWith("{\"Event\":\"SparkListenerTaskEnd\""))
                  .filter(l -> l.contains("\"Reason\":\"ExecutorLostFailure\""))
                  .count();
        }
      }
      return lost;
    }
  }

  /** Spark's console progress bar: {@code [Stage N:===> (DONE + ACTIVE) / TOTAL]}. */
  static final java.util.regex.Pattern PROGRESS =
      java.util.regex.Pattern.compile("\\[Stage (\\d+):[=> ]*\\((\\d+) \\+ (\\d+)\\) / (\\d+)\\]");

  /**
   * Waits until the driver's progress bar (on its standard error) shows a stage of the scan (a
   * stage of many tasks) that has finished a task and runs another; returns that stage's line.
   */
  static String waitForScanMidway(Process submit, Path output) throws Exception {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!submit.isAlive()) {
        throw new IllegalStateException(
            "the job ended before its scan was seen: " + Files.readString(output));
      }
      java.util.regex.Matcher progress = PROGRESS.matcher(Files.readString(output));
      while (progress.find()) {
        if (Integer.parseInt(progress.group(4)) >= 8
            && Integer.parseInt(progress.group(2)) >= 1
            && Integer.parseInt(progress.group(3)) >= 1) {
          return progress.group();
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("no scan stage seen: " + Files.readString(output));
  }

  /** The running application's executor JVM: a worker's child running its backend. */
  static ProcessHandle executor() {
    return cluster.workers.stream()
        .filter(Process::isAlive)
        .flatMap(w -> w.toHandle().descendants())
        .filter(
            p ->
                p.info()
                    .commandLine()
                    .map(c -> c.contains("CoarseGrainedExecutorBackend"))
                    .orElse(false))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no executor process"));
  }

  /** How many executors the workers launched for the application (a directory each). */
  static int executorDirectories(String appId) throws IOException {
    Path app = cluster.logs.resolve("work").resolve(appId);
    try (Stream<Path> executors = Files.list(app)) {
      return (int) executors.filter(Files::isDirectory).count();
    }
  }
}
