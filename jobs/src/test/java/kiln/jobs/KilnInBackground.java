package kiln.jobs;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kiln command that runs until stopped ({@code kiln server}) in a thread of this JVM, its output
 * read while it runs: {@link KilnRun} is for commands that end. Only the command's own writers are
 * captured (System.out belongs to the whole JVM, and the test goes on beside the command).
 */
final class KilnInBackground {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final AtomicInteger exitCode = new AtomicInteger(-1);
  private final Thread thread;

  private KilnInBackground(String name, String... args) {
    thread =
        new Thread(
            () ->
                exitCode.set(
                    Kiln.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                        .execute(args)),
            name);
  }

  /** Starts {@code kiln ARGS...} in a thread named {@code name}. */
  static KilnInBackground start(String name, String... args) {
    KilnInBackground command = new KilnInBackground(name, args);
    command.thread.start();
    return command;
  }

  /**
   * Waits up to a minute, or until the command ends, for {@code pattern} in its standard output;
   * the matcher has found it when {@code find(0)} is true.
   */
  Matcher awaitOutput(Pattern pattern) throws InterruptedException {
    Matcher matcher = pattern.matcher("");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!matcher.reset(out.toString()).find()
        && System.nanoTime() < deadline
        && thread.isAlive()) {
      Thread.sleep(50);
    }
    return matcher;
  }

  String out() {
    return out.toString();
  }

  String err() {
    return err.toString();
  }

  /** Interrupts the command (as Ctrl-C would end it) and waits up to 30 s for it to end. */
  void stop() throws InterruptedException {
    thread.interrupt();
    thread.join(30_000);
  }

  boolean running() {
    return thread.isAlive();
  }

  /** The command's exit code, -1 while it runs. */
  int exitCode() {
    return exitCode.get();
  }
}
