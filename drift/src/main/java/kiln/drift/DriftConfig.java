package kiln.drift;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/**
 * What to compare and how (the YAML of {@code kiln drift --config}). Every field is optional.
 *
 * @param features the columns to compare; default every column of a supported type on either side
 * @param exclude columns left out (e.g. keys, timestamps)
 * @param categorical numeric columns to treat as categories (e.g. codes)
 * @param prediction a model's prediction column: its drift is prediction drift
 * @param label the label column, when labels exist: its drift is label drift
 * @param thresholds see {@link Thresholds}
 * @param statistics which statistics run (default the per-column ones, {@link
 *     Statistic#PER_COLUMN}; {@code reconstruction_error} is multivariate drift, which also runs
 *     with {@code --chunk}); null and out-of-range rates always do
 * @param bins reference-quantile bins for numeric PSI, Jensen-Shannon and Hellinger (default 10)
 * @param topCategories categories kept per column, the rest pooled as "other" (default 50)
 * @param exactDistinctLimit distinct values per column held exactly before switching to sketches
 *     (default 10,000)
 * @param sketchK the KLL sketch's k (default 1,000: rank error about 0.3% per side at 99%
 *     confidence)
 * @param ranges valid ranges per numeric column for the out-of-range rate (default: the reference's
 *     min and max)
 * @param profiles the Delta table where profiles are kept and reused (default
 *     WORKDIR/drift/profiles)
 * @param history the Delta table of drift history (default WORKDIR/drift/history)
 */
public record DriftConfig(
    List<String> features,
    List<String> exclude,
    List<String> categorical,
    String prediction,
    String label,
    Thresholds thresholds,
    List<Statistic> statistics,
    Integer bins,
    Integer topCategories,
    Integer exactDistinctLimit,
    Integer sketchK,
    Map<String, Range> ranges,
    String profiles,
    String history) {

  public static final int DEFAULT_BINS = 10;
  public static final int DEFAULT_TOP_CATEGORIES = 50;
  public static final int DEFAULT_EXACT_DISTINCT_LIMIT = 10_000;
  public static final int DEFAULT_SKETCH_K = 1_000;

  public DriftConfig {
    features = features == null ? null : List.copyOf(features);
    exclude = exclude == null ? List.of() : List.copyOf(exclude);
    categorical = categorical == null ? List.of() : List.copyOf(categorical);
    thresholds = thresholds == null ? Thresholds.defaults() : thresholds;
    statistics =
        statistics == null || statistics.isEmpty() ? Statistic.PER_COLUMN : List.copyOf(statistics);
    bins = bins == null ? DEFAULT_BINS : bins;
    topCategories = topCategories == null ? DEFAULT_TOP_CATEGORIES : topCategories;
    exactDistinctLimit =
        exactDistinctLimit == null ? DEFAULT_EXACT_DISTINCT_LIMIT : exactDistinctLimit;
    sketchK = sketchK == null ? DEFAULT_SKETCH_K : sketchK;
    ranges = ranges == null ? Map.of() : Map.copyOf(ranges);
    if (features != null && features.isEmpty()) {
      throw Errors.badInput(
          "features is an empty list; list the columns to compare, or leave it out"
              + " to compare every column",
          "correct the drift config (--config) or the options that set it");
    }
    if (bins < 2 || bins > 1000) {
      throw Errors.badInput(
          "bins must be between 2 and 1000, got " + bins,
          "correct the drift config (--config) or the options that set it");
    }
    if (topCategories < 1 || topCategories > 10_000) {
      throw Errors.badInput(
          "topCategories must be between 1 and 10000, got " + topCategories,
          "correct the drift config (--config) or the options that set it");
    }
    if (exactDistinctLimit < 1 || exactDistinctLimit > 1_000_000) {
      throw Errors.badInput(
          "exactDistinctLimit must be between 1 and 1000000, got " + exactDistinctLimit,
          "correct the drift config (--config) or the options that set it");
    }
    if (sketchK < 8 || sketchK > 65_535) {
      throw Errors.badInput(
          "sketchK must be between 8 and 65535 (KLL's limits), got " + sketchK,
          "correct the drift config (--config) or the options that set it");
    }
    if (prediction != null && prediction.equals(label)) {
      throw Errors.badInput(
          "prediction and label are the same column '" + label + "'; name two columns",
          "correct the drift config (--config) or the options that set it");
    }
    for (String name : ranges.keySet()) {
      if (categorical.contains(name)) {
        throw Errors.badInput(
            "column '" + name + "' has a range but is categorical; ranges apply to numbers",
            "correct the drift config (--config) or the options that set it");
      }
    }
  }

  public static DriftConfig defaults() {
    return new DriftConfig(
        null, null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  public static DriftConfig read(Path file) {
    return YamlFiles.read(file, DriftConfig.class);
  }

  public boolean computes(Statistic statistic) {
    return statistics.contains(statistic);
  }

  public Set<Statistic> statisticSet() {
    return statistics.isEmpty() ? EnumSet.noneOf(Statistic.class) : EnumSet.copyOf(statistics);
  }

  public Set<String> categoricalSet() {
    return new HashSet<>(categorical);
  }

  public DriftConfig withStatistics(List<Statistic> chosen) {
    return new DriftConfig(
        features,
        exclude,
        categorical,
        prediction,
        label,
        thresholds,
        chosen,
        bins,
        topCategories,
        exactDistinctLimit,
        sketchK,
        ranges,
        profiles,
        history);
  }

  public DriftConfig withTables(String profilesTable, String historyTable) {
    return new DriftConfig(
        features,
        exclude,
        categorical,
        prediction,
        label,
        thresholds,
        statistics,
        bins,
        topCategories,
        exactDistinctLimit,
        sketchK,
        ranges,
        profilesTable,
        historyTable);
  }

  public DriftConfig withExactDistinctLimit(int limit) {
    return new DriftConfig(
        features,
        exclude,
        categorical,
        prediction,
        label,
        thresholds,
        statistics,
        bins,
        topCategories,
        limit,
        sketchK,
        ranges,
        profiles,
        history);
  }

  public DriftConfig withColumns(
      List<String> chosenFeatures, String predictionColumn, String labelColumn) {
    return new DriftConfig(
        chosenFeatures,
        exclude,
        categorical,
        predictionColumn,
        labelColumn,
        thresholds,
        statistics,
        bins,
        topCategories,
        exactDistinctLimit,
        sketchK,
        ranges,
        profiles,
        history);
  }

  public DriftConfig withThresholds(Thresholds chosen) {
    return new DriftConfig(
        features,
        exclude,
        categorical,
        prediction,
        label,
        chosen,
        statistics,
        bins,
        topCategories,
        exactDistinctLimit,
        sketchK,
        ranges,
        profiles,
        history);
  }

  public DriftConfig withExclude(List<String> excluded) {
    return new DriftConfig(
        features,
        excluded,
        categorical,
        prediction,
        label,
        thresholds,
        statistics,
        bins,
        topCategories,
        exactDistinctLimit,
        sketchK,
        ranges,
        profiles,
        history);
  }
}
