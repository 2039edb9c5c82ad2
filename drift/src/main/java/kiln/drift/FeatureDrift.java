package kiln.drift;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The comparison of one column.
 *
 * @param kind {@code numeric}, {@code categorical}, or the types when they differ ({@code long ->
 *     string})
 * @param statistics every value computed, by metric name ({@code psi}, {@code ks_statistic}, {@code
 *     ks_p_value}, {@code ks_error_bound}, {@code wasserstein}, {@code wasserstein_normalised},
 *     {@code jensen_shannon}, {@code hellinger}, {@code chi_squared}, {@code chi_squared_p_value},
 *     {@code null_rate_reference}, {@code null_rate_current}, {@code out_of_range_rate}, ...)
 * @param reasons why the verdict is what it is, for people
 * @param severity how far past its thresholds the column is (0 when stable), for sorting
 * @param exact false when a sketch stood in for exact counts on either side
 */
public record FeatureDrift(
    String name,
    Role role,
    String kind,
    Verdict verdict,
    List<String> reasons,
    Map<String, Double> statistics,
    double severity,
    Histogram histogram,
    List<String> newCategories,
    List<String> missingCategories,
    boolean exact) {

  public FeatureDrift {
    reasons = List.copyOf(reasons);
    statistics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(statistics));
    newCategories = List.copyOf(newCategories);
    missingCategories = List.copyOf(missingCategories);
    histogram = histogram == null ? Histogram.empty() : histogram;
  }

  public OptionalDouble statistic(String metric) {
    Double value = statistics.get(metric);
    return value == null ? OptionalDouble.empty() : OptionalDouble.of(value);
  }

  public boolean drifted() {
    return verdict.drifted();
  }
}
