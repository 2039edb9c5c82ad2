package kiln.ingest;

/** The file formats {@code kiln ingest} reads. */
public enum SourceFormat {
  CSV,
  JSON,
  PARQUET;

  /** Text formats carry no types: values are parsed, and unparsable records are quarantined. */
  boolean isText() {
    return this != PARQUET;
  }

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
