package kiln.lineage;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import kiln.core.DatasetRef;

/**
 * What a job learned of the quality of a table version it read, for the input dataset's OpenLineage
 * facets {@code dataQualityAssertions} and {@code dataQualityMetrics}. Lineage does not know where
 * the verdicts come from: the command that checked the data (contracts, in jobs) builds this.
 *
 * @param rowCount rows evaluated; empty when nothing was scanned
 * @param columnMetrics per column; empty: no metrics facet
 */
public record DataQuality(
    DatasetRef table,
    List<Assertion> assertions,
    Optional<Long> rowCount,
    Map<String, ColumnMetrics> columnMetrics) {

  public DataQuality {
    Objects.requireNonNull(table, "table is null");
    assertions = List.copyOf(Objects.requireNonNull(assertions, "assertions is null"));
    Objects.requireNonNull(rowCount, "rowCount is null");
    columnMetrics =
        java.util.Collections.unmodifiableMap(
            new LinkedHashMap<>(Objects.requireNonNull(columnMetrics, "columnMetrics is null")));
  }

  /**
   * One test and its result, after the spec's fields.
   *
   * @param assertion the kind of test ({@code not_null}, {@code unique}, {@code row_count}, ...)
   * @param column null for a test of the whole table
   * @param severity {@code error} or {@code warn}, the spec's common values
   * @param expected what the value had to be; null when unknown
   * @param actual what was measured; null when nothing was
   */
  public record Assertion(
      String assertion,
      boolean success,
      String column,
      String severity,
      String name,
      String expected,
      String actual) {
    public Assertion {
      Objects.requireNonNull(assertion, "assertion is null");
    }
  }

  /** The spec's column metrics; null fields are not known and left out. */
  public record ColumnMetrics(
      Long nullCount, Long distinctCount, Double sum, Double min, Double max) {

    /** This one with the non-null fields of {@code other} added. */
    public ColumnMetrics merge(ColumnMetrics other) {
      return new ColumnMetrics(
          other.nullCount != null ? other.nullCount : nullCount,
          other.distinctCount != null ? other.distinctCount : distinctCount,
          other.sum != null ? other.sum : sum,
          other.min != null ? other.min : min,
          other.max != null ? other.max : max);
    }
  }
}
