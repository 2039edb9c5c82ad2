package kiln.jobs.llmeval;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import kiln.core.tracking.TrackedRun;
import kiln.cost.TokenUsage;
import kiln.jobs.TokenSpending;
import kiln.llm.EngineType;
import kiln.llm.LlmPipeline;
import kiln.llm.PiiConfig;
import kiln.llm.PiiPipeline;
import kiln.llm.Prompt;
import kiln.llm.PromptRegistry;
import kiln.llm.PromptTemplate;
import kiln.llm.internal.LlmStage;
import kiln.llm.internal.OutputSchema;
import kiln.text.EmbeddingModel;
import kiln.text.SentenceEmbeddings;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Evaluates a table of LLM completions row by row and in aggregate: length, refusals, PII leaks,
 * JSON-schema validity, exact match and classification metrics against references, embedding
 * similarities (to the reference, to the context: groundedness, to the prompt: relevance) with
 * Kiln's sentence embeddings, and LLM judges. The rows go to a Delta table, the aggregates to the
 * run. A composition of kiln-llm (PII detection, the judge's engine and prompts) and kiln-text
 * (embeddings), so it lives in jobs.
 */
public final class Evaluation {
  /** The canonical column names of the result rows. */
  public static final String PROMPT = "prompt";

  public static final String COMPLETION = "completion";
  public static final String REFERENCE = "reference";
  public static final String CONTEXT = "context";

  /** The rows kept as a JSON-lines artifact of the run when there are at most this many. */
  static final long ARTIFACT_ROWS = 10_000;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final PromptRegistry prompts;
  private final Consumer<String> progress;

  /**
   * The outcome of one evaluation.
   *
   * @param input the pinned input
   * @param output the version of the per-row table written
   * @param rows rows evaluated
   * @param metrics the per-row metrics computed
   * @param aggregates the aggregates logged to the run (rates, means, judge scores)
   * @param judgePrompts each judge's prompt version, e.g. {@code correctness -> prompts:/judge/2}
   * @param judgeTokens the tokens each judge's model read and wrote, one entry per judge, priced by
   *     the run's cost like an LLM job's
   */
  public record Result(
      DatasetRef input,
      DatasetRef output,
      long rows,
      List<String> metrics,
      Map<String, Double> aggregates,
      Map<String, String> judgePrompts,
      List<TokenUsage> judgeTokens)
      implements TokenSpending {
    public Result {
      Objects.requireNonNull(input, "input is null");
      Objects.requireNonNull(output, "output is null");
      metrics = List.copyOf(metrics);
      aggregates = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(aggregates));
      judgePrompts = Map.copyOf(judgePrompts);
      judgeTokens = List.copyOf(judgeTokens);
    }

    @Override
    public List<TokenUsage> tokenUsage() {
      return judgeTokens;
    }
  }

  public Evaluation(SparkSession spark, PromptRegistry prompts, Consumer<String> progress) {
    this.spark = Objects.requireNonNull(spark, "spark is null");
    this.prompts = Objects.requireNonNull(prompts, "prompts is null");
    this.progress = Objects.requireNonNull(progress, "progress is null");
  }

  /** Evaluates the configured table inside {@code run}. */
  public Result run(EvalConfig config, TrackedRun run) {
    Datasets datasets = new Datasets(spark);
    DatasetRef input = datasets.resolve(config.inputRef());
    Dataset<Row> table = datasets.read(input);
    List<String> available = List.of(table.columns());
    EvalConfig.Columns columns = config.columns();
    List<String> required = new ArrayList<>(List.of(config.key(), columns.completion()));
    List<String> missing = required.stream().filter(c -> !available.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("input " + input, missing, available);
    }
    List<String> metrics = config.metricsFor(available);
    // the canonical roles this evaluation reads, each from its configured column
    Map<String, String> roles = new LinkedHashMap<>();
    roles.put(COMPLETION, columns.completion());
    for (Map.Entry<String, String> role :
        Map.of(PROMPT, columns.prompt(), REFERENCE, columns.reference(), CONTEXT, columns.context())
            .entrySet()) {
      if (available.contains(role.getValue())) {
        roles.put(role.getKey(), role.getValue());
      }
    }
    if (roles.containsKey(config.key()) && !roles.get(config.key()).equals(config.key())) {
      throw Errors.badInput(
          "key column '" + config.key() + "' has the name of a result column",
          "rename the key column (the results have columns " + roles.keySet() + ")");
    }
    SentenceEmbeddings.checkColumns(
        table.schema(), List.copyOf(new LinkedHashSet<>(roles.values())), "input " + input);
    Map<EvalConfig.Judge, Prompt> judges = judgePrompts(config, roles.keySet());
    String schema = config.jsonSchema() == null ? null : readSchema(Path.of(config.jsonSchema()));

    List<Column> select = new ArrayList<>(List.of(col(config.key())));
    roles.forEach((role, column) -> select.add(col(column).as(role)));
    Dataset<Row> rows = table.select(select.toArray(Column[]::new));

    Column completion = col(COMPLETION);
    if (metrics.contains("length")) {
      rows =
          rows.withColumn("completion_chars", length(completion))
              .withColumn(
                  "completion_words",
                  when(completion.isNull(), lit(null).cast("int"))
                      .when(trim(completion).equalTo(""), lit(0))
                      .otherwise(functions.size(split(trim(completion), "\\s+"))));
    }
    if (metrics.contains("refusal")) {
      rows = rows.withColumn("refusal", completion.rlike(config.refusalPattern()));
    }
    if (metrics.contains("json_valid")) {
      rows = rows.withColumn("json_valid", jsonValid(schema).apply(completion));
    }
    if (metrics.contains("exact_match")) {
      rows = rows.withColumn("exact_match", trim(completion).equalTo(trim(col(REFERENCE))));
    }
    if (metrics.contains("classification")) {
      Column predicted =
          config.labelField() == null
              ? trim(completion)
              : trim(functions.get_json_object(completion, "$." + config.labelField()));
      rows =
          rows.withColumn("label", trim(col(REFERENCE))).withColumn("predicted_label", predicted);
    }
    if (metrics.contains("pii_leak")) {
      rows = piiLeaks(rows);
    }
    rows = similarities(rows, config, metrics);
    for (Map.Entry<EvalConfig.Judge, Prompt> judge : judges.entrySet()) {
      rows = judged(rows, config.key(), judge.getKey(), judge.getValue());
    }

    progress.accept(
        "evaluating "
            + input
            + " ("
            + String.join(", ", metrics)
            + (judges.isEmpty() ? "" : "; judges " + String.join(", ", names(judges)))
            + ")");
    WriteResult written =
        datasets.write(rows, config.output(), WriteOptions.of(WriteMode.OVERWRITE));
    Dataset<Row> results = datasets.read(written.written());
    Map<String, Double> aggregates = aggregates(results, metrics, judges.keySet());

    Map<String, String> judgePrompts = new TreeMap<>();
    judges.forEach((j, p) -> judgePrompts.put(j.name(), p.toString()));
    run.logInput(input, "evaluation");
    Map<String, String> params = new LinkedHashMap<>();
    params.put("input", input.toString());
    params.put("output", written.written().toString());
    params.put("metrics", String.join(",", metrics));
    params.put(
        "embeddings", config.embeddings() == null ? EmbeddingModel.DEFAULT : config.embeddings());
    Map<String, String> tags = new LinkedHashMap<>();
    judges.forEach(
        (j, p) -> {
          params.put("judge." + j.name() + ".prompt", p.toString());
          params.put("judge." + j.name() + ".model", j.engine().model());
          tags.put("kiln.judge." + j.name() + ".prompt_name", p.name());
          tags.put("kiln.judge." + j.name() + ".prompt_version", p.version());
        });
    run.logParams(params);
    if (!tags.isEmpty()) {
      run.setTags(tags);
    }
    run.logMetrics(finite(aggregates));
    if (written.rows() <= ARTIFACT_ROWS) {
      run.logText(
          String.join("\n", results.orderBy(col(config.key())).toJSON().collectAsList()) + "\n",
          "evaluation/rows.jsonl");
    }
    return new Result(
        input,
        written.written(),
        written.rows(),
        metrics,
        aggregates,
        judgePrompts,
        judgeTokens(aggregates, judges.keySet()));
  }

  /** Each judge's token totals (from the aggregates) as the cost module prices them. */
  static List<TokenUsage> judgeTokens(
      Map<String, Double> aggregates, Set<EvalConfig.Judge> judges) {
    List<TokenUsage> out = new ArrayList<>();
    for (EvalConfig.Judge judge : judges) {
      out.add(
          new TokenUsage(
              judge.engine().model(),
              tokens(aggregates.get(judge.name() + "_prompt_tokens")),
              tokens(aggregates.get(judge.name() + "_completion_tokens")),
              judge.engine().type() == EngineType.LOCAL));
    }
    return out;
  }

  private static long tokens(Double total) {
    return total == null || total.isNaN() ? 0L : Math.round(total);
  }

  private static List<String> names(Map<EvalConfig.Judge, Prompt> judges) {
    return judges.keySet().stream().map(EvalConfig.Judge::name).toList();
  }

  /** MLflow takes no NaN: an aggregate of no rows is reported in the result, not logged. */
  private static Map<String, Double> finite(Map<String, Double> aggregates) {
    Map<String, Double> out = new LinkedHashMap<>();
    aggregates.forEach(
        (k, v) -> {
          if (v != null && Double.isFinite(v)) {
            out.put(k, v);
          }
        });
    return out;
  }

  /**
   * Each judge's prompt version, checked before any token is spent: it must use {@code
   * {{completion}}}, and every variable it uses must be a column the table has.
   */
  private Map<EvalConfig.Judge, Prompt> judgePrompts(EvalConfig config, Set<String> roles) {
    Map<EvalConfig.Judge, Prompt> out = new LinkedHashMap<>();
    for (EvalConfig.Judge judge : config.judges()) {
      Prompt prompt = prompts.load(judge.prompt());
      Set<String> variables = prompt.template().variables();
      if (!variables.contains(COMPLETION)) {
        throw Errors.badInput(
            "judge prompt "
                + prompt
                + " of judge "
                + judge.name()
                + " does not use {{completion}}; its variables are "
                + variables,
            "register a version of the judge prompt that shows the judge the completion as"
                + " {{completion}} (and {{prompt}}, {{reference}}, {{context}} as it needs)");
      }
      Set<String> unbound = new TreeSet<>(variables);
      unbound.removeAll(roles);
      if (!unbound.isEmpty()) {
        throw Errors.badInput(
            "judge prompt "
                + prompt
                + " of judge "
                + judge.name()
                + " needs "
                + unbound
                + ", which the input has no column for (it binds "
                + roles
                + ")",
            "add the column to the input (e.g. reference answers for correctness) and map it under"
                + " columns, or use a judge prompt that does not need it");
      }
      out.put(judge, prompt);
    }
    return out;
  }

  private static String readSchema(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot read jsonSchema " + file + ": " + e.getMessage(), "check the path");
    }
    try {
      OutputSchema.of(JSON.readTree(text)); // the same check as kiln llm run's jsonSchema
    } catch (IOException | RuntimeException e) {
      throw Errors.badInput(
          "jsonSchema " + file + " is not a JSON schema: " + Errors.rootMessage(e),
          "give a JSON schema (draft 2020-12) file");
    }
    return text;
  }

  /** True when the completion is JSON (and, with a schema, follows it); null for no completion. */
  private static UserDefinedFunction jsonValid(String schema) {
    return functions.udf(new JsonValid(schema), DataTypes.BooleanType);
  }

  private static final class JsonValid implements UDF1<String, Boolean>, Serializable {
    private static final long serialVersionUID = 1L;
    private final OutputSchema schema; // kiln llm run's own check, so both judge a completion alike

    JsonValid(String schemaText) {
      this.schema = OutputSchema.fromText(schemaText).orElse(null);
    }

    @Override
    public Boolean call(String completion) {
      if (completion == null) {
        return null;
      }
      String text = completion.strip();
      if (schema != null) {
        return schema.check(text).isEmpty();
      }
      try {
        JsonNode node = JSON.readTree(text);
        return node != null && !node.isMissingNode();
      } catch (IOException e) {
        return false;
      }
    }
  }

  /** Kiln's PII detector (kiln-llm) over the completion: counts per type and a leak flag. */
  private static Dataset<Row> piiLeaks(Dataset<Row> rows) {
    List<PipelineStage> stages =
        PiiPipeline.stages(
            "kiln_eval_completion_copy",
            "kiln_eval_redacted",
            "completion_pii",
            "kiln_eval_",
            PiiConfig.defaults(),
            "disabled");
    Dataset<Row> input =
        rows.withColumn("kiln_eval_completion_copy", coalesce(col(COMPLETION), lit("")));
    PipelineModel model =
        new Pipeline().setStages(stages.toArray(PipelineStage[]::new)).fit(input.limit(0));
    return model
        .transform(input)
        .drop("kiln_eval_redacted", "kiln_eval_completion_copy")
        .withColumn(
            "pii_leak",
            when(col(COMPLETION).isNull(), lit(null).cast("boolean"))
                .otherwise(
                    functions.expr(
                        "aggregate(map_values(completion_pii), 0, (a, v) -> a + v) > 0")));
  }

  /**
   * The embedding similarities: every text the metrics need is embedded once (one long table of
   * key, role, text through one Spark NLP pipeline), then the cosines are joined back by key.
   */
  private Dataset<Row> similarities(Dataset<Row> rows, EvalConfig config, List<String> metrics) {
    Map<String, String> pairs = new LinkedHashMap<>();
    if (metrics.contains("similarity_to_reference")) {
      pairs.put("similarity_to_reference", REFERENCE);
    }
    if (metrics.contains("groundedness")) {
      pairs.put("groundedness", CONTEXT);
    }
    if (metrics.contains("relevance_to_query")) {
      pairs.put("relevance_to_query", PROMPT);
    }
    if (pairs.isEmpty()) {
      return rows;
    }
    List<String> roles = new ArrayList<>(List.of(COMPLETION));
    roles.addAll(pairs.values());
    Dataset<Row> texts = null;
    for (String role : roles) {
      Dataset<Row> one =
          rows.select(
              col(config.key()).as("kiln_eval_key"),
              lit(role).as("kiln_eval_role"),
              col(role).as("kiln_eval_text"));
      texts = texts == null ? one : texts.unionByName(one);
    }
    EmbeddingModel model =
        EmbeddingModel.resolve(
            config.embeddings() == null ? EmbeddingModel.DEFAULT : config.embeddings(), null);
    SentenceEmbeddings.Stages stages =
        SentenceEmbeddings.stages(spark, List.of("kiln_eval_text"), model, null);
    Dataset<Row> embedded = texts;
    for (Transformer stage : stages.stages()) {
      embedded = stage.transform(embedded);
    }
    // a null or empty text embeds as the zero vector: no similarity for it
    embedded =
        embedded
            .withColumn(
                "kiln_eval_vector",
                when(
                        col("kiln_eval_text").isNull().or(trim(col("kiln_eval_text")).equalTo("")),
                        lit(null))
                    .otherwise(col(stages.outputColumn())))
            .select("kiln_eval_key", "kiln_eval_role", "kiln_eval_vector")
            .persist(StorageLevel.MEMORY_AND_DISK());
    UserDefinedFunction cosine = functions.udf(new Cosine(), DataTypes.DoubleType);
    Dataset<Row> out = rows;
    Dataset<Row> completions = byRole(embedded, COMPLETION, "kiln_eval_completion_vector");
    Dataset<Row> joined =
        out.join(completions, out.col(config.key()).eqNullSafe(completions.col("k")));
    joined = joined.drop("k");
    for (Map.Entry<String, String> pair : pairs.entrySet()) {
      Dataset<Row> other = byRole(embedded, pair.getValue(), "kiln_eval_other_vector");
      joined =
          joined
              .join(other, joined.col(config.key()).eqNullSafe(other.col("k")))
              .drop("k")
              .withColumn(
                  pair.getKey(),
                  cosine.apply(col("kiln_eval_completion_vector"), col("kiln_eval_other_vector")))
              .drop("kiln_eval_other_vector");
    }
    return joined.drop("kiln_eval_completion_vector");
  }

  private static Dataset<Row> byRole(Dataset<Row> embedded, String role, String as) {
    return embedded
        .where(col("kiln_eval_role").equalTo(role))
        .select(col("kiln_eval_key").as("k"), col("kiln_eval_vector").as(as));
  }

  /** Cosine similarity of two vectors; null when either is missing or zero. */
  static final class Cosine implements UDF2<Vector, Vector, Double>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public Double call(Vector a, Vector b) {
      if (a == null || b == null || a.size() != b.size()) {
        return null;
      }
      double dot = 0;
      double na = 0;
      double nb = 0;
      for (int i = 0; i < a.size(); i++) {
        dot += a.apply(i) * b.apply(i);
        na += a.apply(i) * a.apply(i);
        nb += b.apply(i) * b.apply(i);
      }
      if (na == 0 || nb == 0) {
        return null;
      }
      return dot / Math.sqrt(na * nb);
    }
  }

  /**
   * One judge over every row: its prompt rendered from the row's columns, completed by its engine
   * through kiln-llm's pipeline, whose PII redaction (every entity type, replaced, as {@code kiln
   * llm run}'s default) runs over the rendered prompt so that no personal data of the rows reaches
   * a judge, read as a score and a rationale; an engine error or an answer without a score is the
   * row's judge error.
   */
  private Dataset<Row> judged(
      Dataset<Row> rows, String key, EvalConfig.Judge judge, Prompt prompt) {
    List<String> variables = List.copyOf(prompt.template().variables());
    List<Column> fields = variables.stream().map(v -> col(v).as(v)).toList();
    UserDefinedFunction render =
        functions.udf(new Render(prompt.template(), variables), DataTypes.StringType);
    Dataset<Row> requests =
        rows.select(
            col(key).as("kiln_judge_key"),
            render.apply(struct(fields.toArray(Column[]::new))).as("kiln_judge_prompt"));
    PipelineModel model =
        LlmPipeline.fit(
            LlmPipeline.of(
                "kiln_judge_prompt",
                // the same redaction as kiln llm run's: no personal data reaches a judge's prompt
                PiiConfig.defaults(),
                new PromptTemplate("{{text}}"),
                "text",
                judge.engine()),
            requests);
    UserDefinedFunction score =
        functions.udf(
            (UDF1<String, Double>) answer -> JudgeVerdict.parse(answer).score(),
            DataTypes.DoubleType);
    UserDefinedFunction rationale =
        functions.udf(
            (UDF1<String, String>) answer -> JudgeVerdict.parse(answer).rationale(),
            DataTypes.StringType);
    String name = judge.name();
    Dataset<Row> answers =
        LlmPipeline.transform(model, requests)
            .select(
                col("kiln_judge_key"),
                score.apply(col("completion")).as(name + "_score"),
                rationale.apply(col("completion")).as(name + "_rationale"),
                col(LlmStage.PROMPT_TOKENS).as(name + "_prompt_tokens"),
                col(LlmStage.COMPLETION_TOKENS).as(name + "_completion_tokens"),
                col("error").as("kiln_judge_engine_error"))
            .withColumn(
                name + "_error",
                when(col("kiln_judge_engine_error").isNotNull(), col("kiln_judge_engine_error"))
                    .when(col(name + "_score").isNull(), lit("the judge's answer has no score")))
            .drop("kiln_judge_engine_error");
    return rows.join(answers, rows.col(key).eqNullSafe(answers.col("kiln_judge_key")))
        .drop("kiln_judge_key");
  }

  private static final class Render implements UDF1<Row, String>, Serializable {
    private static final long serialVersionUID = 1L;
    private final PromptTemplate template;
    private final List<String> variables;

    Render(PromptTemplate template, List<String> variables) {
      this.template = template;
      this.variables = List.copyOf(variables);
    }

    @Override
    public String call(Row row) {
      Map<String, String> values = new HashMap<>();
      for (int i = 0; i < variables.size(); i++) {
        values.put(variables.get(i), row.isNullAt(i) ? "" : row.getString(i));
      }
      return template.render(values);
    }
  }

  /** The aggregates of the rows written: rates of the flags, means of the numbers. */
  static Map<String, Double> aggregates(
      Dataset<Row> results, List<String> metrics, Set<EvalConfig.Judge> judges) {
    List<String> names = new ArrayList<>(List.of("rows"));
    List<Column> aggs = new ArrayList<>(List.of(count(lit(1)).cast("double")));
    Map<String, String> rates = new LinkedHashMap<>();
    rates.put("refusal", "refusal_rate");
    rates.put("pii_leak", "pii_leak_rate");
    rates.put("json_valid", "json_valid_rate");
    rates.put("exact_match", "exact_match_rate");
    for (Map.Entry<String, String> rate : rates.entrySet()) {
      if (metrics.contains(rate.getKey())) {
        names.add(rate.getValue());
        aggs.add(avg(col(rate.getKey()).cast("double")));
      }
    }
    List<String> means = new ArrayList<>();
    if (metrics.contains("length")) {
      means.addAll(List.of("completion_chars", "completion_words"));
    }
    for (String similarity :
        List.of("similarity_to_reference", "groundedness", "relevance_to_query")) {
      if (metrics.contains(similarity)) {
        means.add(similarity);
      }
    }
    for (String mean : means) {
      names.add(mean + "_mean");
      aggs.add(avg(col(mean)));
    }
    for (EvalConfig.Judge judge : judges) {
      names.add(judge.name() + "_mean");
      aggs.add(avg(col(judge.name() + "_score")));
      names.add(judge.name() + "_error_rate");
      aggs.add(avg(when(col(judge.name() + "_error").isNotNull(), 1.0).otherwise(0.0)));
      // totals, not means: what the judge's model read and wrote over the whole table (its cost)
      for (String tokens : List.of("_prompt_tokens", "_completion_tokens")) {
        names.add(judge.name() + tokens);
        aggs.add(coalesce(sum(col(judge.name() + tokens)), lit(0L)).cast("double"));
      }
    }
    Row row =
        results
            .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new))
            .collectAsList()
            .get(0);
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      out.put(names.get(i), row.isNullAt(i) ? Double.NaN : ((Number) row.get(i)).doubleValue());
    }
    if (metrics.contains("classification")) {
      out.putAll(classification(results));
    }
    return out;
  }

  /**
   * Accuracy and macro-averaged precision, recall and F1 over the labels the references and the
   * predictions name (a class never predicted has precision 0; a row without a prediction counts as
   * wrong).
   */
  static Map<String, Double> classification(Dataset<Row> results) {
    List<Row> pairs =
        results
            .where(col("label").isNotNull())
            .groupBy(col("label"), coalesce(col("predicted_label"), lit("\u0000none")).as("p"))
            .count()
            .collectAsList();
    Map<String, long[]> perClass = new TreeMap<>(); // tp, fp, fn
    long total = 0;
    long correct = 0;
    for (Row r : pairs) {
      String label = r.getString(0);
      String predicted = r.getString(1);
      long n = r.getLong(2);
      total += n;
      perClass.computeIfAbsent(label, k -> new long[3]);
      if (label.equals(predicted)) {
        correct += n;
        perClass.get(label)[0] += n;
      } else {
        perClass.get(label)[2] += n;
        if (!predicted.equals("\u0000none")) {
          perClass.computeIfAbsent(predicted, k -> new long[3])[1] += n;
        }
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("accuracy", total == 0 ? Double.NaN : (double) correct / total);
    double p = 0;
    double rc = 0;
    double f1 = 0;
    for (long[] c : perClass.values()) {
      double precision = c[0] + c[1] == 0 ? 0 : (double) c[0] / (c[0] + c[1]);
      double recall = c[0] + c[2] == 0 ? 0 : (double) c[0] / (c[0] + c[2]);
      p += precision;
      rc += recall;
      f1 += precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }
    int k = perClass.size();
    out.put("precision_macro", k == 0 ? Double.NaN : p / k);
    out.put("recall_macro", k == 0 ? Double.NaN : rc / k);
    out.put("f1_macro", k == 0 ? Double.NaN : f1 / k);
    return out;
  }
}
