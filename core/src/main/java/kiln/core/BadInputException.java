package kiln.core;

/**
 * The user gave something Kiln cannot use: a bad argument, file, config, table, version or column.
 * Running the same command again cannot help; changing it can.
 */
public class BadInputException extends KilnException {
  private static final long serialVersionUID = 1L;

  BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
