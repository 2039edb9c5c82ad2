package kiln.contracts;

/**
 * What a broken rule means: {@code error} fails the check (exit 1), {@code warning} is only
 * reported.
 */
public enum Severity {
  ERROR,
  WARNING;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
