package kiln.jobs;

import java.io.PrintWriter;
import java.text.NumberFormat;
import java.time.Duration;
import java.util.Locale;

/** What a command tells its user: progress steps on stderr, results on stdout. */
final class Console {
  private final PrintWriter out;
  private final PrintWriter err;

  Console(PrintWriter out, PrintWriter err) {
    this.out = out;
    this.err = err;
  }

  void step(String message) {
    err.println("[kiln] " + message);
    err.flush();
  }

  void result(String message) {
    out.println(message);
    out.flush();
  }

  static String count(long n) {
    return NumberFormat.getIntegerInstance(Locale.ROOT).format(n);
  }

  static String seconds(Duration duration) {
    return String.format(Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
  }
}
