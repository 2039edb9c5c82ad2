package kiln.contracts;

/**
 * The verdict on one rule.
 *
 * @param metric what was measured (completeness, rowCount, mean, ...)
 * @param column the column(s) the rule is about, comma-separated; null for table rules
 * @param value the measured value as the expectation reads it; null when nothing could be measured
 * @param expectation what the value had to be, for people
 * @param message why it failed or was skipped; null when it passed
 * @param rowLevel true when each breaking row can be named (and quarantined)
 */
public record RuleResult(
    String name,
    Severity severity,
    String metric,
    String column,
    Status status,
    Double value,
    String expectation,
    String message,
    boolean rowLevel) {

  public enum Status {
    PASSED,
    FAILED,
    /** not evaluated, because the schema differs or the rule is documentation only */
    SKIPPED;

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public boolean failed() {
    return status == Status.FAILED;
  }

  /** A failed rule of severity error: the contract is broken. */
  public boolean breaksContract() {
    return failed() && severity == Severity.ERROR;
  }
}
