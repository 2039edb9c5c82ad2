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
    description =
        "Replay what jobs spooled while the tracking server was away; mark runs of killed drivers.",
    subcommands = {TrackingCommand.Replay.class, TrackingCommand.MarkKilled.class})
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

  @Command(
      name = "sweep",
      mixinStandardHelpOptions = true,
      description = {
        "Mark KILLED the RUNNING runs of an experiment whose driver is gone.",
        "A driver killed with SIGKILL (or crashed) cannot end its run; this marks it KILLED with a",
        "kiln.killedReason tag. Every job does this for its experiment as its run",
        "starts; this command does it without a job. A run records its driver's host, pid and start",
        "time: on this host a run is gone when no process with that pid and start time runs; a run",
        "of another host when it sent no heartbeat for --stale-after. Runs without these tags are",
        "left as they are."
      })
  static final class MarkKilled implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin WorkdirOptions workdirOptions;

    @Option(
        names = "--tracking-uri",
        paramLabel = "URI",
        description =
            "The server (default: the settings' tracking.uri, then $MLFLOW_TRACKING_URI, then the"
                + " embedded store in the work directory).")
    String trackingUri;

    @Option(
        names = "--experiment",
        paramLabel = "NAME",
        description = "The experiment (default: the settings' tracking.experiment).")
    String experiment;

    @Option(
        names = "--stale-after",
        paramLabel = "MINUTES",
        defaultValue = "10",
        description =
            "Minutes without a heartbeat after which a run of another host is taken as dead"
                + " (default: ${DEFAULT-VALUE}; a live driver beats every minute).")
    long staleAfterMinutes;

    @Override
    public Integer call() {
      if (staleAfterMinutes < 2) {
        throw Errors.badInput(
            "--stale-after "
                + staleAfterMinutes
                + " is too short: a live driver beats every minute",
            "give 2 minutes or more");
      }
      KilnSettings settings = workdirOptions.settings(trackingUri);
      String name = experiment != null ? experiment : settings.experiment();
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      try (Reporting reporting = Reporting.open(settings, console)) {
        List<String> marked =
            reporting.markDeadRuns(name, java.time.Duration.ofMinutes(staleAfterMinutes));
        marked.forEach(line -> console.result("MLflow " + line));
        console.result(
            "Marked "
                + marked.size()
                + " run(s) of experiment '"
                + name
                + "' KILLED"
                + (marked.isEmpty() ? ": no RUNNING run has a dead driver." : "."));
      }
      return 0;
    }
  }
}
