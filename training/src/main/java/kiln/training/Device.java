package kiln.training;

import java.util.List;
import kiln.core.Errors;
import kiln.core.GpuProbe;
import org.apache.spark.SparkConf;

/**
 * Where XGBoost trains. {@code cuda} on a machine without a GPU aborts the JVM natively inside
 * XGBoost, so {@link #resolve} refuses it before any XGBoost code runs.
 */
public enum Device {
  AUTO,
  CPU,
  CUDA;

  /** The device chosen for a session, and why (logged and recorded with the training run). */
  public record Choice(String device, String reason) {
    public Choice {
      java.util.Objects.requireNonNull(device, "device is null");
      java.util.Objects.requireNonNull(reason, "reason is null");
    }
  }

  /**
   * XGBoost's own device name ({@code cpu} or {@code cuda}) for the session, never cuda without a
   * GPU.
   */
  public String resolve(SparkConf conf, GpuProbe probe) {
    return decide(conf, probe).device();
  }

  /**
   * Where XGBoost trains, and why. XGBoost trains in Spark tasks, so what counts is where the tasks
   * run:
   *
   * <ul>
   *   <li>a local master ({@code local[...]}): the tasks run in this JVM, on this machine, so the
   *       session's GPU resources AND this machine's GPUs ({@code /dev/nvidia*}) are needed;
   *   <li>a cluster master (YARN, Kubernetes, standalone): the tasks run on executors, so the
   *       driver's own GPUs do not matter. Each executor must have GPUs ({@code
   *       spark.executor.resource.gpu.amount > 0}) and each task be given a share of one ({@code
   *       spark.task.resource.gpu.amount > 0}): Spark starts no executor whose discovery script
   *       does not find its GPUs, and schedules no task without its share, so cuda never runs on a
   *       machine without a GPU.
   * </ul>
   */
  public Choice decide(SparkConf conf, GpuProbe probe) {
    double executorGpus = gpuAmount(conf, "spark.executor.resource.gpu.amount");
    double taskGpus = gpuAmount(conf, "spark.task.resource.gpu.amount");
    String master = conf.get("spark.master", "local[*]");
    boolean local = master.startsWith("local");
    String resources =
        "spark.executor.resource.gpu.amount="
            + format(executorGpus)
            + ", spark.task.resource.gpu.amount="
            + format(taskGpus);
    if (this == CPU) {
      return new Choice("cpu", "device: cpu was asked for");
    }
    if (local) {
      boolean sessionHasGpus = executorGpus > 0 || taskGpus > 0;
      List<String> gpus = probe.gpus();
      if (sessionHasGpus && !gpus.isEmpty()) {
        return new Choice(
            "cuda",
            "master "
                + master
                + " runs the tasks on this machine, which has "
                + gpus.size()
                + " GPU(s) ("
                + String.join(", ", gpus)
                + "), and the session has GPU resources ("
                + resources
                + ")");
      }
      if (this == CUDA) {
        if (gpus.isEmpty()) {
          throw Errors.badInput(
              "device: cuda was asked for, but this machine has no GPU (no /dev/nvidia* device)",
              "use device: auto (cuda only when the session has GPUs) or device: cpu, or run on a GPU node");
        }
        throw noSessionGpus();
      }
      return new Choice(
          "cpu",
          "master "
              + master
              + " runs the tasks on this machine"
              + (gpus.isEmpty()
                  ? ", which has no GPU (no /dev/nvidia* device)"
                  : ", but the session has no GPU resources (" + resources + ")"));
    }
    if (executorGpus > 0 && taskGpus > 0) {
      return new Choice(
          "cuda",
          "master "
              + master
              + " runs the tasks on executors with GPUs ("
              + resources
              + "); the driver's own GPUs do not matter");
    }
    if (this == CUDA) {
      throw noSessionGpus();
    }
    return new Choice(
        "cpu",
        "master "
            + master
            + " runs the tasks on executors, and "
            + (executorGpus > 0
                ? "tasks are given no GPU (spark.task.resource.gpu.amount is not set)"
                : "the executors have no GPU resources")
            + " ("
            + resources
            + ")");
  }

  private static RuntimeException noSessionGpus() {
    return Errors.badInput(
        "device: cuda was asked for, but the Spark session has no GPU resources"
            + " (spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount are not both"
            + " set)",
        "start the job with the gpu profile (--profile gpu) or set spark.executor.resource.gpu.amount and"
            + " spark.task.resource.gpu.amount; or use device: auto");
  }

  private static String format(double amount) {
    return amount == Math.rint(amount) ? String.valueOf((long) amount) : String.valueOf(amount);
  }

  private static double gpuAmount(SparkConf conf, String key) {
    try {
      return Double.parseDouble(conf.get(key, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
