package kiln.llm;

import java.util.Map;
import kiln.core.DatasetRef;

/**
 * What an LLM job did.
 *
 * @param input the input, pinned to the version read
 * @param output the output table at the version holding this job's rows
 * @param prompt the prompt version used
 * @param model the model's name
 * @param modelDigest see {@link LlmJob#modelDigest}
 * @param rows rows of this job in the output
 * @param errors rows whose error is set
 * @param promptTokens spent (with deduplication, once per distinct prompt)
 * @param completionTokens spent (with deduplication, once per distinct prompt)
 * @param deduplicatedRows rows that shared another row's completion instead of a request
 * @param tokensSaved tokens those rows would have spent
 * @param redactions entities redacted, by type
 * @param alreadyWritten true when an earlier run had written this very job (nothing was generated)
 * @param maxErrorRate the config's limit
 * @param pipeline where the fitted PipelineModel was saved (null when nothing ran)
 */
public record LlmRunResult(
    DatasetRef input,
    DatasetRef output,
    Prompt prompt,
    String model,
    String modelDigest,
    long rows,
    long errors,
    long promptTokens,
    long completionTokens,
    long deduplicatedRows,
    long tokensSaved,
    Map<String, Long> redactions,
    boolean alreadyWritten,
    double maxErrorRate,
    String pipeline) {

  public double errorRate() {
    return rows == 0 ? 0 : (double) errors / rows;
  }

  /** More rows failed than the config allows: the job exits 1. */
  public boolean tooManyErrors() {
    return errorRate() > maxErrorRate;
  }

  public String summary() {
    return String.format(
        java.util.Locale.ROOT,
        "%d rows, %d failed (%.2f%%, limit %.2f%%), %d prompt + %d completion tokens (%d rows shared a"
            + " completion, %d tokens saved), redacted %s%s",
        rows,
        errors,
        100 * errorRate(),
        100 * maxErrorRate,
        promptTokens,
        completionTokens,
        deduplicatedRows,
        tokensSaved,
        redactions.isEmpty() ? "nothing" : redactions,
        alreadyWritten ? " (already written by an earlier run)" : "");
  }
}
