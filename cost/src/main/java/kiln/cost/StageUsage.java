package kiln.cost;

/**
 * What the tasks of one Spark stage (or, summed, one Spark job) used. {@code jobId} is -1 when the
 * stage's job is not known (a listener attached while the job was running).
 *
 * @param cpuSeconds task CPU time on executors (deserialization included)
 * @param runSeconds task run time on executors (wall time a task held its core)
 */
public record StageUsage(
    int jobId,
    int stageId,
    long tasks,
    long failedTasks,
    double cpuSeconds,
    double runSeconds,
    long inputBytes,
    long outputBytes,
    long shuffleReadBytes,
    long shuffleWriteBytes) {

  public StageUsage {
    if (tasks < 0 || failedTasks < 0 || failedTasks > tasks) {
      throw kiln.core.Errors.badInput(
          "stage " + stageId + ": " + failedTasks + " failed of " + tasks + " tasks",
          "tasks and failed tasks are counts, failed at most all");
    }
  }

  static StageUsage empty(int jobId, int stageId) {
    return new StageUsage(jobId, stageId, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  StageUsage plus(StageUsage o) {
    return new StageUsage(
        jobId,
        stageId,
        tasks + o.tasks,
        failedTasks + o.failedTasks,
        cpuSeconds + o.cpuSeconds,
        runSeconds + o.runSeconds,
        inputBytes + o.inputBytes,
        outputBytes + o.outputBytes,
        shuffleReadBytes + o.shuffleReadBytes,
        shuffleWriteBytes + o.shuffleWriteBytes);
  }

  StageUsage minus(StageUsage o) {
    return new StageUsage(
        jobId,
        stageId,
        tasks - o.tasks,
        failedTasks - o.failedTasks,
        cpuSeconds - o.cpuSeconds,
        runSeconds - o.runSeconds,
        inputBytes - o.inputBytes,
        outputBytes - o.outputBytes,
        shuffleReadBytes - o.shuffleReadBytes,
        shuffleWriteBytes - o.shuffleWriteBytes);
  }

  StageUsage asJob(int job) {
    return new StageUsage(
        job,
        -1,
        tasks,
        failedTasks,
        cpuSeconds,
        runSeconds,
        inputBytes,
        outputBytes,
        shuffleReadBytes,
        shuffleWriteBytes);
  }
}
