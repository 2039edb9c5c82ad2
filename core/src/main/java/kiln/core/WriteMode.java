package kiln.core;

/** How a write meets the rows already in a table. */
public enum WriteMode {
  APPEND,
  OVERWRITE;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
