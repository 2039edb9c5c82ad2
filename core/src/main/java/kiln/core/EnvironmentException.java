package kiln.core;

/**
 * The machine, cluster or a service cannot run what was asked (a tool missing, a port or store
 * unusable, a server unreachable). The input was fine: a retry, or a fix of the environment, may
 * help.
 */
public final class EnvironmentException extends KilnException {
  private static final long serialVersionUID = 1L;

  EnvironmentException(String message, Throwable cause) {
    super(message, cause);
  }
}
