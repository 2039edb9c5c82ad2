package kiln.core;

/**
 * The root of Kiln's errors. Every subclass carries a message meant for a person (what was wrong, the
 * offending value, what to do) and the process exit code the command line maps it to.
 */
public abstract class KilnException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  protected KilnException(String message, Throwable cause) {
    super(message, cause);
  }

  /** 1 for a failed check, 2 for bad usage or bad input, 3 for a failure of the environment. */
  public abstract int exitCode();
}
