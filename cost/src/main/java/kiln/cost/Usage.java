package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;

/**
 * What one Kiln job used between {@code start} and {@code end}, as a {@link UsageListener} measured
 * it. Allocated figures come from executor lifetimes (what the cluster reserved for the job); used
 * CPU from the tasks' CPU time. Memory and GPUs have no "used" measure in Spark's events, so they
 * are priced on what was allocated.
 *
 * @param gpuType the GPU model the executors' GPUs are (from the settings), null when none or not
 *     said
 * @param driverSeconds the driver's wall time over the window: the job's elapsed time
 * @param stages per stage, in stage order; {@link #jobs()} sums them per Spark job
 */
public record Usage(
    Instant start,
    Instant end,
    double coreSecondsAllocated,
    double coreSecondsUsed,
    double gpuSecondsAllocated,
    String gpuType,
    double memoryGbSeconds,
    long inputBytes,
    long outputBytes,
    long shuffleReadBytes,
    long shuffleWriteBytes,
    long tasks,
    long failedTasks,
    double driverSeconds,
    List<StageUsage> stages) {

  public Usage {
    requireNonNull(start, "start is null");
    requireNonNull(end, "end is null");
    if (end.isBefore(start)) {
      throw Errors.badInput(
          "usage ends at " + end + " before it starts at " + start, "give end >= start");
    }
    for (double v :
        new double[] {
          coreSecondsAllocated, coreSecondsUsed, gpuSecondsAllocated, memoryGbSeconds, driverSeconds
        }) {
      if (v < 0 || Double.isNaN(v)) {
        throw Errors.badInput(
            "a negative or NaN usage figure: " + v, "usage figures are measured amounts, >= 0");
      }
    }
    if (inputBytes < 0
        || outputBytes < 0
        || shuffleReadBytes < 0
        || shuffleWriteBytes < 0
        || tasks < 0
        || failedTasks < 0) {
      throw Errors.badInput("a negative byte or task count in usage", "counts are >= 0");
    }
    stages = stages == null ? List.of() : List.copyOf(stages);
  }

  /** No usage (a command that ran no Spark work), over the window. */
  public static Usage none(Instant start, Instant end) {
    return new Usage(
        start,
        end,
        0,
        0,
        0,
        null,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        Duration.between(start, end).toMillis() / 1000.0,
        List.of());
  }

  /** Allocated core-seconds no task used: what OpenCost reports as idle. Never negative. */
  public double idleCoreSeconds() {
    return Math.max(0, coreSecondsAllocated - coreSecondsUsed);
  }

  /** The stages summed per Spark job (stageId -1), in job order. */
  public List<StageUsage> jobs() {
    Map<Integer, StageUsage> byJob = new TreeMap<>();
    for (StageUsage s : stages) {
      byJob.merge(s.jobId(), s.asJob(s.jobId()), StageUsage::plus);
    }
    return List.copyOf(byJob.values());
  }

  /** The figures as MLflow metrics, {@code usage.*}. */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("usage.core_seconds_allocated", coreSecondsAllocated);
    m.put("usage.core_seconds_used", coreSecondsUsed);
    m.put("usage.core_seconds_idle", idleCoreSeconds());
    m.put("usage.gpu_seconds_allocated", gpuSecondsAllocated);
    m.put("usage.memory_gb_seconds", memoryGbSeconds);
    m.put("usage.input_bytes", (double) inputBytes);
    m.put("usage.output_bytes", (double) outputBytes);
    m.put("usage.shuffle_read_bytes", (double) shuffleReadBytes);
    m.put("usage.shuffle_write_bytes", (double) shuffleWriteBytes);
    m.put("usage.tasks", (double) tasks);
    m.put("usage.failed_tasks", (double) failedTasks);
    m.put("usage.driver_seconds", driverSeconds);
    return m;
  }
}
