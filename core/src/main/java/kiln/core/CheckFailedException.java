package kiln.core;

/** A check ran and failed: a broken contract, a refused gate, drift over its threshold. */
public final class CheckFailedException extends KilnException {
  private static final long serialVersionUID = 1L;

  CheckFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
