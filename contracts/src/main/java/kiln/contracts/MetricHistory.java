package kiln.contracts;

import java.util.List;

/**
 * The values a metric had for earlier versions of a dataset, oldest first: what anomaly rules
 * compare with.
 */
@FunctionalInterface
public interface MetricHistory {
  List<Double> before(String name, String instance);

  static MetricHistory none() {
    return (name, instance) -> List.of();
  }
}
