package kiln.core.tracking;

/** The tracking server could not be reached, or refused a request. */
public final class TrackingException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean unreachable;
  private final int status;

  public TrackingException(String message, boolean unreachable, Throwable cause) {
    this(message, unreachable, 0, cause);
  }

  /** A request the server answered with HTTP {@code status} (0: no answer came back). */
  public TrackingException(String message, boolean unreachable, int status, Throwable cause) {
    super(message, cause);
    this.unreachable = unreachable;
    this.status = status;
  }

  /**
   * The HTTP status the server answered, or 0 when no answer came back (no connection, a timeout):
   * what to advise depends on it.
   */
  public int status() {
    return status;
  }

  /**
   * True when retrying later may work (no connection, timeouts, 5xx); false for a refusal (4xx).
   */
  public boolean unreachable() {
    return unreachable;
  }
}
