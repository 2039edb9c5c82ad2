package kiln.jobs;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A Kiln command line run in this JVM as {@code bin/kiln} runs it, with its exit code and what it
 * printed: the one in-process runner of the tests, the integration tests and the benchmarks.
 *
 * @param exitCode the code {@code bin/kiln} would exit with
 * @param out what it printed on standard output (the result JSON alone with {@code --json})
 * @param err what it printed on standard error (progress, messages, fix lines)
 */
public record KilnRun(int exitCode, String out, String err) {
  public KilnRun {
    requireNonNull(out, "out is null");
    requireNonNull(err, "err is null");
  }

  /**
   * Runs {@code kiln ARGS...}. System.out and System.err are swapped for the run, not only the
   * command's writers, so that what libraries print lands where it would in a real process; they
   * belong to the whole JVM, hence one run at a time.
   */
  public static synchronized KilnRun kiln(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
      int code = Kiln.execute(args);
      System.out.flush();
      System.err.flush();
      return new KilnRun(
          code,
          outBytes.toString(StandardCharsets.UTF_8),
          errBytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** Both streams, standard error first: for a failed assertion's message or a search. */
  public String output() {
    return err + out;
  }
}
