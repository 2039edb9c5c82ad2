package kiln.llm;

import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;

/**
 * What a PII redaction job did.
 *
 * @param input the input, pinned to the version read
 * @param output the output table at the version holding this job's rows
 * @param columns the columns redacted
 * @param rows rows of this job in the output
 * @param rowsWithPii rows in which at least one entity was redacted
 * @param redactions entities redacted, by type, over every column
 * @param alreadyWritten true when an earlier run had written this very job (nothing was redone)
 */
public record PiiRunResult(
    DatasetRef input,
    DatasetRef output,
    List<String> columns,
    long rows,
    long rowsWithPii,
    Map<String, Long> redactions,
    boolean alreadyWritten) {

  public String summary() {
    return String.format(
        java.util.Locale.ROOT,
        "%d rows, %d with personal data; redacted %s in %s%s",
        rows,
        rowsWithPii,
        redactions.isEmpty() ? "nothing" : redactions,
        columns,
        alreadyWritten ? " (already written by an earlier run)" : "");
  }
}
