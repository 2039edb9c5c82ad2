package kiln.core;

/**
 * The root of Kiln's errors, typed by cause as Delta kernel's are: bad input (with not found and
 * conflict under it), a check that failed, an environment that cannot run the job. Each carries a
 * message meant for a person (what was wrong, the offending value, what to do). The exit code is
 * not the exception's business: the command line derives it from the type, in one place.
 */
public abstract class KilnException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  protected KilnException(String message, Throwable cause) {
    super(message, cause);
  }
}
