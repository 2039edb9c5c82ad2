package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kiln.core.KilnSettings;
import kiln.core.SparkProfile;
import kiln.core.SparkSettings;
import kiln.core.YamlFiles;
import picocli.CommandLine.Option;

/**
 * The options of every command that runs Spark, resolved with the settings file ({@code
 * --settings}; {@code --config} is always a job's own file) and the environment.
 */
final class SparkOptions {
  @Option(
      names = "--settings",
      paramLabel = "FILE",
      description = "Kiln settings (YAML): spark, tracking, workdir.")
  Path settings;

  @Option(
      names = "--profile",
      paramLabel = "PROFILE",
      description =
          "Where Spark runs: local (default, in this JVM), cluster (from spark-submit), gpu (RAPIDS).")
  SparkProfile profile;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master, e.g. local[4] or spark://host:7077.")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting; may repeat.")
  Map<String, String> conf = new LinkedHashMap<>();

  @Option(
      names = "--ui",
      description = "Start Spark's web UI (off by default in the local profile).")
  Boolean ui;

  @Option(
      names = "--workdir",
      paramLabel = "DIR",
      description = "Where local state goes (default .kiln).")
  Path workdir;

  @Option(
      names = "--tracking-uri",
      paramLabel = "URI",
      description =
          "MLflow tracking server (default $MLFLOW_TRACKING_URI; none: start the embedded server).")
  String trackingUri;

  @Option(
      names = "--experiment",
      paramLabel = "NAME",
      description = "MLflow experiment of the run (default kiln).")
  String experiment;

  @Option(
      names = "--tag",
      paramLabel = "KEY=VALUE",
      description = "Tag the job's cost record and run (e.g. team=risk, model=fraud); may repeat.")
  Map<String, String> tags = new LinkedHashMap<>();

  @Option(
      names = "--lineage-parent",
      paramLabel = "NAMESPACE/JOB/RUN_ID",
      description =
          "The OpenLineage parent run of this job's runs, e.g. an Airflow task's"
              + " (default $OPENLINEAGE_PARENT_ID).")
  String lineageParent;

  /**
   * The option names every Spark command shares; the README lists them once rather than per
   * command.
   */
  static final java.util.List<String> NAMES =
      java.util.List.of(
          "--settings",
          "--profile",
          "--master",
          "--conf",
          "--ui",
          "--workdir",
          "--tracking-uri",
          "--experiment",
          "--tag",
          "--lineage-parent");

  /**
   * --conf, with each --tag as {@code spark.kiln.tag.KEY} (where the settings file's tags live
   * too).
   */
  private Map<String, String> sparkConf() {
    Map<String, String> all = new LinkedHashMap<>(conf);
    tags.forEach((k, v) -> all.put(JobCost.TAG_PREFIX + k, v));
    return all;
  }

  KilnSettings settings() {
    KilnSettings fromFile = settings == null ? null : YamlFiles.read(settings, KilnSettings.class);
    KilnSettings commandLine =
        new KilnSettings(
            new SparkSettings(
                profile, master, ui, conf.isEmpty() && tags.isEmpty() ? null : sparkConf()),
            trackingUri == null && experiment == null
                ? null
                : new KilnSettings.Tracking(trackingUri, experiment),
            workdir == null ? null : workdir.toString());
    KilnSettings resolved = KilnSettings.resolve(commandLine, fromFile, System.getenv());
    // S3 keys and other credentials in the Spark conf are masked in every error Kiln prints
    if (resolved.spark() != null) {
      kiln.core.Secrets.rememberNamed(resolved.spark().conf());
    }
    return resolved;
  }
}
