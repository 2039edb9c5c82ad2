package kiln.gpu;

import java.util.LinkedHashMap;
import java.util.Map;
import kiln.core.Errors;

/** The RAPIDS Accelerator's explain-only mode, as Kiln starts it on a machine without a GPU. */
public final class Rapids {
  public static final String PLUGIN = "com.nvidia.spark.SQLPlugin";
  static final String VERSION = "25.04.0";
  static final String JAR = "rapids-4-spark_2.12-" + VERSION + ".jar";

  /**
   * Why Delta Lake's scans and writes stay on the CPU with this RAPIDS jar, whatever Kiln does:
   * RAPIDS 25.04 accelerates OSS Delta only up to 2.4 (Spark 3.4; its delta-20x..24x modules) and
   * Databricks' runtimes (spark350db143); on Apache Spark 3.5 it carries a stub. OSS Delta 3.3.x on
   * Spark 3.5.3+ came with RAPIDS 25.08 (the first user guide found listing it, Delta 3.3.0 to
   * 3.3.2; NVIDIA/spark-rapids#12853 moved it out of 25.06), not served here; Kiln's Delta is
   * 3.3.3.
   */
  public static final String DELTA_ON_SPARK_35 =
      "Delta Lake on Spark 3.5 not supported by RAPIDS 25.04 (OSS Delta 3.3.0-3.3.2 on Spark"
          + " 3.5.3+ came with RAPIDS 25.08; Kiln has Delta 3.3.3)";

  private Rapids() {}

  /**
   * Settings that load the plugin and have it judge every plan without touching a GPU. {@code
   * skipGpuArchitectureCheck} avoids RAPIDS 25.04's {@code System.exit(1)} when no CUDA driver is
   * there (upstream bug #12723, STACK.md #8). Adaptive execution is off so that each query is
   * judged once, whole: in explain-only mode nothing is columnar, so the stage re-plans of AQE
   * would report shuffle reads as falling back when on a GPU they would not.
   */
  public static Map<String, String> explainOnlyConf() {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.plugins", PLUGIN);
    conf.put("spark.rapids.sql.enabled", "true");
    conf.put("spark.rapids.sql.mode", "explainOnly");
    conf.put("spark.rapids.sql.explain", "ALL");
    conf.put("spark.rapids.skipGpuArchitectureCheck", "true");
    conf.put("spark.sql.adaptive.enabled", "false");
    // RAPIDS runs timestamp expressions on the GPU only in UTC
    conf.put("spark.sql.session.timeZone", "UTC");
    return conf;
  }

  /** Whether the RAPIDS Accelerator's plugin class can be loaded. */
  public static boolean onClasspath() {
    try {
      Class.forName(PLUGIN, false, Thread.currentThread().getContextClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * Stops with the fix when the jar is missing, before any Spark session starts: bad input (exit
   * 2), as the gpu profile without it, since the same command fails again until the classpath is
   * changed.
   */
  public static void requireOnClasspath() {
    if (!onClasspath()) {
      throw Errors.badInput(
          "the GPU check needs the NVIDIA RAPIDS Accelerator, and "
              + PLUGIN
              + " is not on the classpath",
          "bin/kiln puts it there (Maven fetches com.nvidia:rapids-4-spark_2.12:25.04.0); with"
              + " spark-submit add `--jars "
              + JAR
              + "`");
    }
  }
}
