package kiln.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;

/**
 * Where a Spark program's time goes, in measures that depend little on the machine's load: Spark
 * jobs and stages (with their tasks' CPU, run and GC time, which count only while a task runs), the
 * process's CPU time and its garbage collection. A loaded machine stretches wall time; the CPU time
 * a phase needs stays nearly the same.
 */
final class SparkWork extends SparkListener {
  /** One finished job: what started it, its stages and tasks, and its tasks' summed times. */
  record Job(
      int id,
      String callSite,
      double wallSeconds,
      int stages,
      int tasks,
      double taskRunSeconds,
      double taskCpuSeconds,
      double taskGcSeconds) {
    String line() {
      return String.format(
          Locale.ROOT,
          "job %d: %.2f s wall, %d stage(s), %d task(s), tasks' run %.2f s, CPU %.2f s, GC %.2f s"
              + " -- %s",
          id,
          wallSeconds,
          stages,
          tasks,
          taskRunSeconds,
          taskCpuSeconds,
          taskGcSeconds,
          callSite);
    }
  }

  private final Map<Integer, SparkListenerJobStart> started = new ConcurrentHashMap<>();
  private final Map<Integer, Integer> stageToJob = new ConcurrentHashMap<>();
  private final Map<Integer, double[]> stageTotals = new ConcurrentHashMap<>();
  private final List<Job> finished = java.util.Collections.synchronizedList(new ArrayList<>());

  @Override
  public void onJobStart(SparkListenerJobStart start) {
    started.put(start.jobId(), start);
    for (Object id : scala.collection.JavaConverters.seqAsJavaList(start.stageIds())) {
      stageToJob.put((Integer) id, start.jobId());
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted completed) {
    StageInfo stage = completed.stageInfo();
    Integer job = stageToJob.get(stage.stageId());
    if (job == null || stage.taskMetrics() == null) {
      return;
    }
    double[] totals = stageTotals.computeIfAbsent(job, j -> new double[5]);
    synchronized (totals) {
      totals[0] += 1;
      totals[1] += stage.numTasks();
      totals[2] += stage.taskMetrics().executorRunTime() / 1e3;
      totals[3] += stage.taskMetrics().executorCpuTime() / 1e9;
      totals[4] += stage.taskMetrics().jvmGCTime() / 1e3;
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd end) {
    SparkListenerJobStart start = started.remove(end.jobId());
    if (start == null) {
      return;
    }
    double[] totals = stageTotals.getOrDefault(end.jobId(), new double[5]);
    // the job's last stage is named after the action that started it ("collect at X.java:83")
    String site = "?";
    int last = -1;
    for (StageInfo stage : scala.collection.JavaConverters.seqAsJavaList(start.stageInfos())) {
      if (stage.stageId() > last) {
        last = stage.stageId();
        site = stage.name();
      }
    }
    finished.add(
        new Job(
            end.jobId(),
            site,
            (end.time() - start.time()) / 1e3,
            (int) totals[0],
            (int) totals[1],
            totals[2],
            totals[3],
            totals[4]));
  }

  /** Jobs finished so far, in the order they finished. */
  List<Job> jobs() {
    synchronized (finished) {
      return List.copyOf(finished);
    }
  }

  /** This process's CPU time in seconds (every thread: driver, executors, JIT, GC). */
  static double processCpuSeconds() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime() / 1e9;
    }
    return Double.NaN;
  }

  /** Seconds spent in garbage collection by this JVM so far. */
  static double gcSeconds() {
    long total = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      total += Math.max(0, gc.getCollectionTime());
    }
    return total / 1e3;
  }
}
