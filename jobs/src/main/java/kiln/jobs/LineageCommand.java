package kiln.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.lineage.FileTransport;
import kiln.lineage.LineageGraph;
import kiln.lineage.LineageHtml;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "lineage",
    mixinStandardHelpOptions = true,
    description = "Show where a table version or a model version came from and what used it.",
    subcommands = {LineageCommand.Show.class, ReproduceCommand.class})
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
        "Read from the OpenLineage events jobs wrote to WORKDIR/lineage/events.jsonl; warns about",
        "every recorded table version that Delta's VACUUM or log retention made unreadable."
      })
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Parameters(paramLabel = "TARGET", description = "TABLE@VERSION or models:/NAME/VERSION.")
    String target;

    @Option(
        names = "--html",
        paramLabel = "FILE",
        description = "Also write the graph as one self-contained HTML page (inline SVG).")
    Path html;

    @Option(
        names = "--column",
        paramLabel = "NAME",
        description = {
          "Show where column NAME of TABLE@VERSION came from: its source columns, how each reaches",
          "it (DIRECT/IDENTITY, TRANSFORMATION, AGGREGATION) and the columns that filter, join,",
          "group or sort the whole table (INDIRECT), from the runs' columnLineage facets."
        })
    String column;

    @Option(
        names = "--no-check",
        description =
            "Do not check that the recorded table versions are still readable (no Spark).")
    boolean noCheck;

    /**
     * What --json prints: the walks up and down from the target, and the recorded versions that can
     * no longer be read.
     */
    record Shown(
        String target,
        Path events,
        LineageGraph.Node upstream,
        LineageGraph.Node downstream,
        Map<String, String> unreadable,
        Path html,
        LineageGraph.Node column) {}

    @Override
    public Integer call() throws IOException {
      KilnSettings settings = sparkOptions.settings();
      Path events = settings.workdirPath().resolve("lineage").resolve(FileTransport.FILE_NAME);
      if (html != null && html.getParent() != null && !Files.isDirectory(html.getParent())) {
        throw Errors.notFound(
            "the directory of --html " + html + " does not exist", "create it, or write elsewhere");
      }
      LineageGraph graph = LineageGraph.read(events);
      if (column != null) {
        return showColumn(graph, events);
      }
      LineageGraph.Node upstream = graph.upstream(target);
      LineageGraph.Node downstream = graph.downstream(target);
      Console console = json.console(spec);
      Map<String, String> unreadable = new LinkedHashMap<>();
      if (!noCheck) {
        try (Session session = new Session(settings)) {
          unreadable.putAll(
              LineageChecks.unreadable(
                  new Datasets(session.spark()), LineageGraph.tables(upstream, downstream)));
        }
      }
      StringBuilder text =
          new StringBuilder()
              .append("Upstream of ")
              .append(target)
              .append(" (what it was made from):\n")
              .append(LineageGraph.text(upstream))
              .append("\n\nDownstream of ")
              .append(target)
              .append(" (what used it):\n")
              .append(LineageGraph.text(downstream));
      unreadable.forEach(
          (table, reason) ->
              text.append("\n\nwarning: ")
                  .append(table)
                  .append(" can no longer be read: ")
                  .append(reason));
      console.result(text.toString());
      if (html != null) {
        Files.writeString(html, LineageHtml.render(target, upstream, downstream, unreadable));
        console.result("Wrote the lineage graph to " + html + ".");
      }
      json.print(spec, new Shown(target, events, upstream, downstream, unreadable, html, null));
      return 0;
    }

    /** The column's own walk up its sources (no table-level walk, no Spark). */
    private int showColumn(LineageGraph graph, Path events) throws IOException {
      LineageGraph.Node walked = graph.column(target, column);
      Console console = json.console(spec);
      console.result(
          "Column "
              + column
              + " of "
              + target
              + " (where its values came from):\n"
              + LineageGraph.text(walked));
      if (html != null) {
        Files.writeString(
            html,
            LineageHtml.render(
                target + " column " + column,
                walked,
                new LineageGraph.Node(walked.kind(), walked.id(), walked.details(), List.of()),
                Map.of()));
        console.result("Wrote the column lineage graph to " + html + ".");
      }
      json.print(spec, new Shown(target, events, null, null, Map.of(), html, walked));
      return 0;
    }
  }
}
