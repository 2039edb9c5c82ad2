package kiln.contracts;

import java.nio.file.Path;
import java.util.Objects;
import kiln.core.DatasetRef;

/**
 * What {@link ContractCheck#run} does.
 *
 * @param object the contract's schema object to check against; null for its only one
 * @param metricsTable the metric history; null for {@code TABLE_metrics}
 * @param quarantine whether rows breaking row-level error rules go to {@code TABLE_quarantine}
 * @param cleanOutput where the rows that keep to every row-level error rule go; null for nowhere
 * @param reportDirectory where report.json and report.html go; null for no files
 */
public record CheckSpec(
    Contract contract,
    String object,
    DatasetRef data,
    String metricsTable,
    boolean quarantine,
    String cleanOutput,
    Path reportDirectory) {

  public CheckSpec {
    Objects.requireNonNull(contract, "contract is null");
    Objects.requireNonNull(data, "data is null");
  }

  public static CheckSpec of(Contract contract, DatasetRef data) {
    return new CheckSpec(contract, null, data, null, true, null, null);
  }

  public CheckSpec withCleanOutput(String table) {
    return new CheckSpec(contract, object, data, metricsTable, quarantine, table, reportDirectory);
  }

  public CheckSpec withReportDirectory(Path directory) {
    return new CheckSpec(contract, object, data, metricsTable, quarantine, cleanOutput, directory);
  }

  public CheckSpec withMetricsTable(String table) {
    return new CheckSpec(contract, object, data, table, quarantine, cleanOutput, reportDirectory);
  }

  public CheckSpec withoutQuarantine() {
    return new CheckSpec(contract, object, data, metricsTable, false, cleanOutput, reportDirectory);
  }

  public CheckSpec withObject(String name) {
    return new CheckSpec(
        contract, name, data, metricsTable, quarantine, cleanOutput, reportDirectory);
  }

  public String metricsTableOrDefault() {
    return metricsTable != null ? metricsTable : data.table() + "_metrics";
  }

  public String quarantineTable() {
    return data.table() + "_quarantine";
  }
}
