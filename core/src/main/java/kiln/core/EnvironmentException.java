package kiln.core;

/**
 * The machine or cluster cannot run what was asked (no GPU for the gpu profile, a tool missing, a
 * download refused). Exit code 2 as well, since the fix is in how Kiln is invoked or set up.
 */
public final class EnvironmentException extends KilnException {
  private static final long serialVersionUID = 1L;

  EnvironmentException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int exitCode() {
    return 2;
  }
}
