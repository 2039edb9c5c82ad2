package kiln.jobs;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import kiln.lineage.FileTransport;
import kiln.lineage.LineageGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "lineage",
    mixinStandardHelpOptions = true,
    description = "Show where a table version or a model version came from and what used it.",
    subcommands = LineageCommand.Show.class)
final class LineageCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Show the runs upstream and downstream of a table version or a model version.",
        "Read from the OpenLineage events jobs wrote to WORKDIR/lineage/events.jsonl."
      })
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin WorkdirOptions workdirOptions;
    @Mixin JsonOption json;

    @Parameters(paramLabel = "TARGET", description = "TABLE@VERSION or models:/NAME/VERSION.")
    String target;

    /** What --json prints: the walks up and down from the target. */
    record Shown(
        String target, Path events, LineageGraph.Node upstream, LineageGraph.Node downstream) {}

    @Override
    public Integer call() {
      Path events =
          workdirOptions
              .settings(null)
              .workdirPath()
              .resolve("lineage")
              .resolve(FileTransport.FILE_NAME);
      LineageGraph graph = LineageGraph.read(events);
      LineageGraph.Node upstream = graph.upstream(target);
      LineageGraph.Node downstream = graph.downstream(target);
      Console console = json.console(spec);
      console.result(
          "Upstream of "
              + target
              + " (what it was made from):\n"
              + LineageGraph.text(upstream)
              + "\n\nDownstream of "
              + target
              + " (what used it):\n"
              + LineageGraph.text(downstream));
      json.print(spec, new Shown(target, events, upstream, downstream));
      return 0;
    }
  }
}
