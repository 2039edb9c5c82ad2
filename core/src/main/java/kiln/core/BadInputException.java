package kiln.core;

/** The user gave something Kiln cannot use: a bad argument, file, table or version. Exit code 2. */
public final class BadInputException extends KilnException {
  private static final long serialVersionUID = 1L;

  BadInputException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public int exitCode() {
    return 2;
  }
}
