package kiln.drift;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.PinnedTable;
import kiln.core.SparkSessions;
import kiln.drift.internal.DriftEngine;
import kiln.drift.internal.GpuProfiler;
import kiln.drift.internal.ProfileStore;
import kiln.drift.internal.Profiler;
import kiln.drift.internal.SideProfile;
import kiln.drift.internal.TableProfile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The drift job: profiles each side in one pass, compares the profiles and decides. {@link
 * #compare(Dataset, Dataset)} is the pure part (DataFrames in, result out); {@link #run} reads
 * pinned Delta versions and keeps profiles in the profile table so that a reference is scanned
 * once.
 */
public final class DriftMonitor {
  private final SparkSession spark;
  private final DriftConfig config;
  private final Datasets datasets;
  private final DriftEngine engine;
  private final Profiler profiler;

  /**
   * Non-null when the session runs the RAPIDS Accelerator: the sides are then profiled with
   * built-in expressions a GPU runs ({@link GpuProfiler}) instead of the one-pass JVM fold.
   */
  private final GpuProfiler gpuProfiler;

  private final Consumer<String> progress;
  private final Optional<ProfileStore> store;
  private final Map<String, SideProfile> profiled = new ConcurrentHashMap<>();
  private final Monitoring monitoring;

  /**
   * Daemon threads for the side profiled in the background; Spark jobs do the work, so two are
   * plenty.
   */
  private static final Executor PROFILING =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "kiln-drift-profile");
            thread.setDaemon(true);
            return thread;
          });

  public DriftMonitor(SparkSession spark, DriftConfig config) {
    this(spark, config, message -> {});
  }

  public DriftMonitor(SparkSession spark, DriftConfig config, Consumer<String> progress) {
    this(spark, config, progress, null, null);
  }

  /**
   * A monitor that also compares the current side chunk by chunk (chunking non-null) and estimates
   * a classifier's performance without labels (estimation non-null). Multivariate drift runs
   * whenever the config's statistics include {@link Statistic#RECONSTRUCTION_ERROR} and there are
   * two or more numeric features.
   */
  public DriftMonitor(
      SparkSession spark,
      DriftConfig config,
      Consumer<String> progress,
      Chunking chunking,
      Estimation estimation) {
    this.spark = Objects.requireNonNull(spark, "spark is null");
    this.config = Objects.requireNonNull(config, "config is null");
    this.progress = Objects.requireNonNull(progress, "progress is null");
    this.datasets = new Datasets(spark);
    this.engine = new DriftEngine(config);
    this.profiler = new Profiler(config.exactDistinctLimit(), config.sketchK());
    this.gpuProfiler =
        SparkSessions.runsRapids(spark)
            ? new GpuProfiler(config.exactDistinctLimit(), config.sketchK())
            : null;
    this.store =
        config.profiles() == null
            ? Optional.empty()
            : Optional.of(new ProfileStore(spark, datasets, config.profiles()));
    // chunks are profiled as the whole sides are: with built-in aggregates under RAPIDS
    this.monitoring =
        new Monitoring(
            config,
            engine,
            gpuProfiler != null ? gpuProfiler::profile : cpuProfiler(profiler),
            progress,
            chunking,
            estimation);
  }

  /** The one-pass JVM fold, every chunk of a side in one pass. */
  private static Monitoring.TableProfiler cpuProfiler(Profiler profiler) {
    return new Monitoring.TableProfiler() {
      @Override
      public TableProfile profile(
          Dataset<Row> data, List<String> columns, java.util.Set<String> categorical) {
        return profiler.profile(data, columns, categorical);
      }

      @Override
      public Map<String, TableProfile> profileBy(
          Dataset<Row> data,
          String key,
          java.util.Collection<String> keys,
          List<String> columns,
          java.util.Set<String> categorical) {
        return profiler.profileBy(data, key, columns, categorical);
      }
    };
  }

  public DriftConfig config() {
    return config;
  }

  /** Compares two DataFrames (no tables read or written). */
  public DriftResult compare(Dataset<Row> reference, Dataset<Row> current) {
    List<DriftEngine.Planned> plan = engine.plan(reference.schema(), current.schema());
    SideProfile[] both =
        concurrently(
            () -> profile("reference", reference, plan), () -> profile("current", current, plan));
    SideProfile r = both[0];
    requireRows(r, "reference", "reference");
    SideProfile c = both[1];
    requireRows(c, "current", "current");
    DriftResult whole =
        decide(
            new DriftInput(DatasetRef.latest("reference"), null, "reference"),
            new DriftInput(DatasetRef.latest("current"), null, "current"),
            plan,
            r,
            c);
    return monitoring.apply(whole, plan, reference, current, r);
  }

  /** Compares two sides of Delta tables, each pinned to the version it resolves to. */
  public DriftResult run(DriftInput reference, DriftInput current) {
    return run(reference, current, Derivation.NONE, Derivation.NONE);
  }

  /**
   * Compares two sides of Delta tables, each pinned to the version it resolves to, each transformed
   * by its {@link Derivation} (e.g. scored by a model) before it is profiled.
   */
  public DriftResult run(
      DriftInput reference,
      DriftInput current,
      Derivation referenceDerivation,
      Derivation currentDerivation) {
    PinnedTable referenceTable = datasets.pin(reference.dataset());
    // two slices of one table: one resolution, one version for both
    PinnedTable currentTable =
        current.dataset().equals(reference.dataset())
            ? referenceTable
            : datasets.pin(current.dataset());
    return run(
        reference, referenceTable, current, currentTable, referenceDerivation, currentDerivation);
  }

  /**
   * {@link #run(DriftInput, DriftInput, Derivation, Derivation)} on tables the caller already
   * pinned (each side's dataset): resolves nothing again.
   */
  public DriftResult run(
      DriftInput reference,
      PinnedTable referenceTable,
      DriftInput current,
      PinnedTable currentTable,
      Derivation referenceDerivation,
      Derivation currentDerivation) {
    DriftInput pinnedReference = reference.pinned(pinnedRef(reference, referenceTable));
    DriftInput pinnedCurrent = current.pinned(pinnedRef(current, currentTable));
    Dataset<Row> referenceRows =
        referenceDerivation.apply(read(pinnedReference, referenceTable.rows(), "reference"));
    Dataset<Row> currentRows =
        currentDerivation.apply(read(pinnedCurrent, currentTable.rows(), "current"));
    List<DriftEngine.Planned> plan = engine.plan(referenceRows.schema(), currentRows.schema());
    SideProfile[] both =
        profileBoth(
            pinnedReference,
            referenceDerivation,
            referenceRows,
            pinnedCurrent,
            currentDerivation,
            currentRows,
            plan);
    DriftResult whole = decide(pinnedReference, pinnedCurrent, plan, both[0], both[1]);
    return monitoring.apply(whole, plan, referenceRows, currentRows, both[0]);
  }

  /**
   * Compares each period with the one before it (e.g. month against month); every period is
   * profiled once, whether it is a reference, a current side, or both.
   */
  public List<DriftResult> consecutive(List<DriftInput> periods) {
    if (periods.size() < 2) {
      throw Errors.badInput(
          "consecutive comparisons need at least two periods, got " + periods.size(),
          "give two or more periods");
    }
    // periods are usually filters of one table: each reference is resolved once for all of them
    Map<DatasetRef, PinnedTable> tables = new java.util.HashMap<>();
    List<PinnedTable> pinned = new ArrayList<>();
    for (DriftInput period : periods) {
      pinned.add(tables.computeIfAbsent(period.dataset(), datasets::pin));
    }
    List<DriftResult> results = new ArrayList<>();
    for (int i = 1; i < periods.size(); i++) {
      results.add(
          run(
              periods.get(i - 1),
              pinned.get(i - 1),
              periods.get(i),
              pinned.get(i),
              Derivation.NONE,
              Derivation.NONE));
    }
    return results;
  }

  private DriftResult decide(
      DriftInput reference,
      DriftInput current,
      List<DriftEngine.Planned> plan,
      SideProfile r,
      SideProfile c) {
    DriftEngine.Decision decision = engine.decide(plan, r, c);
    return new DriftResult(
        reference,
        current,
        r.profile().rows(),
        c.profile().rows(),
        decision.features(),
        decision.driftedShare(),
        decision.drifted(),
        decision.summary(),
        config.thresholds(),
        r.reused());
  }

  private static DatasetRef pinnedRef(DriftInput side, PinnedTable table) {
    if (!table.table().equals(side.dataset().table())) {
      throw new IllegalArgumentException(
          "the pinned table " + table + " is not the side's " + side.dataset());
    }
    return table.ref();
  }

  /** The side's rows narrowed by its filter. */
  private static Dataset<Row> read(DriftInput side, Dataset<Row> rows, String role) {
    if (side.where() == null) {
      return rows;
    }
    try {
      Dataset<Row> filtered = rows.where(side.where());
      filtered.schema();
      return filtered;
    } catch (
        Exception e) { // Spark's ParseException and AnalysisException are checked exceptions thrown
      // unchecked
      throw Errors.badInput(
          "the "
              + role
              + " filter '"
              + side.where()
              + "' is not a valid Spark SQL condition on "
              + side.dataset()
              + ": "
              + Errors.rootMessage(e),
          "fix the condition; the table has columns " + Errors.quoted(List.of(rows.columns())),
          e);
    }
  }

  /**
   * Both sides' profiles: reused ones first, then the fresh ones computed concurrently, then
   * stored.
   */
  private SideProfile[] profileBoth(
      DriftInput reference,
      Derivation referenceDerivation,
      Dataset<Row> referenceRows,
      DriftInput current,
      Derivation currentDerivation,
      Dataset<Row> currentRows,
      List<DriftEngine.Planned> plan) {
    Optional<SideProfile> r =
        reuse(reference, referenceDerivation, referenceRows, plan, "reference");
    Optional<SideProfile> c = reuse(current, currentDerivation, currentRows, plan, "current");
    SideProfile[] both =
        concurrently(
            r.isPresent() ? null : () -> fresh(reference, referenceRows, plan, "reference"),
            c.isPresent() ? null : () -> fresh(current, currentRows, plan, "current"));
    SideProfile referenceProfile = r.orElse(both[0]);
    SideProfile currentProfile = c.orElse(both[1]);
    if (r.isEmpty()) {
      keep(reference, referenceDerivation, referenceProfile);
    }
    if (c.isEmpty()) {
      keep(current, currentDerivation, currentProfile);
    }
    return new SideProfile[] {referenceProfile, currentProfile};
  }

  /**
   * Runs the two (nullable) tasks at the same time: two Spark jobs, so that a side with fewer
   * partitions than the cluster has cores (e.g. one day of data in one file) does not leave the
   * rest idle.
   */
  private SideProfile[] concurrently(Supplier<SideProfile> first, Supplier<SideProfile> second) {
    if (first == null || second == null) {
      return new SideProfile[] {
        first == null ? null : first.get(), second == null ? null : second.get()
      };
    }
    String tag = "kiln-drift-profile-" + java.util.UUID.randomUUID();
    java.util.concurrent.atomic.AtomicBoolean abandoned =
        new java.util.concurrent.atomic.AtomicBoolean();
    CompletableFuture<SideProfile> background =
        CompletableFuture.supplyAsync(
            () -> {
              spark.sparkContext().addJobTag(tag);
              try {
                if (abandoned.get()) {
                  throw new java.util.concurrent.CancellationException("the other side failed");
                }
                return first.get();
              } finally {
                spark.sparkContext().removeJobTag(tag);
              }
            },
            PROFILING);
    SideProfile secondResult;
    try {
      secondResult = second.get();
    } catch (RuntimeException | Error e) {
      // the other side's profile is no longer wanted: cancel its Spark job and wait for it, so that
      // no
      // work outlives the failed comparison (a test counting profiling jobs found one running on)
      abandoned.set(true);
      spark.sparkContext().cancelJobsWithTag(tag);
      try {
        background.join();
      } catch (RuntimeException ignored) {
        // cancelled, or failed too: the first failure is the one to report
      }
      throw e;
    }
    try {
      return new SideProfile[] {background.join(), secondResult};
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error cause) {
        throw cause;
      }
      throw e;
    }
  }

  private Optional<SideProfile> reuse(
      DriftInput side,
      Derivation derivation,
      Dataset<Row> rows,
      List<DriftEngine.Planned> plan,
      String role) {
    SideProfile cached = profiled.get(key(side, derivation));
    List<String> columns = engine.profiledColumns(plan, rows.schema());
    if (cached != null && cached.profile().columns().keySet().containsAll(columns)) {
      return Optional.of(new SideProfile(cached.profile(), cached.types(), true));
    }
    if (store.isPresent()) {
      Optional<SideProfile> stored =
          store.get().find(side.dataset(), side.where(), settings(derivation), columns);
      if (stored.isPresent()) {
        progress.accept("reusing the stored profile of " + side.label());
        requireRows(stored.get(), side.label(), role);
        profiled.put(key(side, derivation), stored.get());
        return stored;
      }
    }
    return Optional.empty();
  }

  private SideProfile fresh(
      DriftInput side, Dataset<Row> rows, List<DriftEngine.Planned> plan, String role) {
    progress.accept(
        "profiling "
            + role
            + " "
            + side.label()
            + (gpuProfiler != null ? " (built-in aggregates for the GPU, " : " (one pass, ")
            + engine.profiledColumns(plan, rows.schema()).size()
            + " columns)");
    SideProfile fresh = profile(role, rows, plan);
    requireRows(fresh, side.label(), role);
    return fresh;
  }

  private void keep(DriftInput side, Derivation derivation, SideProfile fresh) {
    store.ifPresent(s -> s.save(side.dataset(), side.where(), settings(derivation), fresh));
    profiled.put(key(side, derivation), fresh);
  }

  private static String key(DriftInput side, Derivation derivation) {
    return side.dataset()
        + "|"
        + (side.where() == null ? "" : side.where())
        + "|"
        + derivation.id();
  }

  private SideProfile profile(String role, Dataset<Row> rows, List<DriftEngine.Planned> plan) {
    StructType schema = rows.schema();
    List<String> columns = engine.profiledColumns(plan, schema);
    TableProfile profile =
        gpuProfiler != null
            ? gpuProfiler.profile(rows, columns, config.categoricalSet())
            : profiler.profile(rows, columns, config.categoricalSet());
    return new SideProfile(profile, DriftEngine.types(schema), false);
  }

  private static void requireRows(SideProfile side, String label, String role) {
    if (side.profile().rows() == 0) {
      throw Errors.badInput(
          "the " + role + " data " + (label.equals(role) ? "" : label + " ") + "has no rows",
          "check the version and the filter of the " + role + " side");
    }
  }

  /** What a stored profile must have been built with to be reused. */
  private String settings(Derivation derivation) {
    return "format=1;exact="
        + config.exactDistinctLimit()
        + ";k="
        + config.sketchK()
        + ";categorical="
        + String.join(",", new TreeSet<>(config.categorical()))
        + (derivation.id().isEmpty() ? "" : ";derived=" + derivation.id())
        // the gpu path's distributions beyond exactDistinctLimit are quantiles, not KLL sketches
        + (gpuProfiler == null ? "" : ";profiler=gpu");
  }
}
