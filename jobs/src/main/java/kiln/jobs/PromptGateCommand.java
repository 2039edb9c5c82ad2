package kiln.jobs;

import static org.apache.spark.sql.functions.col;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.tracking.Tracking;
import kiln.cost.Cost;
import kiln.cost.TokenUsage;
import kiln.jobs.llmeval.EvalConfig;
import kiln.jobs.llmeval.Evaluation;
import kiln.jobs.llmeval.PromptGateConfig;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import kiln.llm.LlmJob;
import kiln.llm.LlmJobConfig;
import kiln.llm.LlmRunResult;
import kiln.llm.Prompt;
import kiln.llm.PromptRef;
import kiln.llm.PromptRegistry;
import kiln.llm.PromptTemplate;
import kiln.training.GateResult;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiln llm prompts gate}: a prompt version (or a new model behind it) takes the alias only
 * if, on a golden set, it does not regress against the version the alias points at.
 */
@Command(
    name = "gate",
    mixinStandardHelpOptions = true,
    description = {
      "Move an alias to a prompt version only if it does not regress on a golden set.",
      "Runs the candidate and the version behind the alias over the golden set, evaluates both the same",
      "way (judges, schema validity, cost per row, latency, errors, chosen metrics) and compares them.",
      "Cost per row: the engine's and the judges' tokens priced as `kiln llm run` and `kiln llm",
      "evaluate` price them (the config's price: and candidatePrice:, else the price catalog).",
      "Exit 1, with each failed criterion, on a fail. A first version (no alias yet) passes. A re-run",
      "reuses each side's completions."
    },
    footer = {
      "",
      "Exit codes: 0 promoted, 1 refused, 2 bad usage or input, 3 environment or internal."
    })
