package kiln.lineage;

import java.io.PrintStream;

/** Prints events to standard error (standard output is the --json result's). */
public final class ConsoleTransport implements Transport {
  private final PrintStream out;

  public ConsoleTransport(PrintStream out) {
    this.out = out;
  }

  @Override
  public void emit(String event) {
    out.println(event);
  }
}
