package kiln.llm;

import com.johnsnowlabs.nlp.DocumentAssembler;
import com.johnsnowlabs.nlp.Finisher;
import com.johnsnowlabs.nlp.annotators.RegexMatcher;
import java.util.List;
import kiln.llm.internal.LlmStage;
import kiln.llm.internal.PiiRedactor;
import kiln.llm.internal.PiiRules;
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
      List<PiiEntity> entities,
      PromptTemplate template,
      String variable,
      EngineConfig engine) {
    DocumentAssembler document = new DocumentAssembler();
    document.setInputCol(textColumn);
    document.setOutputCol("document");
    document.setCleanupMode("shrink");
    RegexMatcher matcher =
        new RegexMatcher()
            .setRules(
                entities.stream()
                    .map(e -> PiiRules.regex(e) + "~" + e.name())
                    .toArray(String[]::new))
            .setDelimiter("~")
            .setStrategy("MATCH_ALL");
    matcher.setInputCols(new String[] {"document"});
    matcher.setOutputCol("pii_chunks");
    PiiRedactor redactor =
        new PiiRedactor()
            .setDocumentCol("document")
            .setChunkCol("pii_chunks")
            .setOutputCol("redacted")
            .setCountsCol(REDACTIONS)
            .setEntities(entities);
    Finisher finisher =
        new Finisher()
            .setInputCols(new String[] {"redacted"})
            .setOutputCols(new String[] {REDACTED_TEXT})
            .setOutputAsArray(false)
            .setCleanAnnotations(true);
    PromptRenderer renderer =
        new PromptRenderer()
            .setInputCol(REDACTED_TEXT)
            .setTemplate(template.text())
            .setVariable(variable)
            .setOutputCol(PROMPT)
            .setHashCol(PROMPT_SHA256);
    LlmStage llm = new LlmStage().setInputCol(PROMPT).setEngine(engine);
    return new Pipeline()
        .setStages(new PipelineStage[] {document, matcher, redactor, finisher, renderer, llm});
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
