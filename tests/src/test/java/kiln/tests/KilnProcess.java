package kiln.tests;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The kiln command as a real child process: the JVM {@code bin/kiln} execs (Spark's JVM flags, the
 * kiln jar, Spark's jars from SPARK_HOME), with standard output and error in files under {@code
 * logs}. The fault tests kill it with SIGKILL ({@link Process#destroyForcibly} on Unix).
 */
final class KilnProcess {
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  /** A finished command: its exit code, standard output and error, and its wall time. */
  record Result(int exitCode, String out, String err, Duration elapsed) {
    String output() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  final Process process;
  final Path out;
  final Path err;
  final long startedNanos;

  private KilnProcess(Process process, Path out, Path err, long startedNanos) {
    this.process = process;
    this.out = out;
    this.err = err;
    this.startedNanos = startedNanos;
  }

  /** Starts {@code kiln ARGS} with its outputs in {@code logs}. */
  static KilnProcess start(Path logs, List<String> args) throws IOException {
    Files.createDirectories(logs);
    List<String> command =
        new ArrayList<>(
            List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(Arrays.asList(System.getProperty("kiln.jvmFlags").trim().split("\\s+")));
    command.addAll(
        List.of(
            "-Xmx640m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            // bin/kiln's logging: warnings and errors only
            "-Dlog4j2.configurationFile="
                + Path.of(
                    System.getProperty("kiln.home"), "cluster-config", "log4j2-cli.properties"),
            "-cp",
            System.getProperty("kiln.jobsJar")
                + File.pathSeparator
                + Path.of(System.getProperty("kiln.sparkHome"), "jars")
                + File.separator
                + "*",
            "kiln.jobs.Kiln"));
    command.addAll(args);
    int n = SEQUENCE.incrementAndGet();
    String name = String.format("%03d-%s", n, args.isEmpty() ? "kiln" : args.get(0));
    Path out = logs.resolve(name + ".out");
    Path err = logs.resolve(name + ".err");
    Files.writeString(err, String.join(" ", args) + "\n");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()));
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    builder.environment().remove("MLFLOW_TRACKING_URI");
    builder.environment().remove("SPARK_HOME");
    builder.environment().remove("SPARK_CONF_DIR");
    return new KilnProcess(builder.start(), out, err, System.nanoTime());
  }

  /** Runs {@code kiln ARGS} to its end (at most {@code timeout}). */
  static Result run(Path logs, Duration timeout, List<String> args) throws Exception {
    return start(logs, args).await(timeout);
  }

  Result await(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      kill();
      throw new IllegalStateException(
          "kiln did not finish in " + timeout + ":\n" + Files.readString(err));
    }
    return result();
  }

  private Result result() throws IOException {
    return new Result(
        process.exitValue(),
        Files.readString(out),
        Files.readString(err),
        Duration.ofNanos(System.nanoTime() - startedNanos));
  }

  /** SIGKILL, as a scheduler or the OOM killer ends a driver: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** The process was still running when it was killed (false: it had already ended). */
  boolean killAfter(Duration delay) throws Exception {
    long deadline = startedNanos + delay.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        return false;
      }
      Thread.sleep(Math.max(1, Math.min(20, (deadline - System.nanoTime()) / 1_000_000)));
    }
    boolean alive = process.isAlive();
    kill();
    return alive;
  }

  /**
   * Waits until standard error has a line containing {@code text}; returns the milliseconds since
   * the start (the timeout's, when the line never came or the process ended first).
   */
  long waitForLine(String text, Duration timeout) throws Exception {
    long deadline = startedNanos + timeout.toNanos();
    while (System.nanoTime() < deadline && process.isAlive()) {
      if (Files.readString(err).contains(text)) {
        break;
      }
      Thread.sleep(20);
    }
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  String stderr() throws IOException {
    return Files.readString(err);
  }
}
