package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.KilnSettings;
import kiln.jobs.llmeval.EvalConfig;
import kiln.jobs.llmeval.Evaluation;
import kiln.llm.PromptRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kiln llm evaluate}: a table of LLM completions scored row by row and in aggregate. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate a table of prompts and completions (with optional references and contexts).",
      "Per row: length, refusal, PII leak, JSON-schema validity, exact match, labels, embedding",
      "similarity to the reference, to the context (groundedness) and to the prompt (relevance),",
      "and LLM judges (a versioned judge prompt and a second model: score and rationale).",
      "The rows go to a Delta table; the aggregates and the judge prompts' versions to an MLflow run."
    },
    footer = {"", "Exit codes: 0 done, 2 bad usage or input, 3 environment or internal."})
final class LlmEvaluateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  @Option(
      names = "--config",
      required = true,
      paramLabel = "EVAL.yaml",
      description =
          "The evaluation: input, key, columns, metrics, jsonSchema, labelField, refusalPattern,"
              + " embeddings, judges, output.")
  Path config;

  @Mixin JsonOption json;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    EvalConfig eval = EvalConfig.read(config);
    KilnSettings kiln = sparkOptions.settings();
    try (Session session = new Session(kiln);
        Reporting reporting = Reporting.open(kiln, console)) {
      PromptRegistry prompts = new PromptRegistry(reporting.tracking(), System.getenv());
      Evaluation.Result result =
          reporting.run(
              "llm evaluate " + eval.input(),
              Map.of("kiln.job", "llm-evaluate"),
              run -> new Evaluation(session.spark(), prompts, console::step).run(eval, run));
      console.result("Rows: " + result.output() + " (" + result.rows() + " rows)");
      result.aggregates().forEach((k, v) -> console.result(String.format("  %-28s %.4f", k, v)));
      if (json.json) {
        spec.commandLine().getOut().println(JsonOption.write(json(result)));
        spec.commandLine().getOut().flush();
      }
      return 0;
    }
  }

  static Map<String, Object> json(Evaluation.Result r) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("input", r.input().toString());
    out.put("output", r.output().toString());
    out.put("rows", r.rows());
    out.put("metrics", r.metrics());
    Map<String, Object> aggregates = new LinkedHashMap<>();
    r.aggregates().forEach((k, v) -> aggregates.put(k, Double.isFinite(v) ? v : null));
    out.put("aggregates", aggregates);
    out.put("judge_prompts", r.judgePrompts());
    return out;
  }
}
