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
import kiln.core.KilnSettings;
import kiln.core.PinnedTable;
import kiln.core.TableVersion;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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
    subcommands = {
      DatasetsCommand.History.class,
      DatasetsCommand.Show.class,
      DatasetsCommand.Pins.class,
      DatasetsCommand.Vacuum.class
    })
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

  @Command(
      name = "pins",
      mixinStandardHelpOptions = true,
      description =
          "List the registered, non-archived model versions that pin a version of a table (as"
              + " feature table, data table or a recorded input or output).")
  static final class Pins implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Parameters(paramLabel = "TABLE", description = "The table, a path or URI.")
    String table;

    /** What --json prints: the table and the model versions that pin it. */
    record Pinned(String table, List<TablePins.Pin> pins) {}

    @Override
    public Integer call() {
      DatasetRef ref = DatasetRef.parse(table);
      if (!ref.isLatest()) {
        throw Errors.badInput(
            "pins takes a table, not a version: " + table, "leave out the @ part");
      }
      Console console = json.console(spec);
      try (Reporting reporting = Reporting.open(sparkOptions.settings(), console)) {
        List<TablePins.Pin> pins = TablePins.find(reporting.tracking(), ref.table());
        console.result(formatPins(ref.table(), pins));
        json.print(spec, new Pinned(ref.table(), pins));
      }
      return 0;
    }
  }

  static String formatPins(String table, List<TablePins.Pin> pins) {
    if (pins.isEmpty()) {
      return "No registered, non-archived model version pins a version of " + table;
    }
    StringBuilder text = new StringBuilder("Versions of " + table + " pinned by model versions\n");
    text.append(
        String.format(Locale.ROOT, "%7s  %-30s  %-20s  %s%n", "version", "model", "aliases", "as"));
    for (TablePins.Pin pin : pins) {
      text.append(
          String.format(
              Locale.ROOT,
              "%7d  %-30s  %-20s  %s%n",
              pin.tableVersion(),
              pin.uri(),
              String.join(",", pin.aliases()),
              String.join(", ", pin.roles())));
    }
    return text.toString().stripTrailing();
  }

  /**
   * Delta refuses a retention under its default of 7 days unless its safety check is turned off.
   */
  static final double DELTA_MINIMUM_RETENTION_HOURS = 168;

  static final String RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled";

  static final String LISTING_PARALLELISM =
      "spark.sql.sources.parallelPartitionDiscovery.parallelism";

  @Command(
      name = "vacuum",
      mixinStandardHelpOptions = true,
      description =
          "Run Delta's VACUUM on a table, unless it would delete data files a version pinned by a"
              + " registered, non-archived model version needs (exit 1, naming them; nothing is"
              + " deleted).")
  static final class Vacuum implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Parameters(paramLabel = "TABLE", description = "The table, a path or URI.")
    String table;

    @Option(
        names = "--retain",
        paramLabel = "HOURS",
        description =
            "Keep files removed from the table less than HOURS ago (default: the table's"
                + " delta.deletedFileRetentionDuration, 168 h unless set).")
    Double retain;

    @Option(
        names = "--force-retention",
        description =
            "Allow --retain under Delta's 168 h safety minimum (only when no reader or writer"
                + " still uses an older snapshot); Delta's check is off for this VACUUM only.")
    boolean forceRetention;

    @Option(
        names = "--dry-run",
        description = "Check the pins and list the files VACUUM would delete; delete nothing.")
    boolean dryRun;

    /** A pinned table version that would lose data files, and the model versions that pin it. */
    record Loss(long tableVersion, int files, int filesNeeded, List<String> pinnedBy) {}

    /** What --json prints. */
    record Vacuumed(
        String table,
        Double retainHours,
        boolean dryRun,
        List<String> files,
        List<TablePins.Pin> pins,
        Map<Long, String> alreadyUnreadable) {}

    @Override
    public Integer call() {
      DatasetRef ref = DatasetRef.parse(table);
      if (!ref.isLatest()) {
        throw Errors.badInput(
            "vacuum takes a table, not a version: " + table, "leave out the @ part");
      }
      if (retain != null && (retain.isNaN() || retain < 0)) {
        throw Errors.badInput("--retain " + retain + " is negative", "give 0 hours or more");
      }
      if (retain != null && retain < DELTA_MINIMUM_RETENTION_HOURS && !forceRetention) {
        throw Errors.badInput(
            "--retain "
                + hours(retain)
                + " is under Delta's safety minimum of 168 hours: a reader or writer still on an"
                + " older snapshot could lose files it is reading",
            "add --force-retention if nothing else uses the table now, or give --retain 168 or"
                + " more");
      }
      Console console = json.console(spec);
      KilnSettings settings = sparkOptions.settings();
      try (Session session = new Session(settings);
          Reporting reporting = Reporting.open(settings, console)) {
        SparkSession spark = session.spark();
        Datasets datasets = new Datasets(spark);
        datasets.pin(ref); // a missing table fails here, exit 2, before anything else
        List<TablePins.Pin> pins = TablePins.find(reporting.tracking(), ref.table());
        List<String> doomed = vacuum(spark, ref.table(), true);
        java.util.Set<String> doomedPaths = new java.util.HashSet<>();
        doomed.forEach(f -> doomedPaths.add(pathOf(f)));

        Map<Long, List<String>> byVersion = new java.util.TreeMap<>();
        for (TablePins.Pin pin : pins) {
          byVersion
              .computeIfAbsent(pin.tableVersion(), v -> new java.util.ArrayList<>())
              .add(
                  pin.uri()
                      + (pin.aliases().isEmpty()
                          ? ""
                          : " (" + String.join(", ", pin.aliases()) + ")"));
        }
        List<Loss> losses = new java.util.ArrayList<>();
        Map<Long, String> alreadyUnreadable = new java.util.TreeMap<>();
        for (Map.Entry<Long, List<String>> entry : byVersion.entrySet()) {
          DatasetRef pinned = DatasetRef.atVersion(ref.table(), entry.getKey());
          java.util.Optional<String> unreadable = datasets.unreadable(pinned);
          if (unreadable.isPresent()) {
            // nothing left to protect: VACUUM cannot make it worse; say so
            alreadyUnreadable.put(entry.getKey(), unreadable.get());
            console.step(
                "version "
                    + entry.getKey()
                    + " pinned by "
                    + String.join(", ", entry.getValue())
                    + " is already unreadable: "
                    + unreadable.get());
            continue;
          }
          String[] needed =
              spark
                  .read()
                  .format("delta")
                  .option("versionAsOf", entry.getKey())
                  .load(ref.table())
                  .inputFiles();
          int lost = 0;
          for (String file : needed) {
            if (doomedPaths.contains(pathOf(file))) {
              lost++;
            }
          }
          if (lost > 0) {
            losses.add(new Loss(entry.getKey(), lost, needed.length, entry.getValue()));
          }
        }
        if (!losses.isEmpty()) {
          StringBuilder problem =
              new StringBuilder(
                  "VACUUM of "
                      + ref.table()
                      + (retain == null ? "" : " retaining " + hours(retain) + " hours")
                      + " would delete data files that pinned versions need; nothing was deleted:");
          for (Loss loss : losses) {
            problem.append(
                String.format(
                    Locale.ROOT,
                    "%n  version %d (%d of its %d data files) pinned by %s",
                    loss.tableVersion(),
                    loss.files(),
                    loss.filesNeeded(),
                    String.join(", ", loss.pinnedBy())));
          }
          throw Errors.checkFailed(
              problem.toString(),
              "archive those model versions (stage Archived) or delete them if they are no longer"
                  + " needed, or give a longer --retain; `kiln datasets pins "
                  + ref.table()
                  + "` lists every pin");
        }
        if (!dryRun) {
          vacuum(spark, ref.table(), false);
        }
        console.result(
            (dryRun ? "Dry run: VACUUM would delete " : "VACUUM deleted ")
                + doomed.size()
                + " file(s) of "
                + ref.table()
                + "; "
                + (pins.isEmpty()
                    ? "no model version pins it"
                    : pins.size() + " pin(s) checked, none loses a file"));
        if (dryRun) {
          doomed.forEach(console::result);
        }
        json.print(
            spec, new Vacuumed(ref.table(), retain, dryRun, doomed, pins, alreadyUnreadable));
      }
      return 0;
    }

    /** Runs VACUUM (or its DRY RUN, which lists the files it would delete). */
    private List<String> vacuum(SparkSession spark, String path, boolean dry) {
      String sql =
          "VACUUM delta.`"
              + path.replace("`", "``")
              + "`"
              + (retain == null ? "" : " RETAIN " + hours(retain) + " HOURS")
              + (dry ? " DRY RUN" : "");
      // Delta's safety check is the session's: off for this statement only, then as it was
      Map<String, String> conf = new java.util.LinkedHashMap<>();
      if (retain != null && retain < DELTA_MINIMUM_RETENTION_HOURS) {
        conf.put(RETENTION_CHECK, "false");
      }
      // Delta lists the table in spark.sql.sources.parallelPartitionDiscovery.parallelism tasks
      // (10,000 by default): on a local master that alone took 40-55 s per VACUUM of a two-file
      // table; there one task per core is as fast as it gets. A cluster keeps its setting.
      if (spark.sparkContext().isLocal()) {
        conf.put(LISTING_PARALLELISM, String.valueOf(spark.sparkContext().defaultParallelism()));
      }
      Map<String, scala.Option<String>> before = new java.util.LinkedHashMap<>();
      conf.forEach(
          (key, value) -> {
            before.put(key, spark.conf().getOption(key));
            spark.conf().set(key, value);
          });
      try {
        List<String> files = new java.util.ArrayList<>();
        for (Row row : spark.sql(sql).collectAsList()) {
          files.add(row.getString(0));
        }
        return dry ? files : List.of();
      } finally {
        before.forEach(
            (key, value) -> {
              if (value.isDefined()) {
                spark.conf().set(key, value.get());
              } else {
                spark.conf().unset(key);
              }
            });
      }
    }
  }

  /** A file's path without its scheme, so that {@code file:/x} and {@code file:///x} match. */
  static String pathOf(String file) {
    return new org.apache.hadoop.fs.Path(file).toUri().getPath();
  }

  static String hours(double hours) {
    return java.math.BigDecimal.valueOf(hours).stripTrailingZeros().toPlainString();
  }
}
