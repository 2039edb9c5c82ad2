package kiln.contracts;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import kiln.core.DatasetRef;

/**
 * The outcome of checking a dataset against a contract: it passes when no rule of severity error
 * failed and the schema matches. Warnings are reported and do not fail it.
 *
 * @param dataset the dataset checked, pinned to its version; null when a DataFrame was checked
 *     directly
 * @param rows rows in the dataset, or -1 when the schema differed and nothing was scanned
 * @param notChecked the contract's standard fields Kiln does not act on (team, price, SLAs,
 *     classifications, ...), by path with list indexes left out
 */
public record ContractResult(
    String contractId,
    String contractVersion,
    String object,
    DatasetRef dataset,
    long rows,
    Instant checkedAt,
    List<SchemaDifference> schemaDifferences,
    List<RuleResult> rules,
    List<MetricValue> metrics,
    Duration elapsed,
    List<String> notChecked) {

  public ContractResult {
    notChecked = notChecked == null ? List.of() : List.copyOf(notChecked);
    schemaDifferences = List.copyOf(schemaDifferences);
    rules = List.copyOf(rules);
    metrics = List.copyOf(metrics);
  }

  public boolean passed() {
    return schemaDifferences.isEmpty() && rules.stream().noneMatch(RuleResult::breaksContract);
  }

  public List<RuleResult> errors() {
    return rules.stream().filter(RuleResult::breaksContract).toList();
  }

  public List<RuleResult> warnings() {
    return rules.stream().filter(r -> r.failed() && r.severity() == Severity.WARNING).toList();
  }

  public long passedCount() {
    return rules.stream().filter(r -> r.status() == RuleResult.Status.PASSED).count();
  }

  public ContractResult withDataset(DatasetRef pinned) {
    return new ContractResult(
        contractId,
        contractVersion,
        object,
        pinned,
        rows,
        checkedAt,
        schemaDifferences,
        rules,
        metrics,
        elapsed,
        notChecked);
  }

  /**
   * One line for people: {@code contract flights 1.0.0 on /t@3: FAILED, 2 errors, 1 warning, 17
   * passed}.
   */
  public String summary() {
    return "contract "
        + contractId
        + " "
        + contractVersion
        + (dataset == null ? "" : " on " + dataset)
        + ": "
        + (passed() ? "PASSED" : "FAILED")
        + (schemaDifferences.isEmpty()
            ? ""
            : ", schema differs in " + schemaDifferences.size() + " column(s)")
        + ", "
        + errors().size()
        + " error(s), "
        + warnings().size()
        + " warning(s), "
        + passedCount()
        + " passed";
  }
}
