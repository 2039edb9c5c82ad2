package kiln.core;

import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;

/** One commit of a Delta table, as its history shows it. */
public record TableVersion(
    long version,
    Instant timestamp,
    String operation,
    Map<String, String> operationParameters,
    Map<String, String> operationMetrics,
    String userMetadata) {

  public TableVersion {
    operationParameters = operationParameters == null ? Map.of() : Map.copyOf(operationParameters);
    operationMetrics = operationMetrics == null ? Map.of() : Map.copyOf(operationMetrics);
  }

  /** Rows the commit wrote, when Delta recorded it. */
  public OptionalLong outputRows() {
    String rows = operationMetrics.get("numOutputRows");
    return rows == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(rows));
  }
}
