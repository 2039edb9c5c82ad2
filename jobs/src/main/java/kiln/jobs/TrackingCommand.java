package kiln.jobs;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.tracking.MlflowTracking;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tracking", mixinStandardHelpOptions = true, description = "Replay tracking events that a job spooled while its server was unreachable.",
    subcommands = TrackingCommand.Replay.class)
final class TrackingCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = {"Send what a job spooled while its tracking server was unreachable.",
          "A replay that stops half-way resumes where it stopped when run again."})
  static final class Replay implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "The spool file the job named.")
    Path file;

    @Option(names = "--tracking-uri", paramLabel = "URI", description = "The server (default $MLFLOW_TRACKING_URI).")
    String trackingUri;

    @Override
    public Integer call() {
      String uri = trackingUri != null ? trackingUri : KilnSettings.resolve(null, null, System.getenv()).trackingUri();
      if (uri == null) {
        throw Errors.badInput("no tracking server to replay to", "pass --tracking-uri URI or set MLFLOW_TRACKING_URI");
      }
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      int sent = MlflowTracking.replay(file, uri, System.getenv(), console::step);
      console.result("Replayed " + sent + " tracking event(s) from " + file + " to " + uri + ".");
      return 0;
    }
  }
}
