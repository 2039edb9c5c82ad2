package kiln.drift;

import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import kiln.drift.internal.Chunker;
import kiln.drift.internal.DomainClassifier;
import kiln.drift.internal.DriftEngine;
import kiln.drift.internal.Reconstruction;
import kiln.drift.internal.SideProfile;
import kiln.drift.internal.TableProfile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/**
 * What a drift run adds to the whole-side comparison: the current side per chunk against the
 * reference, multivariate drift (PCA reconstruction error) and performance estimation without
 * labels (CBPE for a classifier, DLE for a regressor), each chunk with its alert. Without chunking
 * the current side is one chunk and the reference is cut into {@link
 * Chunking#DEFAULT_REFERENCE_CHUNKS} for the bands (NannyML's default).
 */
final class Monitoring {
  private final DriftConfig config;
  private final DriftEngine engine;
  private final TableProfiler profiler;
  private final Consumer<String> progress;
  private final Chunking chunking;
  private final Estimation estimation;

  Monitoring(
      DriftConfig config,
      DriftEngine engine,
      TableProfiler profiler,
      Consumer<String> progress,
      Chunking chunking,
      Estimation estimation) {
    this.config = config;
    this.engine = engine;
    this.profiler = profiler;
    this.progress = progress;
    this.chunking = chunking;
    this.estimation = estimation;
  }

  /**
   * How a side (here: a chunk) is profiled: the one-pass JVM fold on a CPU, built-in aggregates a
   * GPU runs under RAPIDS (the same choice as the whole sides', made once in DriftMonitor).
   */
  @FunctionalInterface
  interface TableProfiler {
    kiln.drift.internal.TableProfile profile(
        Dataset<Row> data, List<String> columns, java.util.Set<String> categorical);

    /**
     * One profile per value of {@code key} among {@code keys}: here one pass per chunk (the GPU's
     * built-in aggregates); the CPU fold overrides it with one pass for every chunk.
     */
    default Map<String, TableProfile> profileBy(
        Dataset<Row> data,
        String key,
        java.util.Collection<String> keys,
        List<String> columns,
        java.util.Set<String> categorical) {
      Map<String, TableProfile> profiles = new java.util.TreeMap<>();
      for (String value : keys) {
        profiles.put(
            value,
            profile(
                data.where(org.apache.spark.sql.functions.col(key).equalTo(value)).drop(key),
                columns,
                categorical));
      }
      return profiles;
    }
  }

  /** The domain classifier runs when the config's statistics list it (per chunk with chunks). */
  private boolean domainClassifierAsked() {
    return config.computes(Statistic.DOMAIN_CLASSIFIER);
  }

  /** Multivariate drift runs when the config's statistics list it, or with chunks. */
  private boolean multivariateAsked() {
    return chunking != null || config.computes(Statistic.RECONSTRUCTION_ERROR);
  }

