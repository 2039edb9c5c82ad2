package kiln.drift.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.drift.Histogram;
import kiln.drift.Role;
import kiln.drift.Verdict;

/** The statistics of one column before the verdict (which needs every column's p-value). */
final class Measurement {
  final String name;
  final Role role;
  String kind;
  final Map<String, Double> statistics = new LinkedHashMap<>();
  final List<String> notes = new ArrayList<>();
  Histogram histogram;
  List<String> newCategories = List.of();
  List<String> missingCategories = List.of();
  boolean exact = true;

  /** The p-value that the significance rule tests, or null. */
  Double pValue;

  String pValueName;

  /** A verdict fixed before any statistic (schema changes, no data). */
  Verdict fixed;

  Measurement(String name, Role role, String kind) {
    this.name = name;
    this.role = role;
    this.kind = kind;
  }

  void put(String metric, double value) {
    statistics.put(metric, value);
  }
}
