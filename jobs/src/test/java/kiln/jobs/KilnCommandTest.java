package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line as a user meets it: output, messages and exit codes. */
@ExtendWith(SharedSpark.class)
class KilnCommandTest {

  @Test
  void everyCommandHasHelp() {
    CommandLine root =
        Kiln.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    java.util.List<String> checked = new java.util.ArrayList<>();
    walk(root, new java.util.ArrayList<>(), checked);
    assertThat(checked)
        .contains(
            "kiln",
            "kiln ingest",
            "kiln datasets history",
            "kiln datasets show",
            "kiln data fetch",
            "kiln demo");
  }

  private static void walk(
      CommandLine command, java.util.List<String> path, java.util.List<String> checked) {
    if (command.getCommandName().equals("help")) {
      return;
    }
    java.util.List<String> args = new java.util.ArrayList<>(path);
    args.add("--help");
    KilnRun run = kiln(args.toArray(String[]::new));
    String name = command.getCommandSpec().qualifiedName();
    assertThat(run.exitCode()).as(name).isZero();
    assertThat(run.out()).as(name).contains("Usage: " + name);
    checked.add(name);
    for (var sub : command.getSubcommands().entrySet()) {
      java.util.List<String> next = new java.util.ArrayList<>(path);
      next.add(sub.getKey());
      walk(sub.getValue(), next, checked);
    }
  }

  @Test
  void ingestPrintsTheVersionAndCountsThenHistoryAndShowSeeIt(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Path csv = dir.resolve("in.csv");
    Files.writeString(csv, "id,amount\n1,10\n2,x\n3,30\n");
    Path schema = dir.resolve("schema.yaml");
    Files.writeString(
        schema, "columns:\n  - {name: id, type: int}\n  - {name: amount, type: int}\n");
    String table = dir.resolve("t").toString();

    String workdir = dir.resolve("work").toString();
    KilnRun ingest =
        kiln(
            "ingest",
            "--source",
            csv.toString(),
            "--format",
            "csv",
            "--output",
            table,
            "--schema",
            schema.toString(),
            "--workdir",
            workdir);
    assertThat(ingest.exitCode()).as(ingest.err()).isZero();
    assertThat(ingest.out())
        .contains("Ingested 2 rows into " + table + ", version 0")
        .contains("Quarantined 1 rows into " + table + "_quarantine, version 0");
    assertThat(ingest.err())
        .contains("MLflow tracking: embedded server at http://127.0.0.1:")
        .contains("MLflow run: http://");

    // the run is in the embedded server's store, which `kiln server` serves afterwards
    try (kiln.tracking.server.TrackingServer server =
        kiln.tracking.server.TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(Path.of(workdir, "mlflow"))
            .build()
            .start()) {
      var client = new org.mlflow.tracking.MlflowClient(server.uri().toString());
      String experimentId = client.getExperimentByName("kiln").orElseThrow().getExperimentId();
      var runs = client.searchRuns(java.util.List.of(experimentId), "tags.`kiln.job` = 'ingest'");
      assertThat(runs).hasSize(1);
      var run = client.getRun(runs.get(0).getRunId());
      assertThat(run.getInfo().getStatus().toString()).isEqualTo("FINISHED");
      assertThat(run.getData().getMetricsList())
          .extracting(m -> m.getKey() + "=" + m.getValue())
          .contains("rows=2.0", "quarantined_rows=1.0");
      assertThat(run.getData().getParamsList())
          .extracting(p -> p.getKey() + "=" + p.getValue())
          .contains("table=" + table, "format=csv", "mode=append");
      assertThat(run.getInputs().getDatasetInputsList())
          .extracting(i -> i.getTags(0).getValue() + " " + i.getDataset().getSource())
          .containsExactlyInAnyOrder(
              "output {\"path\":\"" + table + "\",\"delta_table_version\":0}",
              "quarantine {\"path\":\"" + table + "_quarantine\",\"delta_table_version\":0}");
    }

    KilnRun again =
        kiln(
            "ingest",
            "--source",
            csv.toString(),
            "--format",
            "CSV",
            "--output",
            table,
            "--schema",
            schema.toString(),
            "--workdir",
            workdir);
    assertThat(again.exitCode()).isZero();
    assertThat(again.out())
        .contains("Already ingested: " + table + "@0 holds this load (2 rows); nothing written.");

    KilnRun history = kiln("datasets", "history", table);
    assertThat(history.exitCode()).isZero();
    assertThat(history.out())
        .contains("History of " + table + " (1 version)")
        .containsPattern("0 .* WRITE .* append .* 2 .* ingest");

    KilnRun show = kiln("datasets", "show", table + "@0", "--limit", "1");
    assertThat(show.exitCode()).isZero();
    assertThat(show.out())
        .contains(table + "@0 (struct<id:int,amount:int>)")
        .contains("only showing top 1 row");

    KilnRun missingVersion = kiln("datasets", "show", table + "@4");
    assertThat(missingVersion.exitCode()).isEqualTo(2);
    assertThat(missingVersion.err())
        .contains("version 4 of " + table + " does not exist; it has versions 0")
        .doesNotContain("\tat ");
  }