  DriftResult apply(
      DriftResult whole,
      List<DriftEngine.Planned> plan,
      Dataset<Row> referenceRows,
      Dataset<Row> currentRows,
      SideProfile referenceProfile) {
    List<String> numeric = numericFeatures(plan, referenceRows.schema(), currentRows.schema());
    boolean multivariate = multivariateAsked() && numeric.size() >= 2;
    if (chunking == null && estimation == null && !multivariate && !domainClassifierAsked()) {
      return whole.withMonitoring(
          null,
          List.of(),
          null,
          List.of(),
          multivariateAsked()
              ? "multivariate drift needs two or more numeric features, found " + numeric.size()
              : null,
          null,
          whole.drifted(),
          whole.summary());
    }
    String time = timeColumn(plan, currentRows.schema());
    String referenceTime = time != null && has(referenceRows.schema(), time) ? time : null;
    Dataset<Row> currentChunks =
        chunking == null
            ? currentRows.withColumn(Chunker.CHUNK, lit("all"))
            : Chunker.assign(currentRows, chunking, time, "current");
    Dataset<Row> referenceChunks =
        Chunker.assign(
            referenceRows,
            chunking == null ? Chunking.count(Chunking.DEFAULT_REFERENCE_CHUNKS) : chunking,
            chunking == null ? null : referenceTime,
            "reference");
    // what the steps below read, cached: their columns only (a chunked CBPE run reads three of
    // the side's columns, and caching whole rows was most of its time)
    Set<String> read = new LinkedHashSet<>();
    read.add(Chunker.CHUNK);
    if (chunking != null) {
      read.addAll(engine.profiledColumns(plan, currentRows.schema()));
    }
    if (multivariate || domainClassifierAsked()) {
      read.addAll(numeric);
      read.addAll(categoricalFeatures(plan, referenceRows.schema(), currentRows.schema(), numeric));
    }
    if (estimation != null) {
      read.add(estimation.score());
      if (estimation.label() != null) {
        read.add(estimation.label());
      }
    }
    currentChunks = narrowed(currentChunks, read).cache();
    referenceChunks = narrowed(referenceChunks, read).cache();
    try {
      List<ChunkDrift> chunks = new ArrayList<>();
      if (chunking != null) {
        Map<String, Long> sizes = Chunker.sizes(currentChunks);
        Chunker.requireMinimum(sizes, "current", chunking);
        progress.accept(
            "comparing " + sizes.size() + " current chunks (" + chunking + ") with the reference");
        // every chunk profiled in one pass over the side, the chunk a key of the same fold
        StructType schema = currentChunks.drop(Chunker.CHUNK).schema();
        Map<String, TableProfile> profiles =
            profiler.profileBy(
                currentChunks,
                Chunker.CHUNK,
                sizes.keySet(),
                engine.profiledColumns(plan, schema),
                config.categoricalSet());
        for (Map.Entry<String, Long> chunk : sizes.entrySet()) {
          chunks.add(
              chunk(
                  plan,
                  referenceProfile,
                  new SideProfile(profiles.get(chunk.getKey()), DriftEngine.types(schema), false),
                  chunk.getKey(),
                  chunk.getValue()));
        }
      }
      Map<String, Long> referenceSizes = Chunker.sizes(referenceChunks);
      List<String> categorical =
          categoricalFeatures(plan, referenceRows.schema(), currentRows.schema(), numeric);
      String note = null;
      MultivariateDrift reconstruction = null;
      if (!multivariateAsked()) {
        note = null;
      } else if (numeric.size() < 2) {
        note = "multivariate drift needs two or more numeric features, found " + numeric.size();
      } else if (referenceSizes.size() < 2
          || referenceSizes.values().stream().anyMatch(n -> n < Chunking.MIN_CHUNK_ROWS)) {
        note =
            "multivariate drift needs a reference of two or more chunks of at least "
                + Chunking.MIN_CHUNK_ROWS
                + " rows for its band; the reference makes "
                + referenceSizes.size()
                + " chunk(s) of "
                + referenceSizes.values()
                + " rows";
      } else {
        progress.accept(
            "fitting the PCA of "
                + numeric.size()
                + " numeric and "
                + categorical.size()
                + " categorical features on the reference");
        // categories as their reference share, as NannyML encodes them
        Reconstruction.Fit fit =
            Reconstruction.fit(
                referenceRows, numeric, categorical, MultivariateDrift.DEFAULT_VARIANCE_KEPT);
        reconstruction =
            Reconstruction.decide(
                fit,
                Reconstruction.perChunk(referenceChunks, fit),
                Reconstruction.perChunk(currentChunks, fit));
      }
      DomainClassifierDrift domain = null;
      if (domainClassifierAsked() && numeric.size() + categorical.size() > 0) {
        progress.accept(
            "training the domain classifier ("
                + DomainClassifierDrift.DEFAULT_FOLDS
                + "-fold) on "
                + (numeric.size() + categorical.size())
                + " features per chunk");
        domain =
            DomainClassifier.decide(
                referenceRows,
                currentChunks,
                numeric,
                categorical,
                DomainClassifierDrift.DEFAULT_FOLDS,
                DomainClassifierDrift.DEFAULT_MAX_ROWS_PER_SIDE,
                config.thresholds().domainClassifierAuc());
      }
      List<PerformanceEstimate> estimates = List.of();
      if (estimation != null && estimation.regression()) {
        progress.accept(
            "estimating performance without labels (direct loss estimation: a model of each"
                + " row's loss on "
                + (numeric.size() + categorical.size())
                + " features and the prediction)");
        estimates =
            Dle.fit(
                    referenceRows,
                    numeric,
                    categorical,
                    estimation.score(),
                    estimation.label(),
                    estimation.metrics())
                .estimate(referenceChunks, currentChunks);
      } else if (estimation != null) {
        progress.accept("estimating performance without labels (CBPE)");
        List<String> asked = estimation.metrics();
        estimates =
            Cbpe.fit(referenceRows, estimation.score(), estimation.label(), estimation.threshold())
                .estimate(referenceChunks, currentChunks)
                .stream()
                .filter(e -> asked == null || asked.contains(e.metric()))
                .toList();
      }
      return decide(whole, chunks, reconstruction, domain, estimates, note);
    } finally {
      currentChunks.unpersist();
      referenceChunks.unpersist();
    }
  }

