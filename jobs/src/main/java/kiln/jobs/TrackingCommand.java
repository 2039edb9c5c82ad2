package kiln.jobs;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.tracking.MlflowTracking;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "tracking",
    mixinStandardHelpOptions = true,
    description = "Replay tracking events that a job spooled while its server was unreachable.",
    subcommands = TrackingCommand.Replay.class)
final class TrackingCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description = {
        "Send what jobs spooled while their tracking server was unreachable.",
        "Without FILE, every spool file in WORKDIR/tracking-spool is sent, oldest first. A replay that stops",
        "half-way resumes where it stopped when run again, and events already sent are not sent twice."
      })
  static final class Replay implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin WorkdirOptions workdirOptions;

    @Parameters(
        paramLabel = "FILE",
        arity = "0..1",
        description = "A spool file a job named (default: all in the work directory).")
    Path file;

    @Option(
        names = "--tracking-uri",
        paramLabel = "URI",
        description =
            "The server to send to (default: the settings' tracking.uri, then $MLFLOW_TRACKING_URI).")
    String trackingUri;

    @Override
    public Integer call() {
      KilnSettings settings = workdirOptions.settings(trackingUri);
      String uri = settings.trackingUri();
      if (uri == null) {
        throw Errors.badInput(
            "no tracking server to replay to",
            "pass --tracking-uri URI, set tracking.uri in the --settings file, or set MLFLOW_TRACKING_URI");
      }
      Path spool = settings.trackingSpool();
      List<Path> files = file != null ? List.of(file) : MlflowTracking.spoolFiles(spool);
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      if (files.isEmpty()) {
        console.result("Nothing to replay: " + spool + " holds no spool files.");
        return 0;
      }
      int total = 0;
      for (Path each : files) {
        int sent = MlflowTracking.replay(each, uri, System.getenv(), console::step);
        console.result(
            "Replayed "
                + sent
                + " tracking event(s) from "
                + each
                + " to "
                + kiln.core.Secrets.redact(uri)
                + ".");
        total += sent;
      }
      if (files.size() > 1) {
        console.result(
            "Replayed "
                + total
                + " tracking event(s) from "
                + files.size()
                + " spool files in "
                + spool
                + ".");
      }
      return 0;
    }
  }
}
