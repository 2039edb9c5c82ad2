package kiln.jobs;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.SparkSession;

/**
 * One progress line when Spark loses an executor that was running tasks ("executor 1 lost (...):
 * Spark runs its 1 task again elsewhere"). Spark says so only in WARN lines ("Lost task ..."),
 * which Kiln keeps off the console without {@code --verbose}; a job that then ends well would
 * otherwise hide that it lost work and ran it twice.
 *
 * <p>Spark posts the executor's removal straight to the listener bus and the end of each task it
 * was running through the DAG scheduler's loop, so either may come first: the tasks counted are
 * those still running on the executor when it is removed, and those that had already ended with its
 * loss ({@link ExecutorLostFailure}). An executor removed with no task (idle, or at the end of the
 * application) prints nothing.
 */
final class ExecutorLossNotices extends SparkListener {
  private static final Map<SparkContext, ExecutorLossNotices> ATTACHED = new WeakHashMap<>();

  private final Consumer<String> out;

  /** Per executor, the tasks running on it. */
  private final Map<String, Set<Long>> running = new HashMap<>();

  /** Per executor not yet removed, the tasks that ended with its loss. */
  private final Map<String, Set<Long>> lost = new HashMap<>();

  /** Executors whose loss has been told (a late task end of theirs was counted then). */
  private final Set<String> told = new LinkedHashSet<>();

  ExecutorLossNotices(Consumer<String> out) {
    this.out = requireNonNull(out, "out is null");
  }

  /** Attaches one listener per SparkContext (a notebook's session runs many commands). */
  static void attach(SparkSession spark, Consumer<String> out) {
    SparkContext sc = spark.sparkContext();
    synchronized (ATTACHED) {
      if (!ATTACHED.containsKey(sc)) {
        ExecutorLossNotices listener = new ExecutorLossNotices(out);
        sc.addSparkListener(listener);
        ATTACHED.put(sc, listener);
      }
    }
  }

  @Override
  public synchronized void onTaskStart(SparkListenerTaskStart start) {
    running
        .computeIfAbsent(start.taskInfo().executorId(), e -> new LinkedHashSet<>())
        .add(start.taskInfo().taskId());
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
    String executor = end.taskInfo().executorId();
    long task = end.taskInfo().taskId();
    Set<Long> tasks = running.get(executor);
    if (tasks != null) {
      tasks.remove(task);
    }
    if (end.reason() instanceof ExecutorLostFailure && !told.contains(executor)) {
      lost.computeIfAbsent(executor, e -> new LinkedHashSet<>()).add(task);
    }
  }

  @Override
  public synchronized void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
    String executor = removed.executorId();
    Set<Long> tasks = new LinkedHashSet<>(lost.getOrDefault(executor, Set.of()));
    tasks.addAll(running.getOrDefault(executor, Set.of()));
    lost.remove(executor);
    running.remove(executor);
    if (tasks.isEmpty()) {
      return;
    }
    told.add(executor);
    String reason =
        removed.reason() == null || removed.reason().isBlank()
            ? ""
            : " (" + removed.reason().strip().lines().findFirst().orElse("") + ")";
    out.accept(
        "executor "
            + executor
            + " lost"
            + reason
            + ": Spark runs its "
            + (tasks.size() == 1 ? "1 task" : tasks.size() + " tasks")
            + " again elsewhere");
  }
}
