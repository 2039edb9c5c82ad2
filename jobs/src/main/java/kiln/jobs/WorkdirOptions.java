package kiln.jobs;

import java.nio.file.Path;
import kiln.core.KilnSettings;
import kiln.core.YamlFiles;
import picocli.CommandLine.Option;

/**
 * The settings file and the work directory, for the commands that run no Spark ({@code kiln
 * server}, {@code kiln tracking replay}); resolved as every command resolves them: flag over file
 * over environment.
 */
final class WorkdirOptions {
  @Option(
      names = "--settings",
      paramLabel = "FILE",
      description = "Kiln settings (YAML): tracking, workdir.")
  Path settings;

  @Option(
      names = "--workdir",
      paramLabel = "DIR",
      description = "Where local state goes (default .kiln).")
  Path workdir;

  /**
   * The settings, with {@code trackingUri} (null when not given) as the command line's tracking
   * server.
   */
  KilnSettings settings(String trackingUri) {
    KilnSettings fromFile = settings == null ? null : YamlFiles.read(settings, KilnSettings.class);
    KilnSettings commandLine =
        new KilnSettings(
            null,
            trackingUri == null ? null : new KilnSettings.Tracking(trackingUri, null),
            workdir == null ? null : workdir.toString());
    return KilnSettings.resolve(commandLine, fromFile, System.getenv());
  }
}
