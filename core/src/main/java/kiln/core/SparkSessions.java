package kiln.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the SparkSession of a job from its profile. The one place Kiln creates a session; code
 * below the command line receives it as a parameter.
 */
public final class SparkSessions {
  static final String DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
  static final String DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog";
  static final String GPU_CONF_RESOURCE = "kiln/spark-gpu.conf";

  /** Set to {@code skip} on clusters whose driver has no GPU though the executors do. */
  public static final String GPU_DRIVER_CHECK = "spark.kiln.gpu.driverCheck";

  private SparkSessions() {}

  /**
   * Whether {@code spark} runs the RAPIDS Accelerator (the gpu profile, or {@code kiln gpu check}'s
   * explain-only session): jobs then choose plans RAPIDS can run on a GPU where they have a choice.
   */
  public static boolean runsRapids(SparkSession spark) {
    return runsRapids(
        spark.conf().get("spark.plugins", ""),
        spark.conf().get("spark.rapids.sql.enabled", "true"));
  }

  /**
   * As {@link #runsRapids(SparkSession)}, for a session with this configuration (e.g. the gpu
   * profile's, before any session exists).
   */
  public static boolean runsRapids(SparkConf conf) {
    return runsRapids(conf.get("spark.plugins", ""), conf.get("spark.rapids.sql.enabled", "true"));
  }

  /** What xgboost4j-spark-gpu checks too before it takes its GPU data path (GpuXGBoostPlugin). */
  private static boolean runsRapids(String plugins, String sqlEnabled) {
    return plugins.contains("com.nvidia.spark.SQLPlugin") && !"false".equalsIgnoreCase(sqlEnabled);
  }

  public static SparkSession create(SparkSettings settings) {
    return create(settings, GpuProbe.system());
  }

  public static SparkSession create(SparkSettings settings, GpuProbe probe) {
    SparkConf conf = conf(settings, probe);
    if (settings.profile() == SparkProfile.GPU) {
      useMutableContextClassLoader();
    }
    return SparkSession.builder().config(conf).getOrCreate();
  }

  /**
   * The configuration a profile gives, with user settings on top. Settings already present in the
   * JVM (from spark-submit) are kept; Kiln only fills what is missing.
   */
  public static SparkConf conf(SparkSettings settings, GpuProbe probe) {
    SparkProfile profile = settings.profile() == null ? SparkProfile.LOCAL : settings.profile();
    SparkConf conf = new SparkConf(true);
    Map<String, String> user = settings.conf() == null ? Map.of() : settings.conf();
    user.forEach(conf::set);

    addDeltaExtension(conf);
    conf.setIfMissing("spark.sql.catalog.spark_catalog", DELTA_CATALOG);
    conf.setIfMissing("spark.app.name", "kiln");
    conf.setIfMissing("spark.ui.showConsoleProgress", "true");
    // parse failures of dates and timestamps become nulls (quarantined rows), not
    // SparkUpgradeExceptions
    conf.setIfMissing("spark.sql.legacy.timeParserPolicy", "CORRECTED");

    switch (profile) {
      case LOCAL -> {
        conf.setMaster(
            settings.master() != null ? settings.master() : KilnSettings.DEFAULT_LOCAL_MASTER);
        conf.setIfMissing("spark.driver.host", "127.0.0.1");
        conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        conf.set("spark.ui.enabled", String.valueOf(Boolean.TRUE.equals(settings.ui())));
        // Delta rebuilds table state in 50 tasks by default: far too many for one machine's tables
        conf.setIfMissing("spark.databricks.delta.snapshotPartitions", "4");
      }
      case CLUSTER -> {
        if (settings.master() != null) {
          conf.setMaster(settings.master());
        }
        requireMaster(conf, profile);
        if (settings.ui() != null) {
          conf.set("spark.ui.enabled", settings.ui().toString());
        }
      }
      case GPU -> {
        if (settings.master() != null) {
          conf.setMaster(settings.master());
        }
        // the GPU and RAPIDS first: without them no master helps
        checkGpu(conf, probe);
        requireMaster(conf, profile);
        gpuDefaults().forEach(conf::setIfMissing);
        if (!conf.contains("spark.task.resource.gpu.amount")) {
          int cores = conf.getInt("spark.executor.cores", 1);
          conf.set("spark.task.resource.gpu.amount", String.valueOf(1.0 / Math.max(1, cores)));
        }
      }
    }
    return conf;
  }

  private static void requireMaster(SparkConf conf, SparkProfile profile) {
    if (!conf.contains("spark.master")) {
      throw Errors.badInput(
          "the " + profile + " profile needs a Spark master, and none was given",
          "run the job with spark-submit (which sets it), pass --master URL, or use --profile local");
    }
  }

  private static void addDeltaExtension(SparkConf conf) {
    String existing = conf.get("spark.sql.extensions", "");
    if (!existing.contains(DELTA_EXTENSION)) {
      conf.set(
          "spark.sql.extensions",
          existing.isBlank() ? DELTA_EXTENSION : existing + "," + DELTA_EXTENSION);
    }
  }

  /**
   * The gpu profile's preconditions, checked before any Spark or native code runs (RAPIDS or
   * XGBoost's cuda on a machine without a GPU abort the JVM natively). Either missing is bad input
   * (exit 2): the same command fails again until the command line or the machine is changed.
   */
  private static void checkGpu(SparkConf conf, GpuProbe probe) {
    if (!probe.rapidsOnClasspath()) {
      throw Errors.badInput(
          "the gpu profile needs the NVIDIA RAPIDS Accelerator, and com.nvidia.spark.SQLPlugin is not on"
              + " the classpath",
          "add the jar with `spark-submit --jars rapids-4-spark_2.12-25.04.0-cuda12.jar ...`,"
              + " or run with --profile cluster (CPU)");
    }
    boolean skipDriverCheck = "skip".equalsIgnoreCase(conf.get(GPU_DRIVER_CHECK, "on"));
    if (!skipDriverCheck && probe.gpus().isEmpty()) {
      throw Errors.badInput(
          "the gpu profile found no GPU on this machine (no /dev/nvidia* device)",
          "run on a GPU node, run with --profile cluster or local (CPU), or, when only the executors"
              + " have GPUs, pass --conf "
              + GPU_DRIVER_CHECK
              + "=skip");
    }
  }

  static Map<String, String> gpuDefaults() {
    ClassLoader loader = SparkSessions.class.getClassLoader();
    try (InputStream in = loader.getResourceAsStream(GPU_CONF_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            GPU_CONF_RESOURCE + " is missing from kiln-core: the build is broken");
      }
      Properties properties = new Properties();
      properties.load(
          in); // spark-defaults syntax (key whitespace value) is java.util.Properties syntax
      Map<String, String> values = new LinkedHashMap<>();
      properties.stringPropertyNames().stream()
          .sorted()
          .forEach(k -> values.put(k, properties.getProperty(k).trim()));
      return values;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * RAPIDS loads its shims through the context class loader, as spark-submit sets it up (STACK.md
   * #7).
   */
  private static void useMutableContextClassLoader() {
    Thread thread = Thread.currentThread();
    ClassLoader current = thread.getContextClassLoader();
    if (!(current instanceof org.apache.spark.util.MutableURLClassLoader)) {
      thread.setContextClassLoader(
          new org.apache.spark.util.MutableURLClassLoader(new URL[0], current));
    }
  }
}
