package kiln.contracts;

/**
 * One metric Deequ computed, as the metric history stores it: {@code Mean} of {@code delay} = 7.3.
 */
public record MetricValue(String entity, String instance, String name, double value) {}
