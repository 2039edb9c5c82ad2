package kiln.core.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.SparkSession;

/**
 * Counts the Spark jobs a piece of code really starts, by the call sites Spark names their stages
 * after (e.g. {@code collect at Profiler.java:70}): what "one pass" and "scanned once" claims are
 * checked with.
 *
 * <pre>
 * {@code try (SparkJobs jobs = SparkJobs.watch(spark)) { ...; assertThat(jobs.startedAt("Profiler.java")).isEqualTo(2); }}
 * </pre>
 */
public final class SparkJobs extends SparkListener implements AutoCloseable {
  private final SparkSession spark;
  private final List<List<String>> jobs = Collections.synchronizedList(new ArrayList<>());

  /**
   * The SQL execution (query) each job belongs to, in the order of {@link #jobs}; null for plain
   * RDD jobs.
   */
  private final List<String> executions = Collections.synchronizedList(new ArrayList<>());

  private SparkJobs(SparkSession spark) {
    this.spark = spark;
  }

  /**
   * Counts the jobs started from now on. Jobs still running (e.g. a background job an earlier test
   * left behind) are waited for first, so that they are not counted.
   */
  public static SparkJobs watch(SparkSession spark) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (spark.sparkContext().statusTracker().getActiveJobIds().length > 0
        && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for running Spark jobs", e);
      }
    }
    SparkJobs listener = new SparkJobs(spark);
    listener.drain();
    spark.sparkContext().addSparkListener(listener);
    return listener;
  }

  @Override
  public void onJobStart(SparkListenerJobStart start) {
    List<String> stages = new ArrayList<>();
    for (StageInfo stage : scala.collection.JavaConverters.seqAsJavaList(start.stageInfos())) {
      stages.add(stage.name());
    }
    synchronized (jobs) {
      jobs.add(stages);
      executions.add(
          start.properties() == null
              ? null
              : start.properties().getProperty("spark.sql.execution.id"));
    }
  }

  /** Every job started so far, as the names (call sites) of its stages. */
  public List<List<String>> jobs() {
    drain();
    synchronized (jobs) {
      return List.copyOf(jobs);
    }
  }

  /**
   * The jobs with a stage started from {@code callSite}, e.g. a source file name such as {@code
   * "Profiler.java"}.
   */
  public long startedAt(String callSite) {
    return jobs().stream()
        .filter(stages -> stages.stream().anyMatch(name -> name.contains(callSite)))
        .count();
  }

  /**
   * The SQL queries that started jobs: one query may run several jobs (adaptive execution runs each
   * shuffle stage as a job of its own), so a pass over the data is one query, not one job.
   */
  public long queries() {
    drain();
    synchronized (jobs) {
      return executions.stream().filter(java.util.Objects::nonNull).distinct().count();
    }
  }

  /** Forgets the jobs counted so far. */
  public void reset() {
    drain();
    synchronized (jobs) {
      jobs.clear();
      executions.clear();
    }
  }

  /**
   * Listener events arrive asynchronously: wait until Spark has delivered every event posted so
   * far.
   */
  private void drain() {
    try {
      spark.sparkContext().listenerBus().waitUntilEmpty();
    } catch (TimeoutException e) {
      throw new IllegalStateException("Spark's listener bus did not drain", e);
    }
  }

  @Override
  public void close() {
    spark.sparkContext().removeSparkListener(this);
  }
}
