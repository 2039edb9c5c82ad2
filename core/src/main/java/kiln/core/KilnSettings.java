package kiln.core;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.util.Map;

/**
 * Settings shared by every command: the Spark profile, the tracking server and the work directory.
 * Read from {@code kiln.yaml} ({@code --settings}); precedence is resolved in {@link #resolve}
 * only.
 */
public record KilnSettings(SparkSettings spark, Tracking tracking, String workdir) {

  /**
   * The tracking server; a null URI means "start the embedded server in the work directory". Runs
   * go to {@code experiment} (default {@value #DEFAULT_EXPERIMENT}).
   */
  public record Tracking(
      @JsonProperty("uri") String uri, @JsonProperty("experiment") String experiment) {
    Tracking overriddenBy(Tracking higher) {
      if (higher == null) {
        return this;
      }
      return new Tracking(
          higher.uri != null ? higher.uri : uri,
          higher.experiment != null ? higher.experiment : experiment);
    }
  }

  public static final String DEFAULT_EXPERIMENT = "kiln";

  public static final String DEFAULT_LOCAL_MASTER = "local[*]";
  public static final String DEFAULT_WORKDIR = ".kiln";

  /** The defaults, in one place. */
  public static KilnSettings defaults() {
    return new KilnSettings(
        new SparkSettings(SparkProfile.LOCAL, null, false, Map.of()),
        new Tracking(null, DEFAULT_EXPERIMENT),
        DEFAULT_WORKDIR);
  }

  /**
   * What the environment sets: {@code KILN_PROFILE}, {@code KILN_WORKDIR}, {@code
   * MLFLOW_TRACKING_URI}.
   */
  public static KilnSettings fromEnvironment(Map<String, String> env) {
    SparkProfile profile = null;
    String profileName = env.get("KILN_PROFILE");
    if (profileName != null && !profileName.isBlank()) {
      try {
        profile = SparkProfile.valueOf(profileName.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw Errors.badInput(
            "environment variable KILN_PROFILE has the unknown profile '" + profileName + "'",
            "set it to local, cluster or gpu, or unset it");
      }
    }
    String uri = blankToNull(env.get("MLFLOW_TRACKING_URI"));
    return new KilnSettings(
        new SparkSettings(profile, null, null, null),
        uri == null ? null : new Tracking(uri, null),
        blankToNull(env.get("KILN_WORKDIR")));
  }

  /** Command-line flags over the YAML file over the environment over the defaults. */
  public static KilnSettings resolve(
      KilnSettings commandLine, KilnSettings file, Map<String, String> env) {
    return defaults()
        .overriddenBy(fromEnvironment(env))
        .overriddenBy(file)
        .overriddenBy(commandLine);
  }

  public KilnSettings overriddenBy(KilnSettings higher) {
    if (higher == null) {
      return this;
    }
    SparkSettings base = spark == null ? SparkSettings.unset() : spark;
    return new KilnSettings(
        base.overriddenBy(higher.spark),
        tracking == null ? higher.tracking : tracking.overriddenBy(higher.tracking),
        higher.workdir != null ? higher.workdir : workdir);
  }

  public Path workdirPath() {
    return Path.of(workdir == null ? DEFAULT_WORKDIR : workdir);
  }

  /** The embedded tracking server's store (database and artifacts): {@code WORKDIR/mlflow}. */
  public Path trackingStore() {
    return workdirPath().resolve("mlflow");
  }

  /** Where jobs spool what their tracking server did not take: {@code WORKDIR/tracking-spool}. */
  public Path trackingSpool() {
    return workdirPath().resolve("tracking-spool");
  }

  public String trackingUri() {
    return tracking == null ? null : tracking.uri();
  }

  public String experiment() {
    return tracking == null || tracking.experiment() == null
        ? DEFAULT_EXPERIMENT
        : tracking.experiment();
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }
}
