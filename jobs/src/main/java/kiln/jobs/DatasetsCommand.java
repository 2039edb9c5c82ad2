package kiln.jobs;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.PinnedTable;
import kiln.core.TableVersion;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "datasets",
    mixinStandardHelpOptions = true,
    description = "Look at versioned Delta tables.",
    subcommands = {DatasetsCommand.History.class, DatasetsCommand.Show.class})
final class DatasetsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description =
          "List the versions of a table: when, what operation, how many rows, by which job.")
  static final class History implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Parameters(paramLabel = "TABLE", description = "The table, a path or URI.")
    String table;

    /** What --json prints: the table and its versions, oldest first. */
    record Versions(String table, List<TableVersion> versions) {}

    @Override
    public Integer call() {
      DatasetRef ref = DatasetRef.parse(table);
      if (!ref.isLatest()) {
        throw Errors.badInput(
            "history takes a table, not a version: " + table, "leave out the @ part");
      }
      try (Session session = new Session(sparkOptions.settings())) {
        List<TableVersion> history = new Datasets(session.spark()).history(ref.table());
        json.console(spec).result(format(ref.table(), history));
        json.print(spec, new Versions(ref.table(), history));
      }
      return 0;
    }
  }

  static String format(String table, List<TableVersion> history) {
    DateTimeFormatter time =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    StringBuilder text =
        new StringBuilder(
            "History of "
                + table
                + " ("
                + history.size()
                + " version"
                + (history.size() == 1 ? "" : "s")
                + ")\n");
    text.append(
        String.format(
            Locale.ROOT,
            "%7s  %-19s  %-10s  %-9s  %12s  %s%n",
            "version",
            "time (UTC)",
            "operation",
            "mode",
            "rows written",
            "job"));
    for (TableVersion commit : history) {
      Map<String, String> metadata = Datasets.commitMetadata(commit);
      String mode = commit.operationParameters().getOrDefault("mode", "").toLowerCase(Locale.ROOT);
      String job =
          metadata.isEmpty()
              ? ""
              : metadata.getOrDefault("kiln.job", "")
                  + " "
                  + metadata.getOrDefault("kiln.source", "");
      text.append(
          String.format(
              Locale.ROOT,
              "%7d  %-19s  %-10s  %-9s  %12s  %s%n",
              commit.version(),
              time.format(commit.timestamp()),
              commit.operation(),
              mode,
              commit.outputRows().isPresent() ? Console.count(commit.outputRows().getAsLong()) : "",
              job.trim()));
    }
    return text.toString().stripTrailing();
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show the rows of a table at a version.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Parameters(
        paramLabel = "TABLE[@VERSION|@TIMESTAMP]",
        description = "The table and version to show.")
    String table;

    /** What --json prints: the version shown, its schema and its first rows as JSON objects. */
    record Shown(
        DatasetRef table, String schema, List<com.fasterxml.jackson.databind.JsonNode> rows) {}

    @Option(
        names = "--limit",
        paramLabel = "N",
        defaultValue = "20",
        description = "Rows to show (default 20).")
    int limit;

    @Override
    public Integer call() {
      if (limit < 0) {
        throw Errors.badInput("--limit " + limit + " is negative", "give a limit of 0 or more");
      }
      DatasetRef ref = DatasetRef.parse(table);
      try (Session session = new Session(sparkOptions.settings())) {
        Datasets datasets = new Datasets(session.spark());
        PinnedTable shown = datasets.pin(ref);
        DatasetRef pinned = shown.ref();
        Dataset<Row> rows = shown.rows();
        Console console = json.console(spec);
        console.result(pinned + " (" + rows.schema().simpleString() + ")");
        console.result(rows.showString(limit, 40, false).stripTrailing());
        if (json.json) {
          List<com.fasterxml.jackson.databind.JsonNode> parsed = new java.util.ArrayList<>();
          com.fasterxml.jackson.databind.ObjectMapper mapper =
              new com.fasterxml.jackson.databind.ObjectMapper();
          for (String row : rows.limit(limit).toJSON().collectAsList()) {
            try {
              parsed.add(mapper.readTree(row));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
              // Spark wrote this JSON itself
              throw new IllegalStateException("Spark wrote a row that is not JSON: " + row, e);
            }
          }
          json.print(spec, new Shown(pinned, rows.schema().simpleString(), parsed));
        }
      }
      return 0;
    }
  }
}