  private DriftResult decide(
      DriftResult whole,
      List<ChunkDrift> chunks,
      MultivariateDrift reconstruction,
      DomainClassifierDrift domain,
      List<PerformanceEstimate> estimates,
      String note) {
    List<String> parts = new ArrayList<>();
    long driftedChunks = chunks.stream().filter(ChunkDrift::drifted).count();
    if (chunking != null) {
      // reported, not part of the verdict: each chunk's p-values are tested anew, so with many
      // chunks some cross 0.05 by chance (a test saw one of six stable 100-row days do so)
      parts.add(
          String.format(
              Locale.ROOT,
              "%d of %d chunks (%s) drifted column by column (reported, not in the verdict)",
              driftedChunks,
              chunks.size(),
              chunking));
    }
    if (reconstruction != null) {
      parts.add(
          String.format(
              Locale.ROOT,
              "multivariate: reconstruction error outside [%.4f, %.4f] in %d of %d chunk(s)",
              reconstruction.lower(),
              reconstruction.upper(),
              reconstruction.alerts(),
              reconstruction.current().size()));
    }
    if (domain != null) {
      parts.add(
          String.format(
              Locale.ROOT,
              "domain classifier AUC above %.2f in %d of %d chunk(s)",
              domain.threshold(),
              domain.alerts(),
              domain.current().size()));
    }
    for (PerformanceEstimate e : estimates) {
      long alerts = e.current().stream().filter(ChunkValue::alert).count();
      parts.add(
          String.format(
              Locale.ROOT,
              "estimated %s outside [%.4f, %.4f] in %d of %d chunk(s)",
              e.metric(),
              e.lower(),
              e.upper(),
              alerts,
              e.current().size()));
    }
    boolean drifted =
        whole.drifted()
            || (reconstruction != null && reconstruction.drifted())
            || (domain != null && domain.drifted())
            || estimates.stream().anyMatch(PerformanceEstimate::alerted);
    String summary =
        whole.summary()
            + (parts.isEmpty() ? "" : "; " + String.join("; ", parts))
            + (drifted && !whole.drifted() ? ": DRIFTED" : "");
    return whole.withMonitoring(
        chunking == null ? null : chunking.toString(),
        chunks,
        reconstruction,
        estimates,
        note,
        domain,
        drifted,
        summary);
  }

  private ChunkDrift chunk(
      List<DriftEngine.Planned> plan,
      SideProfile referenceProfile,
      SideProfile profile,
      String key,
      long rows) {
    DriftEngine.Decision decision = engine.decide(plan, referenceProfile, profile);
    List<FeatureDrift> features =
        decision.features().stream()
            .map(
                f ->
                    new FeatureDrift(
                        f.name(),
                        f.role(),
                        f.kind(),
                        f.verdict(),
                        f.reasons(),
                        f.statistics(),
                        f.severity(),
                        null,
                        f.newCategories(),
                        f.missingCategories(),
                        f.exact()))
            .toList();
    return new ChunkDrift(key, rows, features, decision.driftedShare(), decision.drifted());
  }

  /** The side's columns among {@code names}, in the side's order. */
  private static Dataset<Row> narrowed(Dataset<Row> side, Set<String> names) {
    List<org.apache.spark.sql.Column> kept = new ArrayList<>();
    for (String name : side.columns()) {
      if (names.contains(name)) {
        kept.add(side.col("`" + name.replace("`", "``") + "`"));
      }
    }
    return side.select(kept.toArray(org.apache.spark.sql.Column[]::new));
  }

  /** Numeric feature columns on both sides, not declared categorical. */
  private List<String> numericFeatures(
      List<DriftEngine.Planned> plan, StructType reference, StructType current) {
    List<String> names = new ArrayList<>();
    for (DriftEngine.Planned p : plan) {
      if (p.role() == Role.FEATURE
          && !config.categorical().contains(p.name())
          && numeric(reference, p.name())
          && numeric(current, p.name())) {
        names.add(p.name());
      }
    }
    return names;
  }

  /** The other feature columns present on both sides: categorical for the domain classifier. */
  private static List<String> categoricalFeatures(
      List<DriftEngine.Planned> plan,
      StructType reference,
      StructType current,
      List<String> numeric) {
    List<String> names = new ArrayList<>();
    for (DriftEngine.Planned p : plan) {
      if (p.role() == Role.FEATURE
          && !numeric.contains(p.name())
          && has(reference, p.name())
          && has(current, p.name())) {
        names.add(p.name());
      }
    }
    return names;
  }

  private static boolean numeric(StructType schema, String name) {
    for (StructField field : schema.fields()) {
      if (field.name().equals(name)) {
        return field.dataType() instanceof NumericType;
      }
    }
    return false;
  }

  private static boolean has(StructType schema, String name) {
    return List.of(schema.fieldNames()).contains(name);
  }

  /** The plan's time axis, else the first date or timestamp column of the current side. */
  private static String timeColumn(List<DriftEngine.Planned> plan, StructType current) {
    for (DriftEngine.Planned p : plan) {
      if (p.role() == Role.TIME) {
        return p.name();
      }
    }
    for (StructField field : current.fields()) {
      if (field.dataType() instanceof DateType
          || field.dataType() instanceof TimestampType
          || field.dataType() instanceof TimestampNTZType) {
        return field.name();
      }
    }
    return null;
  }
}
