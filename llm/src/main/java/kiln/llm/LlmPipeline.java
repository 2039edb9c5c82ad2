package kiln.llm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import kiln.llm.internal.GgufCompletions;
import kiln.llm.internal.LlmStage;
import kiln.llm.internal.OutputSchema;
import kiln.llm.internal.PromptRenderer;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.util.LongAccumulator;

/**
 * The Spark NLP pipeline of one LLM job: DocumentAssembler (cleaning: whitespace shrunk) →
 * RegexMatcher (PII candidates) → Kiln's PiiRedactor (checks, overlaps, replacement) → Finisher
 * (redacted text out, every annotation column dropped, the personal chunks with them) → Kiln's
 * PromptRenderer → the generation: Kiln's LlmStage, or, for a local engine where Spark NLP's
 * AutoGGUFModel runs ({@code engine.runtime}), Kiln's GgufLimits → DocumentAssembler →
 * AutoGGUFModel → Kiln's GgufCompletions. Fitted, it is a PipelineModel that is saved with the run
 * and loads back.
 *
 * <p>RegexMatcher reads the whole document, not sentences: a sentence detector splits text at the
 * dots of e-mail addresses and IPs, and the rules need no tokens.
 */
public final class LlmPipeline {
  /** Columns the pipeline adds that the job keeps. */
  public static final String REDACTED_TEXT = "redacted_text";

  public static final String REDACTIONS = "redactions";
  public static final String PROMPT = "prompt";
  public static final String PROMPT_SHA256 = "prompt_sha256";

  private LlmPipeline() {}

  /** The unfitted pipeline for a text column, a prompt and an engine. */
  public static Pipeline of(
      String textColumn,
      PiiConfig pii,
      PromptTemplate template,
      String variable,
      EngineConfig engine) {
    return of(textColumn, pii, template, variable, engine, null);
  }

  /** The same, with every completion held to a JSON schema (null: none). */
  public static Pipeline of(
      String textColumn,
      PiiConfig pii,
      PromptTemplate template,
      String variable,
      EngineConfig engine,
      OutputSchema schema) {
    List<PipelineStage> stages =
        new ArrayList<>(
            PiiPipeline.stages(textColumn, REDACTED_TEXT, REDACTIONS, "", pii, "shrink"));
    PromptRenderer renderer =
        new PromptRenderer()
            .setInputCol(REDACTED_TEXT)
            .setTemplate(template.text())
            .setVariable(variable)
            .setOutputCol(PROMPT)
            .setHashCol(PROMPT_SHA256);
    stages.add(renderer);
    if (kiln.llm.internal.SparkNlpGguf.use(engine)) {
      // a local engine on Spark NLP's AutoGGUFModel, when its binding is here (or asked for)
      stages.addAll(kiln.llm.internal.AutoGgufStages.stages(engine, schema, PROMPT));
    } else {
      stages.add(new LlmStage().setInputCol(PROMPT).setEngine(engine).setJsonSchema(schema));
    }
    return new Pipeline().setStages(stages.toArray(PipelineStage[]::new));
  }

  /** Fits the pipeline; only RegexMatcher learns (its rules), from no rows. */
  public static PipelineModel fit(Pipeline pipeline, Dataset<Row> input) {
    return pipeline.fit(input.limit(0));
  }

  /** The stages before the generation: redaction and rendering (through PromptRenderer). */
  public static Dataset<Row> prepare(PipelineModel model, Dataset<Row> rows) {
    Dataset<Row> prepared = rows;
    Transformer[] stages = model.stages();
    for (int i = 0; i < generationStart(model); i++) {
      prepared = stages[i].transform(prepared);
    }
    return prepared;
  }

  /** The whole pipeline over {@code rows}: prepared, then generated. */
  public static Dataset<Row> transform(PipelineModel model, Dataset<Row> rows) {
    return generation(model).transform(prepare(model, rows));
  }

  /** The pipeline's generation: the stages after PromptRenderer. */
  public static Generation generation(PipelineModel model) {
    Transformer[] stages = model.stages();
    return new Generation(
        List.of(Arrays.copyOfRange(stages, generationStart(model), stages.length)));
  }

  private static int generationStart(PipelineModel model) {
    Transformer[] stages = model.stages();
    for (int i = 0; i < stages.length; i++) {
      if (stages[i] instanceof PromptRenderer) {
        return i + 1;
      }
    }
    throw new IllegalStateException("the LLM pipeline has no PromptRenderer");
  }

  /**
   * Rendered prompts to completions, with Kiln's output columns (those of {@link LlmStage}): Kiln's
   * LlmStage alone, or Spark NLP's AutoGGUFModel between Kiln's limits and completions stages. On
   * that path only the prompts the limits let through reach AutoGGUFModel (it answers a batch per
   * annotation, so a row without a prompt document would shift its batch-mates' answers); the
   * refused rows carry their error, with no request.
   *
   * @param stages the pipeline's stages after PromptRenderer
   */
  public record Generation(List<Transformer> stages) {
    public Generation {
      stages = List.copyOf(stages);
    }

    /** Attaches the driver's progress counters (rows done, tokens done) before it runs. */
    public Generation withProgress(LongAccumulator rows, LongAccumulator tokens) {
      for (Transformer stage : stages) {
        if (stage instanceof LlmStage llm) {
          llm.withProgress(rows, tokens);
        } else if (stage instanceof GgufCompletions completions) {
          completions.withProgress(rows, tokens);
        }
      }
      return this;
    }

    /** Whether Spark NLP's AutoGGUFModel generates (else Kiln's LlmStage). */
    public boolean sparkNlp() {
      return stages.size() > 1;
    }

    public Dataset<Row> transform(Dataset<Row> prompts) {
      if (!sparkNlp()) {
        return stages.get(0).transform(prompts);
      }
      List<Column> columns = new ArrayList<>();
      for (String c : prompts.columns()) {
        columns.add(functions.col(c));
      }
      Dataset<Row> checked = stages.get(0).transform(prompts);
      Column refusedRow = functions.col(LlmStage.ERROR).isNotNull();
      List<Column> refusedColumns = new ArrayList<>(columns);
      refusedColumns.add(functions.lit(null).cast("string").as(LlmStage.COMPLETION));
      refusedColumns.add(functions.col(LlmStage.PROMPT_TOKENS));
      refusedColumns.add(functions.lit(null).cast("int").as(LlmStage.COMPLETION_TOKENS));
      refusedColumns.add(functions.lit(null).cast("string").as(LlmStage.FINISH_REASON));
      refusedColumns.add(functions.lit(0L).as(LlmStage.LATENCY_MS));
      refusedColumns.add(functions.lit(0).as(LlmStage.ATTEMPTS));
      refusedColumns.add(functions.col(LlmStage.ERROR));
      Dataset<Row> refused =
          checked.where(refusedRow).select(refusedColumns.toArray(Column[]::new));
      Dataset<Row> sent = checked.where(functions.not(refusedRow));
      for (Transformer stage : stages.subList(1, stages.size())) {
        sent = stage.transform(sent);
      }
      return sent.unionByName(refused);
    }
  }
}
