package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiln's notebooks (notebooks/*.ipynb) run headless in real Jupyter: the JJava kernel from PyPI (in
 * the venv bin/kiln-python-env jupyter builds) on this JVM's Java with Spark's JVM flags and the
 * jar users get (with what a Spark distribution holds), executed cell by cell with nbclient
 * (python/jupyter/run_notebook.py). Every cell must run without an error, except the ones tagged
 * raises-exception, which must show Kiln's message and no stack trace; key outputs are checked.
 */
class NotebooksIT {
  private static final Path HOME = Path.of(System.getProperty("kiln.home"));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path venv;
  private static Path jupyterPath;

  @BeforeAll
  static void jupyterWithTheKilnKernel(@TempDir Path dir) throws Exception {
    long start = System.nanoTime();
    Process build =
        new ProcessBuilder(HOME.resolve("bin/kiln-python-env").toString(), "jupyter")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String printed =
        new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(build.waitFor()).as("bin/kiln-python-env jupyter").isZero();
    venv = Path.of(printed);
    System.err.printf(
        "[NotebooksIT] Jupyter venv %s ready in %d s%n",
        venv, (System.nanoTime() - start) / 1_000_000_000);

    jupyterPath = dir.resolve("jupyter");
    String classpath =
        System.getProperty("kiln.jobsJar")
            + File.pathSeparator
            + Path.of(System.getProperty("kiln.sparkHome")).resolve("jars")
            + "/*";
    Process kernel =
        new ProcessBuilder(
                venv.resolve("bin/python").toString(),
                HOME.resolve("python/jupyter/kernel.py").toString(),
                "--out",
                jupyterPath.toString(),
                "--java",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--jvm-flags",
                System.getProperty("kiln.jvmFlags"),
                "--classpath",
                classpath,
                "--log-config",
                HOME.resolve("cluster-config/log4j2-cli.properties").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(kernel.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(kernel.waitFor()).as("kernel.py: " + out).isZero();
    JsonNode spec = JSON.readTree(jupyterPath.resolve("kernels/kiln-java/kernel.json").toFile());
    // the flags Spark needs on Java 17 reach the kernel's JVM
    assertThat(spec.path("argv").toString())
        .contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "jjava.jar");
  }

  /** Runs a notebook of notebooks/ and returns its executed copy. */
  private static JsonNode run(String name, Path dir) throws Exception {
    Path executed = dir.resolve(name + ".ipynb");
    Path log = dir.resolve(name + ".log");
    ProcessBuilder builder =
        new ProcessBuilder(
                venv.resolve("bin/python").toString(),
                HOME.resolve("python/jupyter/run_notebook.py").toString(),
                HOME.resolve("notebooks/" + name + ".ipynb").toString(),
                executed.toString(),
                "--timeout",
                "900")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("JUPYTER_PATH", jupyterPath.toString());
    long start = System.nanoTime();
    Process process = builder.start();
    assertThat(process.waitFor(30, TimeUnit.MINUTES)).as(name + " finished").isTrue();
    String output = Files.readString(log);
    System.err.printf(
        "[NotebooksIT] %s ran in %d s%n", name, (System.nanoTime() - start) / 1_000_000_000);
    assertThat(process.exitValue()).as(name + ": " + output).isZero();
    JsonNode notebook = JSON.readTree(executed.toFile());
    for (JsonNode cell : notebook.path("cells")) {
      if (!cell.path("cell_type").asText().equals("code")) {
        continue;
      }
      assertThat(cell.path("execution_count").isNumber()).as("executed: " + source(cell)).isTrue();
      boolean mayFail = cell.at("/metadata/tags").toString().contains("raises-exception");
      if (!mayFail) {
        assertThat(errors(cell)).as("errors of " + source(cell)).isEmpty();
      }
    }
    return notebook;
  }

  private static String source(JsonNode cell) {
    JsonNode source = cell.path("source");
    if (source.isArray()) {
      StringBuilder text = new StringBuilder();
      source.forEach(line -> text.append(line.asText()));
      return text.toString();
    }
    return source.asText();
  }

  /** The code cell whose source contains {@code fragment} (exactly one). */
  private static JsonNode cell(JsonNode notebook, String fragment) {
    List<JsonNode> found = new ArrayList<>();
    for (JsonNode cell : notebook.path("cells")) {
      if (cell.path("cell_type").asText().equals("code") && source(cell).contains(fragment)) {
        found.add(cell);
      }
    }
    assertThat(found).as("cells containing " + fragment).hasSize(1);
    return found.get(0);
  }

  private static String text(JsonNode value) {
    if (value.isArray()) {
      StringBuilder text = new StringBuilder();
      value.forEach(line -> text.append(line.asText()));
      return text.toString();
    }
    return value.asText();
  }

  /** What a cell printed on standard output, and the plain text of its results. */
  private static String stdout(JsonNode cell) {
    StringBuilder out = new StringBuilder();
    for (JsonNode output : cell.path("outputs")) {
      String type = output.path("output_type").asText();
      if (type.equals("stream") && output.path("name").asText().equals("stdout")) {
        out.append(text(output.path("text")));
      } else if (type.equals("execute_result") || type.equals("display_data")) {
        out.append(text(output.at("/data/text~1plain")));
      }
    }
    return out.toString();
  }

  /** A rich result of a cell (e.g. text/html), or "" when it has none. */
  private static String data(JsonNode cell, String mimeType) {
    for (JsonNode output : cell.path("outputs")) {
      JsonNode value = output.path("data").path(mimeType);
      if (!value.isMissingNode()) {
        return text(value);
      }
    }
    return "";
  }

  private static List<JsonNode> errors(JsonNode cell) {
    List<JsonNode> errors = new ArrayList<>();
    for (JsonNode output : cell.path("outputs")) {
      if (output.path("output_type").asText().equals("error")) {
        errors.add(output);
      }
    }
    return errors;
  }

  /** The one error a cell showed: Kiln's message with its fix line, and no stack frame. */
  private static String kilnError(JsonNode cell) {
    List<JsonNode> errors = errors(cell);
    assertThat(errors).as("errors of " + source(cell)).hasSize(1);
    String message = errors.get(0).path("evalue").asText();
    String traceback = text(errors.get(0).path("traceback"));
    assertThat(message).contains("kiln: error: ").contains("\n  fix: ");
    assertThat(traceback).contains("kiln.jobs.KilnError: kiln: error: ").doesNotContain("\tat ");
    return message;
  }

  private static double number(String text, String regex) {
    Matcher matcher = Pattern.compile(regex).matcher(text);
    assertThat(matcher.find()).as(regex + " in " + text).isTrue();
    return Double.parseDouble(matcher.group(1));
  }

  @Test
  void theQuickstartIngestsChecksTheContractAndShowsTheDriftReportInline(@TempDir Path dir)
      throws Exception {
    JsonNode notebook = run("quickstart", dir);

    String ingest = stdout(cell(notebook, "kiln.ingest("));
    assertThat(ingest)
        .containsPattern("Ingested 400 rows into \\S+/tables/orders, version 0")
        .containsPattern("Ingested 400 rows into \\S+/tables/orders, version 1")
        .contains("versions: 0, 1");

    String contract = stdout(cell(notebook, "kiln.checkContract("));
    assertThat(contract)
        .containsPattern("PASS +error +order_id.unique")
        .containsPattern("orders@0: PASSED, 0 error\\(s\\)")
        .contains("contract passed: true");

    String drift = stdout(cell(notebook, "kiln.drift("));
    assertThat(drift)
        .containsPattern("amount +feature +DRIFTED")
        .containsPattern("country +feature +STABLE")
        .doesNotContain("order_id")
        .contains("drifted: true");
    String report = data(cell(notebook, "report.putHTML("), "text/html");
    assertThat(report).startsWith("<!DOCTYPE html>").contains("amount").contains("country");

    String error = kilnError(cell(notebook, "@7\")"));
    assertThat(error)
        .containsPattern("version 7 of \\S+/tables/orders does not exist; it has versions 0 to 1");
  }

  @Test
  void theModelsNotebookTrainsGatesScoresAndShowsTheModelCard(@TempDir Path dir) throws Exception {
    JsonNode notebook = run("models", dir);

    assertThat(stdout(cell(notebook, "kiln.features(")))
        .containsPattern("Built 400 rows of features into \\S+/tables/features, version 0");
    String train = stdout(cell(notebook, "kiln.train("));
    assertThat(train).contains("Registered delays version 1 (device cpu");
    // evening flights and ORD departures are late: the generated data is easy to learn
    assertThat(number(train, "auc_roc (\\d\\.\\d+) on \\d+ test rows")).isGreaterThan(0.8);

    String gate = stdout(cell(notebook, "kiln.gate("));
    assertThat(gate)
        .contains("PASS min_auc_roc")
        .contains("Version 1 of delays is now champion (the first).")
        .contains("promoted: true");

    String score = stdout(cell(notebook, "kiln.score(\"models:/delays@champion\""));
    assertThat(score)
        .containsPattern("Scored 400 rows of \\S+/tables/features@0 with delays version 1")
        .contains("0 error rows")
        .contains("|flight_id");

    String card = data(cell(notebook, "kiln.modelCard("), "text/markdown");
    assertThat(card)
        .startsWith("# Model card: delays version 1")
        .contains("| auc_roc |")
        .containsPattern("feature table: `\\S+/tables/features` version 0");

    String error = kilnError(cell(notebook, "models:/delays/9"));
    assertThat(error).contains("model delays has no version 9; it has version 1");
  }

  @Test
  void theLlmNotebookRegistersAPromptRedactsAndRunsTheLocalEngine(@TempDir Path dir)
      throws Exception {
    JsonNode notebook = run("llm", dir);

    String prompt = stdout(cell(notebook, "kiln.registerPrompt("));
    assertThat(prompt)
        .contains("ticket-triage@production -> version 1")
        .contains("Classify this support ticket as billing, bug or other: {{text}}");

    String preview = stdout(cell(notebook, "kiln.previewPrompts("));
    // the personal data is gone before any prompt is rendered
    assertThat(preview)
        .doesNotContain("anna.berg@example.com")
        .doesNotContain("4111 1111 1111 1111")
        .doesNotContain("7946 0958")
        .contains("My card <CREDIT_CARD> was charged twice, mail me at <EMAIL_ADDRESS>")
        .contains("Call me back on <PHONE_NUMBER> about my refund")
        .contains("The app crashes when I open settings");

    String llm = stdout(cell(notebook, "kiln.llm(job)"));
    assertThat(llm)
        .contains("model tiny.gguf")
        .contains("3 rows, 0 failed")
        .contains("redacted {CREDIT_CARD=1, EMAIL_ADDRESS=1, PHONE_NUMBER=1}")
        .containsPattern("\\|1 +\\|1 +\\|\\d+ +\\|length +\\|NULL \\|");
    assertThat(number(llm, "(\\d+) completion tokens")).isPositive();

    String error = kilnError(cell(notebook, "ticket-triage/9"));
    assertThat(error).contains("prompt ticket-triage has no version 9; it has versions 1");
  }
}
