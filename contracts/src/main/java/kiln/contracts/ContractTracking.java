package kiln.contracts;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kiln.core.tracking.TrackedRun;

/**
 * Reports a contract check to a tracking run: one metric per rule, the contract and reports as
 * artifacts.
 */
public final class ContractTracking {
  private ContractTracking() {}

  /**
   * Logs the check into {@code run}: params (contract, dataset), one metric {@code rule.NAME} per
   * rule with the measured value (for rules with no value, 1 passed / 0 failed), {@code
   * contract.passed}, error and warning counts, tags, the dataset version as input, and the
   * contract text and report files as artifacts.
   */
  public static void report(TrackedRun run, CheckRun check, String contractYaml) {
    ContractResult result = check.result();
    Map<String, String> params = new LinkedHashMap<>();
    params.put("contract.id", result.contractId());
    params.put("contract.version", result.contractVersion());
    params.put("contract.object", result.object());
    if (result.dataset() != null) {
      params.put("dataset", result.dataset().toString());
    }
    run.logParams(params);

    Map<String, Double> metrics = new LinkedHashMap<>();
    for (RuleResult rule : result.rules()) {
      double value =
          rule.value() != null && Double.isFinite(rule.value())
              ? rule.value()
              : rule.status() == RuleResult.Status.PASSED ? 1.0 : 0.0;
      if (rule.status() != RuleResult.Status.SKIPPED || rule.value() != null) {
        metrics.put(metricKey(rule.name()), value);
      }
    }
    metrics.put("contract.passed", result.passed() ? 1.0 : 0.0);
    metrics.put("contract.errors", (double) result.errors().size());
    metrics.put("contract.warnings", (double) result.warnings().size());
    metrics.put("contract.rows", (double) result.rows());
    metrics.put("contract.quarantined_rows", (double) check.quarantinedRows());
    run.logMetrics(metrics);

    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("kiln.job", "contracts check");
    tags.put("kiln.contract.status", result.passed() ? "passed" : "failed");
    run.setTags(tags);
    if (result.dataset() != null) {
      run.logInput(result.dataset(), "input");
    }
    check.quarantine().ifPresent(q -> run.logInput(q, "quarantine"));
    run.logText(contractYaml, "contract/" + result.contractId() + ".yaml");
    logFile(run, check.jsonReport(), "contract/report.json");
    logFile(run, check.htmlReport(), "contract/report.html");
  }

  /** MLflow metric keys allow letters, digits, _ - . / and spaces; anything else becomes _. */
  static String metricKey(String ruleName) {
    return "rule." + ruleName.replaceAll("[^A-Za-z0-9_\\-./ ]", "_");
  }

  private static void logFile(TrackedRun run, Path file, String artifactPath) {
    if (file != null) {
      run.logArtifact(file, artifactPath);
    }
  }
}
