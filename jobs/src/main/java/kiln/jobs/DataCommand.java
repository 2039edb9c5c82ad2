package kiln.jobs;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import kiln.jobs.data.SampleData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Fetch Kiln's sample data.",
    subcommands = DataCommand.Fetch.class)
final class DataCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "fetch",
      mixinStandardHelpOptions = true,
      description = {
        "Fetch the flights sample data ("
            + SampleData.NPM_PACKAGE
            + ", 3M rows) with npm and print its path.",
        "Its sha256 is checked, and it is cached."
      })
  static final class Fetch implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--dir",
        paramLabel = "DIR",
        description = "Cache directory (default $KILN_DATA_DIR or ~/.cache/kiln/data).")
    Path dir;

    @picocli.CommandLine.Mixin JsonOption json;

    /** What --json prints: where the file is, and its checked sha256. */
    record Fetched(Path file, String sha256) {}

    @Override
    public Integer call() {
      Console console = json.console(spec);
      Path file =
          SampleData.flights(dir == null ? SampleData.defaultCacheDir() : dir, console::step);
      console.result(file.toString());
      json.print(spec, new Fetched(file, SampleData.SHA256));
      return 0;
    }
  }
}
