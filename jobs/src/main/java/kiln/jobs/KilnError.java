package kiln.jobs;

/**
 * A Kiln error as {@link KilnSession} reports it to a notebook: the message ({@code kiln: error:
 * ...} with its {@code fix:} line) and the exit code the command line would give, without a stack
 * trace, which says nothing to a user who passed a bad value. The error Kiln raised is kept in
 * {@link #error()} (and as the cause when the session is verbose).
 */
public final class KilnError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;
  private final transient RuntimeException error;

  KilnError(String message, int exitCode, RuntimeException error, boolean withCause) {
    // no stack trace (the last argument): a notebook shows the message alone
    super(message, withCause ? error : null, false, withCause);
    this.exitCode = exitCode;
    this.error = error;
  }

  /** What {@code kiln} would exit with: 1 a check failed, 2 bad input, 3 environment. */
  public int exitCode() {
    return exitCode;
  }

  /** The error Kiln raised, with its stack trace. */
  public RuntimeException error() {
    return error;
  }
}
