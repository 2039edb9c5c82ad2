package kiln.core;

/**
 * Something the user named does not exist: a file, a table, a version, a registered model or alias.
 */
public final class NotFoundException extends BadInputException {
  private static final long serialVersionUID = 1L;

  NotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
