package kiln.core;

/** Where a job's SparkSession runs. */
public enum SparkProfile {
  /** In this JVM, {@code local[*]}: the default of {@code bin/kiln}. */
  LOCAL,
  /** Master and configuration come from spark-submit. */
  CLUSTER,
  /** As CLUSTER, plus the RAPIDS Accelerator and GPU resources; refuses to start without a GPU. */
  GPU;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
