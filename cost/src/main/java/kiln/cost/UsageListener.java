package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import scala.Option;
import scala.collection.JavaConverters;

/**
 * Measures what a Spark application's jobs use: executor lifetimes × cores, GPUs and memory
 * (allocated), task CPU time (used), bytes read, written and shuffled, tasks and failed tasks, per
 * Spark job and stage. One listener per SparkContext ({@link #attach}); a Kiln job takes a {@link
 * #mark()} when it starts and its {@link #since usage} when it ends.
 *
 * <p>In local mode the driver runs the tasks: it is the one executor, with the master's cores and
 * the JVM's heap. The listener is attached after the context starts (a notebook's or a test's
 * session may already exist), so executors registered before are seeded from the context rather
 * than from events.
 *
 * <p>Cheap by design: each event adds a few numbers under one lock; nothing is kept per task.
 */
public final class UsageListener extends SparkListener {
  /**
   * The Spark setting that names the executors' GPU model (A100, H100, ...), priced by the catalog.
   */
  public static final String GPU_TYPE = "spark.kiln.gpu.type";

  private static final Map<SparkContext, UsageListener> ATTACHED = new WeakHashMap<>();
  private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\s*\\d+)?])?");
  private static final double GB = 1024.0 * 1024 * 1024;

  private final double executorMemoryGb;
  private final double gpusPerExecutor;
  private final String gpuType;
  private final long defaultCores;
  private final Map<String, Executor> executors = new LinkedHashMap<>();
  private final Map<Integer, Integer> stageJob = new HashMap<>();
  private final Map<Integer, StageUsage> stages = new LinkedHashMap<>();

  /** One executor's reservation; {@code removedMs} is Long.MAX_VALUE while it lives. */
  private record Executor(int cores, double gpus, double memoryGb, long addedMs, long removedMs) {}

  /** Where a job's measurement starts: the time and the per-stage counters then. */
  public record Mark(long atMs, Map<Integer, StageUsage> stages) {
    public Mark {
      stages = Map.copyOf(stages);
    }
  }

  UsageListener(
      double executorMemoryGb, double gpusPerExecutor, String gpuType, long defaultCores) {
    this.executorMemoryGb = executorMemoryGb;
    this.gpusPerExecutor = gpusPerExecutor;
    this.gpuType = gpuType;
    this.defaultCores = defaultCores;
  }

  /**
   * The listener of this session's context, attached (and seeded with its running executors) on
   * first use.
   */
  public static UsageListener attach(SparkSession spark) {
    requireNonNull(spark, "spark is null");
    SparkContext sc = spark.sparkContext();
    synchronized (ATTACHED) {
      UsageListener listener = ATTACHED.get(sc);
      if (listener == null) {
        listener = create(sc);
        sc.addSparkListener(listener);
        ATTACHED.put(sc, listener);
      }
      return listener;
    }
  }

  /**
   * Removes this session's listener, if any (a benchmark's "without" side; a stopped session's
   * entry).
   */
  public static void detach(SparkSession spark) {
    SparkContext sc = spark.sparkContext();
    synchronized (ATTACHED) {
      UsageListener listener = ATTACHED.remove(sc);
      if (listener != null) {
        sc.removeSparkListener(listener);
      }
    }
  }

  private static UsageListener create(SparkContext sc) {
    SparkConf conf = sc.getConf();
    String gpuType = conf.get(GPU_TYPE, null);
    long now = System.currentTimeMillis();
    Matcher local = LOCAL.matcher(sc.master());
    if (local.matches()) {
      // the driver is the executor: the master's cores, the JVM's heap, the driver's GPUs if any
      String n = local.group(1);
      int cores =
          n == null
              ? 1
              : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
      double gpus =
          conf.getDouble(
              "spark.driver.resource.gpu.amount",
              conf.getDouble("spark.executor.resource.gpu.amount", 0));
      UsageListener listener =
          new UsageListener(Runtime.getRuntime().maxMemory() / GB, gpus, gpuType, cores);
      listener.executors.put(
          "driver", new Executor(cores, gpus, listener.executorMemoryGb, now, Long.MAX_VALUE));
      return listener;
    }
    double memoryGb = conf.getSizeAsBytes("spark.executor.memory", "1g") / GB;
    double gpus = conf.getDouble("spark.executor.resource.gpu.amount", 0);
    // YARN and Kubernetes default to one core per executor; on standalone set spark.executor.cores
    // to be exact
    int cores = conf.getInt("spark.executor.cores", 1);
    UsageListener listener = new UsageListener(memoryGb, gpus, gpuType, cores);
    for (String id : JavaConverters.seqAsJavaList(sc.getExecutorIds())) {
      listener.executors.put(id, new Executor(cores, gpus, memoryGb, now, Long.MAX_VALUE));
    }
    return listener;
  }

  @Override
  public synchronized void onExecutorAdded(SparkListenerExecutorAdded added) {
    Option<ResourceInformation> gpu = added.executorInfo().resourcesInfo().get("gpu");
    double gpus = gpu.isDefined() ? gpu.get().addresses().length : gpusPerExecutor;
    Executor seeded = executors.get(added.executorId());
    long since = seeded == null ? added.time() : Math.min(seeded.addedMs(), added.time());
    executors.put(
        added.executorId(),
        new Executor(
            added.executorInfo().totalCores(), gpus, executorMemoryGb, since, Long.MAX_VALUE));
  }

  @Override
  public synchronized void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
    Executor e = executors.get(removed.executorId());
    if (e != null) {
      executors.put(
          removed.executorId(),
          new Executor(e.cores(), e.gpus(), e.memoryGb(), e.addedMs(), removed.time()));
    }
  }

  @Override
  public synchronized void onJobStart(SparkListenerJobStart start) {
    for (Object stage : JavaConverters.seqAsJavaList(start.stageIds())) {
      stageJob.put((Integer) stage, start.jobId());
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    TaskMetrics m = end.taskMetrics();
    boolean failed = !end.taskInfo().successful();
    StageUsage task;
    if (m == null) {
      task = new StageUsage(-1, end.stageId(), 1, failed ? 1 : 0, 0, 0, 0, 0, 0, 0);
    } else {
      task =
          new StageUsage(
              -1,
              end.stageId(),
              1,
              failed ? 1 : 0,
              (m.executorCpuTime() + m.executorDeserializeCpuTime()) / 1e9,
              m.executorRunTime() / 1e3,
              m.inputMetrics().bytesRead(),
              m.outputMetrics().bytesWritten(),
              m.shuffleReadMetrics().totalBytesRead(),
              m.shuffleWriteMetrics().bytesWritten());
    }
    synchronized (this) {
      int stage = end.stageId();
      stages.merge(stage, task, StageUsage::plus);
    }
  }

  /** The counters now: a job's usage is measured from here. */
  public synchronized Mark mark() {
    return new Mark(System.currentTimeMillis(), stages);
  }

  /**
   * What was used from {@code mark} until now; waits (at most 10 s) for the events already posted.
   */
  public Usage since(Mark mark, SparkContext sc) {
    awaitEvents(sc);
    return since(mark, System.currentTimeMillis());
  }

  synchronized Usage since(Mark mark, long toMs) {
    long fromMs = mark.atMs();
    double coreSeconds = 0;
    double gpuSeconds = 0;
    double memoryGbSeconds = 0;
    for (Executor e : executors.values()) {
      double seconds =
          Math.max(0, Math.min(e.removedMs(), toMs) - Math.max(e.addedMs(), fromMs)) / 1000.0;
      coreSeconds += seconds * e.cores();
      gpuSeconds += seconds * e.gpus();
      memoryGbSeconds += seconds * e.memoryGb();
    }
    List<StageUsage> delta = new ArrayList<>();
    StageUsage total = StageUsage.empty(-1, -1);
    for (Map.Entry<Integer, StageUsage> s : stages.entrySet()) {
      StageUsage before = mark.stages().get(s.getKey());
      StageUsage d = before == null ? s.getValue() : s.getValue().minus(before);
      if (d.tasks() > 0) {
        StageUsage withJob =
            new StageUsage(
                stageJob.getOrDefault(s.getKey(), -1),
                s.getKey(),
                d.tasks(),
                d.failedTasks(),
                d.cpuSeconds(),
                d.runSeconds(),
                d.inputBytes(),
                d.outputBytes(),
                d.shuffleReadBytes(),
                d.shuffleWriteBytes());
        delta.add(withJob);
        total = total.plus(withJob);
      }
    }
    // the task CPU measured cannot exceed what was reserved: clock granularity aside, a task's CPU
    // time is
    // inside its executor's lifetime; a task that began before the mark is counted whole, so cap it
    double used = Math.min(total.cpuSeconds(), coreSeconds);
    return new Usage(
        Instant.ofEpochMilli(fromMs),
        Instant.ofEpochMilli(toMs),
        coreSeconds,
        used,
        gpuSeconds,
        gpuSeconds > 0 ? gpuType : null,
        memoryGbSeconds,
        total.inputBytes(),
        total.outputBytes(),
        total.shuffleReadBytes(),
        total.shuffleWriteBytes(),
        total.tasks(),
        total.failedTasks(),
        (toMs - fromMs) / 1000.0,
        delta);
  }

  private static void awaitEvents(SparkContext sc) {
    if (sc == null || sc.isStopped()) {
      return;
    }
    try {
      // events are delivered asynchronously; a job's last task-end events may still be queued
      sc.listenerBus().waitUntilEmpty();
    } catch (Exception e) {
      // a busy bus after 10 s: the usage is measured from the events delivered so far
    }
  }
}