  @Test
  void badInputExitsWithTwoAndAClearMessage(@TempDir Path dir) throws Exception {
    KilnRun unknownFormat = kiln("ingest", "--source", "x", "--format", "xml", "--output", "t");
    assertThat(unknownFormat.exitCode()).isEqualTo(2);
    assertThat(unknownFormat.err())
        .contains("Invalid value for option '--format'")
        .contains("but was 'xml'");

    KilnRun missingSource =
        kiln(
            "ingest",
            "--source",
            dir.resolve("none.csv").toString(),
            "--format",
            "csv",
            "--output",
            dir.resolve("t").toString(),
            "--workdir",
            dir.resolve("work").toString());
    assertThat(missingSource.exitCode()).isEqualTo(2);
    assertThat(missingSource.err())
        .contains("kiln: error: source " + dir.resolve("none.csv") + " does not exist")
        .contains("fix: ")
        .doesNotContain("\tat ");

    Path schema = dir.resolve("bad.yaml");
    Files.writeString(schema, "columns:\n  - {name: a, type: int, colour: red}\n");
    KilnRun badSchema =
        kiln(
            "ingest",
            "--source",
            "x",
            "--format",
            "csv",
            "--output",
            "t",
            "--schema",
            schema.toString());
    assertThat(badSchema.exitCode()).isEqualTo(2);
    assertThat(badSchema.err()).contains(schema + ":2:").contains("unknown key 'colour'");

    KilnRun notDelta = kiln("datasets", "history", dir.toString());
    assertThat(notDelta.exitCode()).isEqualTo(2);
    assertThat(notDelta.err()).contains("'" + dir + "' is not a Delta table");

    KilnRun malformed = kiln("datasets", "show", "/t@yesterday");
    assertThat(malformed.exitCode()).isEqualTo(2);
    assertThat(malformed.err()).contains("malformed dataset reference '/t@yesterday'");

    KilnRun verbose = kiln("--verbose", "datasets", "show", "/t@yesterday");
    assertThat(verbose.exitCode()).isEqualTo(2);
    assertThat(verbose.err()).contains("\tat kiln.core.DatasetRef");

    KilnRun unknownCommand = kiln("trian");
    assertThat(unknownCommand.exitCode()).isEqualTo(2);
    assertThat(unknownCommand.err()).contains("Unmatched argument at index 0: 'trian'");
  }

