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

  /**
   * XGBoost's own device name ({@code cpu} or {@code cuda}) for the session, never cuda without a
   * GPU.
   */
  public String resolve(SparkConf conf, GpuProbe probe) {
    boolean sessionHasGpus =
        gpuAmount(conf, "spark.executor.resource.gpu.amount") > 0
            || gpuAmount(conf, "spark.task.resource.gpu.amount") > 0;
    List<String> gpus = probe.gpus();
    return switch (this) {
      case CPU -> "cpu";
      case AUTO -> sessionHasGpus && !gpus.isEmpty() ? "cuda" : "cpu";
      case CUDA -> {
        if (gpus.isEmpty()) {
          throw Errors.badInput(
              "device: cuda was asked for, but this machine has no GPU (no /dev/nvidia* device)",
              "use device: auto (cuda only when the session has GPUs) or device: cpu, or run on a GPU node");
        }
        if (!sessionHasGpus) {
          throw Errors.badInput(
              "device: cuda was asked for, but the Spark session has no GPU resources"
                  + " (spark.executor.resource.gpu.amount is not set)",
              "start the job with the gpu profile (--profile gpu) or set spark.executor.resource.gpu.amount and"
                  + " spark.task.resource.gpu.amount; or use device: auto");
        }
        yield "cuda";
      }
    };
  }

  private static double gpuAmount(SparkConf conf, String key) {
    try {
      return Double.parseDouble(conf.get(key, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
