package kiln.core.tracking;

/** The tracking server could not be reached, or refused a request. */
public final class TrackingException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean unreachable;

  public TrackingException(String message, boolean unreachable, Throwable cause) {
    super(message, cause);
    this.unreachable = unreachable;
  }

  /**
   * True when retrying later may work (no connection, timeouts, 5xx); false for a refusal (4xx).
   */
  public boolean unreachable() {
    return unreachable;
  }
}
