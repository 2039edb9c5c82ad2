package kiln.llm;

import com.johnsnowlabs.nlp.DocumentAssembler;
import com.johnsnowlabs.nlp.Finisher;
import com.johnsnowlabs.nlp.annotators.RegexMatcher;
import java.util.ArrayList;
import java.util.List;
import kiln.llm.internal.PiiRedactor;
import kiln.llm.internal.PiiRules;
import org.apache.spark.ml.PipelineStage;

/**
 * The redaction stages for one text column, shared by {@code kiln pii redact} and the LLM pipeline:
 * DocumentAssembler → RegexMatcher (candidates of every regex type) → Kiln's PiiRedactor (checks,
 * phones through libphonenumber, overlaps, operators, counts) → Finisher (the redacted text out;
 * every annotation column, the chunks holding the personal data with them, dropped).
 */
public final class PiiPipeline {
  private PiiPipeline() {}

  /**
   * The stages reading {@code textColumn} and writing {@code redactedColumn} and {@code
   * countsColumn}; intermediate columns are prefixed with {@code prefix} and dropped by Finisher.
   *
   * @param cleanup DocumentAssembler's cleanup mode: {@code shrink} collapses whitespace (before a
   *     prompt), {@code disabled} keeps the text as it was (a redacted copy of a table)
   */
  public static List<PipelineStage> stages(
      String textColumn,
      String redactedColumn,
      String countsColumn,
      String prefix,
      PiiConfig pii,
      String cleanup) {
    DocumentAssembler document = new DocumentAssembler();
    document.setInputCol(textColumn);
    document.setOutputCol(prefix + "document");
    document.setCleanupMode(cleanup);
    List<String> rules = new ArrayList<>();
    for (PiiEntity e : pii.entities()) {
      rules.add(PiiRules.regex(e) + "~" + e.name());
    }
    if (rules.isEmpty()) {
      // RegexMatcher needs a rule; this one never matches
      rules.add("(?!)~NONE");
    }
    RegexMatcher matcher =
        new RegexMatcher()
            .setRules(rules.toArray(String[]::new))
            .setDelimiter("~")
            .setStrategy("MATCH_ALL");
    matcher.setInputCols(new String[] {prefix + "document"});
    matcher.setOutputCol(prefix + "pii_chunks");
    PiiRedactor redactor =
        new PiiRedactor()
            .setDocumentCol(prefix + "document")
            .setChunkCol(prefix + "pii_chunks")
            .setOutputCol(prefix + "redacted")
            .setCountsCol(countsColumn)
            .setPii(pii);
    Finisher finisher =
        new Finisher()
            .setInputCols(new String[] {prefix + "redacted"})
            .setOutputCols(new String[] {redactedColumn})
            .setOutputAsArray(false)
            .setCleanAnnotations(true);
    return List.of(document, matcher, redactor, finisher);
  }
}
