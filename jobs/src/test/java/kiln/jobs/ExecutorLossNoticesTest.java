package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.Success$;
import org.apache.spark.TaskEndReason;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.scheduler.TaskLocality;
import org.junit.jupiter.api.Test;
import scala.Option;

/**
 * The line Kiln prints when Spark loses an executor mid-task, from Spark's own listener events in
 * either order (ExecutorKillIT sees it from a real executor's SIGKILL).
 */
class ExecutorLossNoticesTest {
  private final List<String> lines = new ArrayList<>();
  private final ExecutorLossNotices notices = new ExecutorLossNotices(lines::add);

  private static TaskInfo task(long id, String executor) {
    return new TaskInfo(
        id, (int) id, 0, (int) id, 0L, executor, "127.0.0.1", TaskLocality.PROCESS_LOCAL(), false);
  }

  private void start(long id, String executor) {
    notices.onTaskStart(new SparkListenerTaskStart(1, 0, task(id, executor)));
  }

  private void end(long id, String executor, TaskEndReason reason) {
    notices.onTaskEnd(
        new SparkListenerTaskEnd(1, 0, "ResultTask", reason, task(id, executor), null, null));
  }

  private static ExecutorLostFailure lostWith(String executor) {
    return new ExecutorLostFailure(executor, true, Option.apply("Command exited with code 137"));
  }

  private void removed(String executor, String reason) {
    notices.onExecutorRemoved(new SparkListenerExecutorRemoved(0L, executor, reason));
  }

  @Test
  void anExecutorRemovedWhileRunningATaskIsToldOnceAndItsTaskEndAfterwardsAddsNothing() {
    start(1, "1");
    start(2, "2");
    start(3, "1");
    end(3, "1", Success$.MODULE$);
    removed("1", "Command exited with code 137");
    end(1, "1", lostWith("1"));

    assertThat(lines)
        .containsExactly(
            "executor 1 lost (Command exited with code 137): Spark runs its 1 task again"
                + " elsewhere");
  }

  @Test
  void tasksThatEndedWithTheirExecutorBeforeItsRemovalAreCountedWithIt() {
    start(1, "1");
    start(2, "1");
    end(1, "1", lostWith("1"));
    end(2, "1", lostWith("1"));
    removed("1", "Worker lost\nmore detail");

    assertThat(lines)
        .containsExactly("executor 1 lost (Worker lost): Spark runs its 2 tasks again elsewhere");
  }

  @Test
  void anExecutorRemovedIdleOrAtTheEndPrintsNothing() {
    start(1, "2");
    end(1, "2", Success$.MODULE$);
    removed("2", "Executor killed by driver.");
    removed("3", "");

    assertThat(lines).isEmpty();
  }
}
