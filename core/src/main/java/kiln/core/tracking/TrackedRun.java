package kiln.core.tracking;

import java.nio.file.Path;
import java.util.Map;
import kiln.core.DatasetRef;

/** One MLflow run of a job. Batched where MLflow allows; every method may be called many times. */
public interface TrackedRun extends AutoCloseable {

  /** The metric in which every job's run records how long the job took, in seconds. */
  String ELAPSED_SECONDS = "elapsed_seconds";

  String id();

  /** Where a person sees the run (the MLflow UI's address for it). */
  String url();

  /**
   * The run's artifact root, e.g. {@code mlflow-artifacts:/1/<run id>/artifacts}, the base of a
   * model version's source.
   */
  default String artifactUri() {
    throw new UnsupportedOperationException(
        "the artifact URI is not known to " + getClass().getName());
  }

  void logParams(Map<String, String> params);

  /** Metrics at step 0. */
  void logMetrics(Map<String, Double> metrics);

  void logMetric(String key, double value, long step);

  void setTags(Map<String, String> tags);

  /** Uploads a file as the artifact {@code artifactPath} (relative to the run's artifact root). */
  void logArtifact(Path file, String artifactPath);

  /** Uploads text as the artifact {@code artifactPath}. */
  void logText(String text, String artifactPath);

  /**
   * Records a Delta table version the job read or wrote as an MLflow dataset input. {@code context}
   * says its role, e.g. {@code input}, {@code output}, {@code reference}, {@code training}.
   */
  void logInput(DatasetRef pinned, String context);

  /**
   * Records files the job reads that are not a Delta table (ingest's source: a directory, a file or
   * a glob; a path or a URI) and their format ({@code csv}, {@code parquet}, ...). MLflow has them
   * as the job's params already; lineage declares them as an input of the run's events.
   */
  default void logSourceFiles(String location, String format) {}

  /** Ends the run FINISHED. */
  void finish();

  /** Ends the run FAILED, recording the error. */
  void fail(Throwable error);

  /** Ends the run FINISHED unless it already ended. */
  @Override
  void close();
}
