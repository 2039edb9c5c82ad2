package kiln.core;

/**
 * The request contradicts what already exists: a directory Kiln would overwrite but did not make, a
 * table built with another split, a model with nothing to roll back to.
 */
public final class ConflictException extends BadInputException {
  private static final long serialVersionUID = 1L;

  ConflictException(String message, Throwable cause) {
    super(message, cause);
  }
}
