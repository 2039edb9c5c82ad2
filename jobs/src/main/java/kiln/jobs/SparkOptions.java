package kiln.jobs;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of every command that runs Spark, resolved with the settings file and the environment. The
 * settings file is {@code --config}; commands whose {@code --config} is their job's own file use
 * {@link JobSparkOptions}, where it is {@code --settings}.
 */
final class SparkOptions extends SparkOptionsBase {
  @Option(names = "--config", paramLabel = "FILE", description = "Kiln settings (YAML): spark, tracking, workdir.")
  Path config;

  @Override
  Path settingsFile() {
    return config;
  }

  /** The same options, with the settings file as {@code --settings}. */
  static final class JobSparkOptions extends SparkOptionsBase {
    @Option(names = "--settings", paramLabel = "FILE", description = "Kiln settings (YAML): spark, tracking, workdir.")
    Path settings;

    @Override
    Path settingsFile() {
      return settings;
    }
  }
}
