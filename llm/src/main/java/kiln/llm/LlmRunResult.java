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
 * @param cacheHits distinct prompts the cache table answered instead of the engine
 * @param tokensSavedByCache tokens those answers would have spent
 * @param redactions entities redacted, by type
 * @param leaks personal data found in completions, by type
 * @param rowsWithLeaks rows whose completion held personal data
 * @param invalidOutputs rows whose completion was not JSON valid against the job's {@code
 *     jsonSchema} (each also an error); 0 without a schema
 * @param resumedRows rows an earlier, interrupted run of this job had committed (not generated
 *     again)
 * @param alreadyWritten true when an earlier run had written this very job (nothing was generated)
 * @param maxErrorRate the config's limit
 * @param pipeline where the fitted PipelineModel was saved (null when nothing ran)
 * @param engineHours the hours the engine worked for the rows that made a request: their latencies
 *     summed, divided by the local engine's slots (which decode in parallel)
 * @param price the job's own price for its model ({@code price:}; null without one): the run's
 *     token cost is priced where jobs are priced (the jobs module's cost), with this price in place
 *     of the catalog's entry for the model, so that a run has one token cost
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
    long cacheHits,
    long tokensSavedByCache,
    Map<String, Long> redactions,
    Map<String, Long> leaks,
    long rowsWithLeaks,
    long invalidOutputs,
    long resumedRows,
    boolean alreadyWritten,
    double maxErrorRate,
    String pipeline,
    double engineHours,
    LlmPrice price) {

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
            + " completion, %d tokens saved; %d cache hits, %d tokens saved), redacted %s, %d"
            + " completions with personal data %s%s%s%s",
        rows,
        errors,
        100 * errorRate(),
        100 * maxErrorRate,
        promptTokens,
        completionTokens,
        deduplicatedRows,
        tokensSaved,
        cacheHits,
        tokensSavedByCache,
        redactions.isEmpty() ? "nothing" : redactions,
        rowsWithLeaks,
        leaks.isEmpty() ? "" : leaks,
        invalidOutputs > 0
            ? ", " + invalidOutputs + " completions not valid against the JSON schema"
            : "",
        resumedRows > 0 && !alreadyWritten
            ? " (resumed: " + resumedRows + " rows were committed by an interrupted run)"
            : "",
        alreadyWritten ? " (already written by an earlier run)" : "");
  }
}