final class PromptGateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;

  // --prompt NAME/VERSION, as `kiln models gate --model models:/NAME/VERSION`: picocli's standard
  // --version option (the kiln version) leaves no room for a --version of the prompt
  @Option(
      names = "--prompt",
      required = true,
      paramLabel = "NAME/VERSION",
      description = "The candidate prompt version (also prompts:/NAME/VERSION).")
  String prompt;

  String name;
  String version;

  @Option(
      names = "--config",
      required = true,
      paramLabel = "GATE.yaml",
      description =
          "goldenSet, key, text, variable, reference, context, engine, candidateEngine, price,"
              + " candidatePrice, metrics, jsonSchema, labelField, judges, criteria, alias.")
  Path config;

  @Mixin JsonOption json;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    PromptRef ref = PromptRef.parse(prompt);
    if (ref.version() == null) {
      throw Errors.badInput(
          "--prompt " + prompt + " names an alias; the gate judges one version",
          "write --prompt " + ref.name() + "/VERSION");
    }
    name = ref.name();
    version = ref.version();
    PromptGateConfig gate = PromptGateConfig.read(config);
    KilnSettings kiln = sparkOptions.settings();
    GateResult result;
    PromptGateConfig.Side candidateSide;
    PromptGateConfig.Side championSide;
    try (Session session = new Session(kiln);
        Reporting reporting = Reporting.open(kiln, console)) {
      Tracking tracking = reporting.tracking();
      PromptRegistry registry = new PromptRegistry(tracking, System.getenv());
      Prompt candidate = registry.load(new PromptRef(name, version, null));
      String champion =
          tracking
              .versionByAlias(name, gate.alias())
              .map(Tracking.ModelVersion::version)
              .orElse(null);
      if (candidate.version().equals(champion)) {
        throw Errors.conflict(
            "version "
                + version
                + " of prompt "
                + name
                + " is already "
                + name
                + "@"
                + gate.alias(),
            "gate another version");
      }
      Datasets datasets = new Datasets(session.spark());
      DatasetRef golden = datasets.resolve(DatasetRef.parse(gate.goldenSet()));
      Path base = kiln.workdirPath().resolve("llm/gate").resolve(name).toAbsolutePath();
      // both sides' jobs checked (engine, price: and its currency) before either spends a token
      LlmJobConfig candidateJob =
          job(
              gate,
              golden,
              base,
              name,
              candidate.version(),
              gate.candidateEngine(),
              gate.candidatePrice());
      LlmJobConfig championJob =
          champion == null
              ? null
              : job(gate, golden, base, name, champion, gate.engine(), gate.price());
      LlmTokenCost.checkCurrency(candidateJob, kiln);
      if (championJob != null) {
        LlmTokenCost.checkCurrency(championJob, kiln);
      }
      candidateSide =
          side(session.spark(), reporting, console, kiln, gate, golden, base, candidateJob);
      championSide =
          championJob == null
              ? null
              : side(session.spark(), reporting, console, kiln, gate, golden, base, championJob);
      Map<String, Double> candidateMetrics = candidateSide.metrics();
      Map<String, Double> championMetrics =
          championSide == null ? Map.of() : championSide.metrics();
      List<GateResult.Criterion> criteria =
          champion == null
              ? List.of(
                  new GateResult.Criterion(
                      "champion",
                      true,
                      "no version is " + name + "@" + gate.alias() + " yet: the first passes"))
              : gate.criteria()
                  .compare(
                      candidateSide,
                      championSide,
                      gate.judges().stream().map(EvalConfig.Judge::name).toList());
      boolean promoted = criteria.stream().allMatch(GateResult.Criterion::passed);
      result =
          new GateResult(
              "prompts:/" + name,
              candidate.version(),
              champion,
              promoted,
              criteria,
              finite(candidateMetrics),
              finite(championMetrics));
      reporting.run(
          "prompt gate " + name + " " + version,
          Map.of("kiln.job", "prompt-gate"),
          run -> {
            Map<String, String> params = new LinkedHashMap<>();
            params.put("prompt", "prompts:/" + name + "/" + version);
            params.put("champion", champion == null ? "none" : "prompts:/" + name + "/" + champion);
            params.put("alias", gate.alias());
            params.put("golden_set", golden.toString());
            // the currency of the sides' cost_per_row metrics (MLflow metrics are numbers)
            params.put("cost_currency", candidateSide.currency());
            run.logParams(params);
            Map<String, Double> metrics = new LinkedHashMap<>();
            result.candidateMetrics().forEach((k, v) -> metrics.put("candidate." + k, v));
            result.championMetrics().forEach((k, v) -> metrics.put("champion." + k, v));
            run.logMetrics(metrics);
            run.setTags(
                Map.of(
                    "mlflow.prompt.name",
                    name,
                    "mlflow.prompt.version",
                    version,
                    "kiln.gate.promoted",
                    String.valueOf(promoted),
                    "kiln.gate.cost_currency",
                    candidateSide.currency()));
            if (promoted) {
              registry.setAlias(name, gate.alias(), candidate.version());
            }
            return null;
          });
    }
    console.result(costLine("candidate", candidateSide));
    if (championSide != null) {
      console.result(costLine("champion ", championSide));
    }
    for (GateResult.Criterion c : result.criteria()) {
      console.result((c.passed() ? "PASS " : "FAIL ") + c.name() + ": " + c.detail());
    }
    if (result.promoted()) {
      console.result(
          "Version "
              + version
              + " of prompt "
              + name
              + " is now "
              + name
              + "@"
              + gate.alias()
              + (result.champion() == null
                  ? " (the first)."
                  : "; it was version " + result.champion() + "."));
    }
    json.print(spec, Outcome.of(result, candidateSide, championSide));
    if (!result.promoted()) {
      StringBuilder failed = new StringBuilder();
      result
          .failed()
          .forEach(c -> failed.append("\n  - ").append(c.name()).append(": ").append(c.detail()));
      throw Errors.checkFailed(
          "the gate refused version "
              + version
              + " of prompt "
              + name
              + "; failed criteria:"
              + failed,
          name
              + "@"
              + gate.alias()
              + " stays version "
              + result.champion()
              + "; improve the prompt, or change the criteria in "
              + config
              + " if they are wrong");
    }
    return 0;
  }

  /**
   * One side's {@code kiln llm run} job over the golden set, into a table of its own so that a
   * re-run of the gate reuses its completions (the price is not part of the table's name: a new
   * price re-prices the same completions).
   */
  private static LlmJobConfig job(
      PromptGateConfig gate,
      DatasetRef golden,
      Path base,
      String name,
      String version,
      EngineConfig engine,
      kiln.llm.LlmPrice price) {
    String tag =
        "v"
            + version
            + "-"
            + PromptTemplate.sha256(golden + "\n" + new java.util.TreeMap<>(engine.parameters()))
                .substring(0, 12);
    return LlmJobConfig.builder()
        .input(golden.toString())
        .key(gate.key())
        .text(gate.text())
        .variable(gate.variable())
        .prompt(new PromptRef(name, version, null))
        .engine(engine)
        .output(base.resolve("completions-" + tag).toString())
        .maxErrorRate(1.0)
        .deduplicate(true)
        .blockLeaks(false)
        .price(price)
        .build();
  }

  /**
   * One side: its completions of the golden set (kiln llm run), joined with the golden set and
   * evaluated; the evaluation's aggregates with the side's tokens and cost per row, mean latency
   * and error rate.
   */
  private static PromptGateConfig.Side side(
      SparkSession spark,
      Reporting reporting,
      Console console,
      KilnSettings settings,
      PromptGateConfig gate,
      DatasetRef golden,
      Path base,
      LlmJobConfig job) {
    String name = job.prompt().name();
    String version = job.prompt().version();
    EngineConfig engine = job.engine();
    String tag = job.output().substring(job.output().lastIndexOf("completions-") + 12);
    PromptRegistry prompts = new PromptRegistry(reporting.tracking(), System.getenv());
    LlmRunResult generated =
        reporting.run(
            "prompt gate " + name + " " + version + ": completions",
            Map.of("kiln.job", "llm", JobCost.LLM_ENGINE, engine.type().toString()),
            run ->
                new LlmJob(spark, prompts, System.getenv(), console::step)
                    .run(job, run, base.resolve("pipelines")));
    Datasets datasets = new Datasets(spark);
    Dataset<Row> outputs =
        datasets
            .read(generated.output())
            .select(
                col(gate.key()).as("kiln_gate_key"),
                col("completion"),
                col("latency_ms"),
                col("error").as("llm_error"));
    Dataset<Row> goldenRows = datasets.read(golden);
    List<String> columns = List.of(goldenRows.columns());
    List<Column> select = new ArrayList<>();
    select.add(col(gate.key()));
    select.add(col(gate.text()).as(Evaluation.PROMPT));
    if (columns.contains(gate.reference())) {
      select.add(col(gate.reference()).as(Evaluation.REFERENCE));
    }
    if (columns.contains(gate.context())) {
      select.add(col(gate.context()).as(Evaluation.CONTEXT));
    }
    Dataset<Row> joined =
        goldenRows
            .select(select.toArray(Column[]::new))
            .join(outputs, col(gate.key()).eqNullSafe(col("kiln_gate_key")), "left")
            .drop("kiln_gate_key");
    String evaluated = base.resolve("evaluated-" + tag).toString();
    datasets.write(joined, evaluated, WriteOptions.of(WriteMode.OVERWRITE));
    EvalConfig eval = gate.evaluation(evaluated, base.resolve("evaluation-" + tag).toString());
    Evaluation.Result result =
        reporting.run(
            "prompt gate " + name + " " + version + ": evaluation",
            Map.of("kiln.job", "llm-evaluate"),
            run -> new Evaluation(spark, prompts, console::step).run(eval, run));
    Map<String, Double> metrics = new LinkedHashMap<>(result.aggregates());
    Row latency = joined.agg(functions.avg(col("latency_ms"))).collectAsList().get(0);
    PromptGateConfig.Side priced =
        priced(
            settings,
            generated.rows(),
            // the completions' tokens whether this run or an earlier one generated them: the
            // cost of the side, not of this run (whose own cost.tokens counts only new tokens)
            generated.model() == null
                ? null
                : JobCost.tokenUsage(generated, engine.type() == EngineType.LOCAL),
            result.tokenUsage());
    metrics.putAll(priced.metrics());
    metrics.put("latency_ms_mean", latency.isNullAt(0) ? Double.NaN : latency.getDouble(0));
    metrics.put("error_rate", generated.errorRate());
    return new PromptGateConfig.Side(metrics, priced.currency(), priced.costUnknown());
  }

  /**
   * A side's tokens and cost per row over {@code rows} golden rows: its engine's tokens ({@code
   * engine}; null: unknown) and its judges' ({@code judges}), priced by {@link JobCost#tokenCost}
   * as `kiln llm run` and `kiln llm evaluate` price theirs. Cost figures are absent when a price is
   * unknown, and the side says why.
   */
  static PromptGateConfig.Side priced(
      KilnSettings settings, long rows, TokenUsage engine, List<TokenUsage> judges) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    double perRow = rows == 0 ? Double.NaN : 1.0 / rows;
    long engineTokens = engine == null ? 0 : engine.promptTokens() + engine.completionTokens();
    long judgeTokens =
        judges.stream().mapToLong(t -> t.promptTokens() + t.completionTokens()).sum();
    metrics.put(PromptGateConfig.TOKENS_PER_ROW, (engineTokens + judgeTokens) * perRow);
    metrics.put("engine_tokens_per_row", engineTokens * perRow);
    metrics.put("judge_tokens_per_row", judgeTokens * perRow);
    Cost judgeCost = JobCost.tokenCost(settings, judges);
    Cost engineCost;
    if (engine == null) {
      engineCost = null;
      unknown.add("the engine's model is not known");
    } else {
      engineCost = JobCost.tokenCost(settings, List.of(engine));
      unknown.addAll(engineCost.unknown());
    }
    unknown.addAll(judgeCost.unknown());
    if (engineCost != null && engineCost.tokens() != null) {
      metrics.put("engine_cost_per_row", engineCost.tokens() * perRow);
    }
    if (judgeCost.tokens() != null) {
      metrics.put("judge_cost_per_row", judgeCost.tokens() * perRow);
    }
    if (engineCost != null && engineCost.tokens() != null && judgeCost.tokens() != null) {
      metrics.put(
          PromptGateConfig.COST_PER_ROW, (engineCost.tokens() + judgeCost.tokens()) * perRow);
    }
    return new PromptGateConfig.Side(metrics, judgeCost.currency(), unknown);
  }

  /** The summary's line of a side's cost per row. */
  private static String costLine(String label, PromptGateConfig.Side side) {
    Map<String, Double> m = side.metrics();
    Double cost = m.get(PromptGateConfig.COST_PER_ROW);
    return String.format(
        java.util.Locale.ROOT,
        "Cost per row, %s: %s (engine %s, judges %s; %.1f tokens per row)",
        label,
        cost == null || !Double.isFinite(cost)
            ? "unknown: " + String.join("; ", side.costUnknown())
            : String.format(java.util.Locale.ROOT, "%.8f %s", cost, side.currency()),
        money(m.get("engine_cost_per_row")),
        money(m.get("judge_cost_per_row")),
        m.get(PromptGateConfig.TOKENS_PER_ROW));
  }

  private static String money(Double v) {
    return v == null || !Double.isFinite(v)
        ? "unknown"
        : String.format(java.util.Locale.ROOT, "%.8f", v);
  }

  /**
   * What {@code --json} prints: the gate's verdict, and the currency of both sides' cost per row
   * ({@code candidateMetrics.cost_per_row}, {@code championMetrics.cost_per_row}) with why a side's
   * cost is unknown.
   */
  record Outcome(
      String model,
      String candidate,
      String champion,
      boolean promoted,
      List<GateResult.Criterion> criteria,
      Map<String, Double> candidateMetrics,
      Map<String, Double> championMetrics,
      String currency,
      Map<String, List<String>> costUnknown) {
    static Outcome of(
        GateResult r, PromptGateConfig.Side candidate, PromptGateConfig.Side champion) {
      Map<String, List<String>> unknown = new LinkedHashMap<>();
      unknown.put("candidate", candidate.costUnknown());
      unknown.put("champion", champion == null ? List.of() : champion.costUnknown());
      return new Outcome(
          r.model(),
          r.candidate(),
          r.champion(),
          r.promoted(),
          r.criteria(),
          new java.util.TreeMap<>(r.candidateMetrics()),
          new java.util.TreeMap<>(r.championMetrics()),
          candidate.currency(),
          unknown);
    }
  }

  private static Map<String, Double> finite(Map<String, Double> metrics) {
    Map<String, Double> out = new LinkedHashMap<>();
    metrics.forEach(
        (k, v) -> {
          if (v != null && Double.isFinite(v)) {
            out.put(k, v);
          }
        });
    return out;
  }
}
