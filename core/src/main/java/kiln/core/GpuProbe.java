package kiln.core;

import java.io.File;
import java.util.List;

/**
 * Looks for what the gpu profile needs before any Spark or native code runs: a GPU on this machine
 * and the RAPIDS Accelerator on the classpath. Starting RAPIDS or XGBoost with cuda on a machine
 * without a GPU aborts the JVM natively, so this check must come first.
 */
public interface GpuProbe {

  /** The GPUs this machine has, as device names or paths; empty when there is none. */
  List<String> gpus();

  /** Whether the RAPIDS Accelerator's plugin class can be loaded. */
  boolean rapidsOnClasspath();

  /** The probe of the real machine: NVIDIA device files, and the RAPIDS plugin class. */
  static GpuProbe system() {
    return new GpuProbe() {
      @Override
      public List<String> gpus() {
        File[] devices = new File("/dev").listFiles((dir, name) -> name.matches("nvidia\\d+"));
        return devices == null
            ? List.of()
            : java.util.Arrays.stream(devices).map(File::getPath).sorted().toList();
      }

      @Override
      public boolean rapidsOnClasspath() {
        try {
          Class.forName(
              "com.nvidia.spark.SQLPlugin", false, Thread.currentThread().getContextClassLoader());
          return true;
        } catch (ClassNotFoundException | LinkageError e) {
          return false;
        }
      }
    };
  }
}
