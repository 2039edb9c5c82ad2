package kiln.llm;

import java.util.ArrayList;
import java.util.List;
import kiln.llm.internal.LlmStage;
import kiln.llm.internal.OutputSchema;
import kiln.llm.internal.PromptRenderer;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The Spark NLP pipeline of one LLM job: DocumentAssembler (cleaning: whitespace shrunk) →
 * RegexMatcher (PII candidates) → Kiln's PiiRedactor (checks, overlaps, replacement) → Finisher
 * (redacted text out, every annotation column dropped, the personal chunks with them) → Kiln's
 * PromptRenderer → Kiln's LlmStage. Fitted, it is a PipelineModel that is saved with the run and
 * loads back.
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
    LlmStage llm = new LlmStage().setInputCol(PROMPT).setEngine(engine).setJsonSchema(schema);
    stages.add(renderer);
    stages.add(llm);
    return new Pipeline().setStages(stages.toArray(PipelineStage[]::new));
  }

  /** Fits the pipeline; only RegexMatcher learns (its rules), from no rows. */
  public static PipelineModel fit(Pipeline pipeline, Dataset<Row> input) {
    return pipeline.fit(input.limit(0));
  }

  /** The pipeline's LLM stage, to attach progress counters before it runs. */
  public static LlmStage llmStage(PipelineModel model) {
    return (LlmStage) model.stages()[model.stages().length - 1];
  }
}
