package kiln.drift.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import kiln.core.Errors;
import kiln.drift.Correction;
import kiln.drift.DriftConfig;
import kiln.drift.FeatureDrift;
import kiln.drift.Role;
import kiln.drift.Thresholds;
import kiln.drift.Verdict;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Plans which columns to compare (from the config and both schemas, before any Spark job), compares
 * two sides' profiles and decides the verdicts. No Spark work happens here.
 */
public final class DriftEngine {
  private final DriftConfig config;

  public DriftEngine(DriftConfig config) {
    this.config = config;
  }

  /** A column to compare and its role. */
  public record Planned(String name, Role role) {}

  /** The columns and verdicts of a comparison, sorted by severity, and the dataset verdict. */
  public record Decision(
      List<FeatureDrift> features, double driftedShare, boolean drifted, String summary) {}

  /**
   * The columns to compare. Declared columns (features, prediction, label) missing on both sides
   * are bad input; otherwise a column missing on one side is compared as a schema change.
   */
  public List<Planned> plan(StructType reference, StructType current) {
    Set<String> referenceNames = names(reference);
    Set<String> currentNames = names(current);
    Set<String> both = new LinkedHashSet<>(referenceNames);
    both.addAll(currentNames);
    List<String> declared = new ArrayList<>();
    if (config.features() != null) {
      declared.addAll(config.features());
    }
    if (config.prediction() != null) {
      declared.add(config.prediction());
    }
    if (config.label() != null) {
      declared.add(config.label());
    }
    List<String> missing =
        declared.stream().filter(name -> !both.contains(name)).distinct().toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("neither the reference nor the current data", missing, both);
    }
    List<String> unknownCategorical =
        config.categorical().stream().filter(name -> !both.contains(name)).toList();
    if (!unknownCategorical.isEmpty()) {
      throw Errors.badInput(
          "the config declares categorical column"
              + (unknownCategorical.size() == 1 ? " " : "s ")
              + Errors.quoted(unknownCategorical)
              + ", which neither side has; they have "
              + Errors.quoted(both),
          "fix the names under 'categorical' in the config");
    }
    List<Planned> planned = new ArrayList<>();
    List<String> features = config.features() != null ? config.features() : new ArrayList<>(both);
    Set<String> times = timeColumns(reference);
    times.addAll(timeColumns(current));
    for (String name : features) {
      if (config.exclude().contains(name)
          || name.equals(config.prediction())
          || name.equals(config.label())) {
        continue;
      }
      // a date or timestamp column is the time axis unless the config names it as a feature
      boolean time = config.features() == null && times.contains(name);
      planned.add(new Planned(name, time ? Role.TIME : Role.FEATURE));
    }
    if (config.prediction() != null) {
      planned.add(new Planned(config.prediction(), Role.PREDICTION));
    }
    if (config.label() != null) {
      planned.add(new Planned(config.label(), Role.LABEL));
    }
    if (planned.stream().allMatch(p -> p.role() == Role.TIME)) {
      throw Errors.badInput(
          "no column is left to compare after excluding "
              + Errors.quoted(config.exclude())
              + (planned.isEmpty()
                  ? ""
                  : " and the date and timestamp columns "
                      + Errors.quoted(planned.stream().map(Planned::name).toList())),
          "exclude fewer columns, or list the columns to compare under features");
    }
    return planned;
  }

  /** The planned columns a side has in a type that can be profiled. */
  public List<String> profiledColumns(List<Planned> plan, StructType side) {
    Map<String, StructField> fields = new LinkedHashMap<>();
    for (StructField field : side.fields()) {
      fields.put(field.name(), field);
    }
    List<String> columns = new ArrayList<>();
    for (Planned column : plan) {
      if (column.role() == Role.TIME) {
        continue;
      }
      StructField field = fields.get(column.name());
      if (field != null
          && ColumnReader.source(field.dataType()) != null
          && !columns.contains(column.name())) {
        columns.add(column.name());
      }
    }
    return columns;
  }

  /** The date and timestamp columns of a side. */
  private static Set<String> timeColumns(StructType side) {
    Set<String> names = new LinkedHashSet<>();
    for (StructField field : side.fields()) {
      if (field.dataType() instanceof org.apache.spark.sql.types.DateType
          || field.dataType() instanceof org.apache.spark.sql.types.TimestampType
          || field.dataType() instanceof org.apache.spark.sql.types.TimestampNTZType) {
        names.add(field.name());
      }
    }
    return names;
  }

  public static Map<String, String> types(StructType schema) {
    Map<String, String> types = new LinkedHashMap<>();
    for (StructField field : schema.fields()) {
      types.put(field.name(), field.dataType().simpleString());
    }
    return types;
  }

  public Decision decide(List<Planned> plan, SideProfile reference, SideProfile current) {
    List<Measurement> measurements = new ArrayList<>();
    List<String> timeAxis = new ArrayList<>();
    for (Planned column : plan) {
      if (column.role() == Role.TIME) {
        timeAxis.add(column.name());
      } else {
        measurements.add(measure(column, reference, current));
      }
    }
    double alpha = config.thresholds().pValue();
    double level = correctedLevel(measurements, alpha, config.thresholds().correction());
    List<FeatureDrift> features = new ArrayList<>();
    for (Measurement m : measurements) {
      features.add(verdict(m, level));
    }
    features.sort(
        Comparator.comparing((FeatureDrift f) -> !f.drifted())
            .thenComparing(Comparator.comparingDouble(FeatureDrift::severity).reversed())
            .thenComparing(FeatureDrift::name));

    List<FeatureDrift> compared =
        features.stream()
            .filter(f -> f.role() == Role.FEATURE)
            .filter(f -> f.verdict() == Verdict.STABLE || f.verdict().drifted())
            .toList();
    List<FeatureDrift> others =
        features.stream()
            .filter(f -> f.role() != Role.FEATURE)
            .filter(f -> f.verdict() == Verdict.STABLE || f.verdict().drifted())
            .toList();
    if (compared.isEmpty() && others.isEmpty()) {
      throw Errors.badInput(
          "no column could be compared: "
              + features.stream()
                  .map(
                      f ->
                          f.name()
                              + " "
                              + f.verdict().toString().toLowerCase(Locale.ROOT)
                              + (f.reasons().isEmpty() ? "" : " (" + f.reasons().get(0) + ")"))
                  .toList(),
          "compare tables that share columns with values, or fix the column lists in the config");
    }
    long driftedFeatures = compared.stream().filter(FeatureDrift::drifted).count();
    double share = compared.isEmpty() ? 0 : (double) driftedFeatures / compared.size();
    List<String> driftedOthers =
        others.stream()
            .filter(FeatureDrift::drifted)
            .map(f -> f.role().toString().toLowerCase(Locale.ROOT) + " '" + f.name() + "'")
            .toList();
    boolean drifted =
        (!compared.isEmpty() && share >= config.thresholds().driftShare())
            || !driftedOthers.isEmpty();
    String summary =
        String.format(
                Locale.ROOT,
                "%d of %d features drifted (%.0f%%, dataset threshold %.0f%%)",
                driftedFeatures,
                compared.size(),
                share * 100,
                config.thresholds().driftShare() * 100)
            + (driftedOthers.isEmpty() ? "" : "; drifted: " + String.join(", ", driftedOthers))
            + ": "
            + (drifted ? "DRIFTED" : "no drift")
            + (timeAxis.isEmpty()
                ? ""
                : " (left out as the time axis: "
                    + String.join(", ", timeAxis)
                    + "; list it under features to compare it)");
    return new Decision(features, share, drifted, summary);
  }

  private Measurement measure(Planned column, SideProfile reference, SideProfile current) {
    String name = column.name();
    String referenceType = reference.types().get(name);
    String currentType = current.types().get(name);
    ColumnProfile r = reference.profile().columns().get(name);
    ColumnProfile c = current.profile().columns().get(name);
    String kind =
        r instanceof NumericProfile || c instanceof NumericProfile ? "numeric" : "categorical";
    Measurement m = new Measurement(name, column.role(), kind);
    if (referenceType == null) {
      m.fixed = Verdict.NEW_IN_CURRENT;
      m.kind = currentType;
      m.notes.add("column '" + name + "' is new in the current data (" + currentType + ")");
      return m;
    }
    if (currentType == null) {
      m.fixed = Verdict.MISSING_IN_CURRENT;
      m.kind = referenceType;
      m.notes.add("column '" + name + "' (" + referenceType + ") is missing from the current data");
      return m;
    }
    if (r == null && c == null) {
      m.fixed = Verdict.UNSUPPORTED;
      m.kind = referenceType;
      m.notes.add("type " + referenceType + " cannot be profiled");
      return m;
    }
    if (r == null || c == null || r.getClass() != c.getClass()) {
      m.fixed = Verdict.TYPE_CHANGED;
      m.kind = referenceType + " -> " + currentType;
      m.notes.add("type changed from " + referenceType + " to " + currentType + ": not comparable");
      return m;
    }
    if (r instanceof NumericProfile numeric) {
      NumericComparison.measure(m, numeric, (NumericProfile) c, config);
    } else {
      CategoricalComparison.measure(m, (CategoricalProfile) r, (CategoricalProfile) c, config);
    }
    return m;
  }

  /** The level each p-value is compared with, after the correction for many tests. */
  static double correctedLevel(
      List<Measurement> measurements, double alpha, Correction correction) {
    List<Double> pValues =
        measurements.stream()
            .filter(m -> m.pValue != null && m.fixed == null)
            .map(m -> m.pValue)
            .sorted()
            .toList();
    int tests = pValues.size();
    if (tests == 0 || correction == Correction.NONE) {
      return alpha;
    }
    if (correction == Correction.BONFERRONI) {
      return alpha / tests;
    }
    // Benjamini-Hochberg: reject the k smallest, k the largest rank with p(k) <= k/m alpha
    double level = 0;
    for (int k = 1; k <= tests; k++) {
      if (pValues.get(k - 1) <= (double) k / tests * alpha) {
        level = pValues.get(k - 1);
      }
    }
    // rejecting p <= level; expressed as a strict bound for the rule below
    return level == 0 ? 0 : Math.nextUp(level);
  }

  private FeatureDrift verdict(Measurement m, double level) {
    Thresholds t = config.thresholds();
    List<String> reasons = new ArrayList<>();
    double severity = 0;
    Verdict verdict;
    if (m.fixed != null) {
      verdict = m.fixed;
      reasons.addAll(m.notes);
      severity = verdict.drifted() ? 1000 : 0;
    } else {
      severity = Math.max(severity, rule(reasons, m, "psi", "PSI", t.psi()));
      severity =
          Math.max(
              severity,
              rule(
                  reasons,
                  m,
                  "wasserstein_normalised",
                  "normalised Wasserstein",
                  t.wassersteinNormalised()));
      severity =
          Math.max(
              severity,
              rule(reasons, m, "jensen_shannon", "Jensen-Shannon distance", t.jensenShannon()));
      severity =
          Math.max(severity, rule(reasons, m, "hellinger", "Hellinger distance", t.hellinger()));
      severity =
          Math.max(
              severity, rule(reasons, m, "out_of_range_rate", "out-of-range rate", t.outOfRange()));
      double nullChange =
          Math.abs(
              m.statistics.getOrDefault("null_rate_current", 0.0)
                  - m.statistics.getOrDefault("null_rate_reference", 0.0));
      m.put("null_rate_change", nullChange);
      if (m.role == Role.LABEL) {
        // labels arrive later than the rows they label: missing labels are not a change of the
        // label's distribution
        double missing = m.statistics.getOrDefault("null_rate_current", 0.0);
        if (missing > 0) {
          m.notes.add(
              String.format(
                  Locale.ROOT,
                  "%.1f%% of the current rows have no label yet (not counted as drift)",
                  missing * 100));
        }
      } else if (nullChange > t.nullRate()) {
        reasons.add(
            String.format(
                Locale.ROOT,
                "null rate changed by %.3f (%.3f -> %.3f) > %s",
                nullChange,
                m.statistics.get("null_rate_reference"),
                m.statistics.get("null_rate_current"),
                number(t.nullRate())));
        severity = Math.max(severity, nullChange / t.nullRate());
      }
      Double nonFiniteR = m.statistics.get("non_finite_rate_reference");
      Double nonFiniteC = m.statistics.get("non_finite_rate_current");
      if (nonFiniteR != null && Math.abs(nonFiniteC - nonFiniteR) > t.nullRate()) {
        reasons.add(
            String.format(
                Locale.ROOT,
                "NaN/infinity rate changed from %.3f to %.3f",
                nonFiniteR,
                nonFiniteC));
        severity = Math.max(severity, Math.abs(nonFiniteC - nonFiniteR) / t.nullRate());
      }
      if (m.pValue != null && t.testsDecide()) {
        m.put("p_value_level", level);
        if (m.pValue < level) {
          reasons.add(
              m.pValueName
                  + " "
                  + number(m.pValue)
                  + " < "
                  + number(level)
                  + (t.correction() == Correction.NONE
                      ? ""
                      : " (" + t.correction().toString().toLowerCase(Locale.ROOT) + ")"));
          severity = Math.max(severity, 1);
        }
      }
      boolean compared = m.histogram != null && !m.histogram.labels().isEmpty();
      if (!reasons.isEmpty()) {
        verdict = Verdict.DRIFTED;
      } else if (!compared
          && m.statistics.getOrDefault("null_rate_reference", 0.0) == 1.0
          && m.statistics.getOrDefault("null_rate_current", 0.0) == 1.0) {
        verdict = Verdict.NO_DATA;
      } else if (!compared && isEmptyBothSides(m)) {
        verdict = Verdict.NO_DATA;
      } else {
        verdict = Verdict.STABLE;
      }
      reasons.addAll(m.notes);
    }
    return new FeatureDrift(
        m.name,
        m.role,
        m.kind,
        verdict,
        reasons,
        m.statistics,
        severity,
        m.histogram,
        m.newCategories,
        m.missingCategories,
        m.exact);
  }

  private static boolean isEmptyBothSides(Measurement m) {
    return m.notes.stream().anyMatch(n -> n.contains("either side"));
  }

  private static double rule(
      List<String> reasons, Measurement m, String metric, String label, Double threshold) {
    Double value = m.statistics.get(metric);
    if (threshold == null || value == null || !(value >= threshold)) {
      return 0;
    }
    reasons.add(label + " " + number(value) + " >= " + number(threshold));
    return value / threshold;
  }

  static String number(double value) {
    if (value != 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) {
      return String.format(Locale.ROOT, "%.3g", value);
    }
    return String.format(Locale.ROOT, "%.4f", value).replaceAll("0+$", "").replaceAll("\\.$", "");
  }

  private static Set<String> names(StructType schema) {
    Set<String> names = new LinkedHashSet<>();
    for (StructField field : schema.fields()) {
      names.add(field.name());
    }
    return names;
  }
}