  @Test
  void ingestWithJsonPrintsItsResultRecordOnStandardOutputAndTheRestOnStandardError(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Path csv = dir.resolve("in.csv");
    Files.writeString(csv, "id,amount\n1,10\n2,x\n3,30\n");
    Path schema = dir.resolve("schema.yaml");
    Files.writeString(
        schema, "columns:\n  - {name: id, type: int}\n  - {name: amount, type: int}\n");
    String table = dir.resolve("t").toString();

    KilnRun ingest =
        kiln(
            "ingest",
            "--source",
            csv.toString(),
            "--format",
            "csv",
            "--output",
            table,
            "--schema",
            schema.toString(),
            "--workdir",
            dir.resolve("work").toString(),
            "--json");

    assertThat(ingest.exitCode()).as(ingest.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(ingest.out());
    assertThat(json.at("/table/table").asText()).isEqualTo(table);
    assertThat(json.at("/table/version").asLong()).isZero();
    assertThat(json.get("rows").asLong()).isEqualTo(2);
    assertThat(json.get("quarantined").asLong()).isEqualTo(1);
    assertThat(json.at("/quarantine/table").asText()).isEqualTo(table + "_quarantine");
    assertThat(json.get("alreadyIngested").asBoolean()).isFalse();
    assertThat(json.get("elapsed").asDouble()).isPositive();
    assertThat(ingest.err()).contains("Ingested 2 rows into " + table + ", version 0");

    KilnRun history = kiln("datasets", "history", table, "--json");
    assertThat(history.exitCode()).as(history.err()).isZero();
    JsonNode versions = new ObjectMapper().readTree(history.out());
    assertThat(versions.get("table").asText()).isEqualTo(table);
    assertThat(versions.get("versions")).hasSize(1);
    assertThat(versions.at("/versions/0/operation").asText()).isEqualTo("WRITE");

    KilnRun show = kiln("datasets", "show", table + "@0", "--limit", "5", "--json");
    assertThat(show.exitCode()).as(show.err()).isZero();
    JsonNode shown = new ObjectMapper().readTree(show.out());
    assertThat(shown.at("/table/version").asLong()).isZero();
    assertThat(shown.get("rows").findValuesAsText("amount")).containsExactlyInAnyOrder("10", "30");
  }

  @Test
  void anEmbeddedServerThatCannotStartIsAnEnvironmentErrorWithExitThree(@TempDir Path dir)
      throws Exception {
    Path csv = Files.writeString(dir.resolve("in.csv"), "id\n1\n");
    // the work directory, where the embedded server's store goes, is a file: no store can be made
    // there
    Path workdir = Files.writeString(dir.resolve("work"), "not a directory");
    String table = dir.resolve("t").toString();

    KilnRun run =
        kiln(
            "ingest",
            "--source",
            csv.toString(),
            "--format",
            "csv",
            "--output",
            table,
            "--workdir",
            workdir.toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err())
        .contains(
            "kiln: error: cannot start the embedded MLflow tracking server with its store in "
                + workdir.resolve("mlflow"))
        .contains("fix: make " + workdir.resolve("mlflow") + " a writable directory")
        .doesNotContain("internal error")
        .doesNotContain("\tat ");
    assertThat(dir.resolve("t")).doesNotExist();
  }

  @Test
  void aMissingSourceIsSaidBeforeTheTrackingServerStarts(@TempDir Path dir) {
    KilnRun run =
        kiln(
            "ingest",
            "--source",
            dir.resolve("none.csv").toString(),
            "--format",
            "csv",
            "--output",
            dir.resolve("t").toString(),
            "--workdir",
            dir.resolve("work").toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("source " + dir.resolve("none.csv") + " does not exist")
        .doesNotContain("MLflow");
    assertThat(dir.resolve("work/mlflow")).doesNotExist();
  }

  @Test
  void anUnknownCommandIsAnErrorEvenWithHelpAndListsTheCommands() {
    // `lineage` was the example here until it became a command (issue 13)
    KilnRun unknown = kiln("audit", "--help");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.out()).isEmpty();
    assertThat(unknown.err())
        .contains(
            "Unknown command 'audit' of kiln; the commands are: ingest, contracts, features,"
                + " train, models, score, datasets, data, drift, lineage, llm, prompts, pii, cost, monitor, gpu, cluster, demo,"
                + " server,"
                + " tracking");

    KilnRun nested = kiln("models", "promote", "--help");
    assertThat(nested.exitCode()).isEqualTo(2);
    assertThat(nested.err())
        .contains("Unknown command 'promote' of kiln models; the commands are: gate, rollback");

    KilnRun typo = kiln("trian");
    assertThat(typo.exitCode()).isEqualTo(2);
    assertThat(typo.err()).contains("Did you mean").contains("Commands:").contains("  train ");
  }

  @Test
  void everyCommandSummaryInTheHelpIsAWholeSentence() {
    CommandLine root =
        Kiln.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    java.util.List<String> summaries = new java.util.ArrayList<>();
    java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(root));
    while (!todo.isEmpty()) {
      CommandLine command = todo.pop();
      // picocli lists a command by its header, or else the first line of its description
      var usage = command.getCommandSpec().usageMessage();
      String summary = usage.header().length > 0 ? usage.header()[0] : usage.description()[0];
      summaries.add(command.getCommandSpec().qualifiedName() + ": " + summary);
      todo.addAll(command.getSubcommands().values());
    }
    assertThat(summaries)
        .hasSizeGreaterThan(15)
        .allSatisfy(s -> assertThat(s).matches("[a-z ]+: [A-Z].*[.]"));
  }

  @Test
  void theGateKeepsPicocliVersionOption() {
    KilnRun version = kiln("models", "gate", "--version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.out()).startsWith("kiln ").contains("Spark 3.5");
  }

  /** A command whose library prints to System.out, as llama.cpp's and Spark NLP's loaders do. */
  @CommandLine.Command(name = "chatty")
  static final class Chatty implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin JsonOption json;

    @Override
    public Integer call() {
      System.out.println("Extracted 'libjllama.so' to '/tmp/x'");
      json.print(spec, java.util.Map.of("ok", true));
      return 0;
    }
  }

  @Test
  void withJsonStandardOutputHoldsTheResultAloneWhatLibrariesPrintGoesToStandardError()
      throws Exception {
    java.io.PrintStream stdout = System.out;
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream streamOut = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream streamErr = new java.io.ByteArrayOutputStream();
    StringWriter out = new StringWriter();
    java.io.PrintStream capturedOut = new java.io.PrintStream(streamOut, true);
    try {
      System.setOut(capturedOut);
      System.setErr(new java.io.PrintStream(streamErr, true));
      CommandLine line = Kiln.commandLine(new PrintWriter(out, true), new PrintWriter(System.err));
      line.addSubcommand("chatty", new Chatty());
      line.setOut(new PrintWriter(out, true)); // as Kiln's own commands get it
      assertThat(line.execute("chatty", "--json")).isZero();
      assertThat(System.out).as("stdout restored after the command").isSameAs(capturedOut);
      // without --json the library's line stays where the library put it
      assertThat(line.execute("chatty")).isZero();
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    assertThat(new ObjectMapper().readTree(out.toString()).path("ok").asBoolean()).isTrue();
    assertThat(streamErr.toString()).contains("Extracted 'libjllama.so'");
    assertThat(streamOut.toString()).containsOnlyOnce("Extracted 'libjllama.so'");
  }
}
