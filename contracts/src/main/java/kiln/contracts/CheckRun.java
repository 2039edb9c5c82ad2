package kiln.contracts;

import java.nio.file.Path;
import java.util.Optional;
import kiln.core.DatasetRef;

/**
 * What {@link ContractCheck#run} did: the verdict, and the tables and files it wrote.
 *
 * @param quarantine the quarantine table's new version, when rows were quarantined
 * @param clean the clean table's new version, when {@code --output} was given
 * @param metrics the metric history's version holding this check's metrics
 * @param jsonReport null when no report directory was given
 */
public record CheckRun(
    ContractResult result,
    Optional<DatasetRef> quarantine,
    long quarantinedRows,
    Optional<DatasetRef> clean,
    long cleanRows,
    Optional<DatasetRef> metrics,
    Path jsonReport,
    Path htmlReport) {

  public boolean passed() {
    return result.passed();
  }
}
