package kiln.lineage;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import kiln.core.CodeVersion;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;

/**
 * Lineage for a command's runs: each run gets the triad as tags ({@link RunLineage}) and emits
 * OpenLineage START, then COMPLETE or FAIL. Events go to {@code WORKDIR/lineage/events.jsonl}
 * always, to standard error with {@code KILN_LINEAGE_CONSOLE=true}, and to an HTTP endpoint when
 * {@code OPENLINEAGE_URL} is set (the OpenLineage clients' variables: {@code OPENLINEAGE_ENDPOINT},
 * {@code OPENLINEAGE_API_KEY}, {@code OPENLINEAGE_NAMESPACE}, {@code OPENLINEAGE_DISABLED}, {@code
 * OPENLINEAGE_PARENT_ID}, {@code OPENLINEAGE_ROOT_PARENT_ID}). Output datasets carry the spec's
 * columnLineage facet, read from the plan of each frame a run writes ({@link ColumnLineage});
 * {@code KILN_LINEAGE_COLUMNS=false} leaves it out.
 */
public final class Lineage {
  public static final String DEFAULT_NAMESPACE = "kiln";

  /**
   * {@code false} leaves the columnLineage facet out (it is read from each written frame's plan).
   */
  public static final String COLUMNS_VARIABLE = "KILN_LINEAGE_COLUMNS";

  private final Path directory;
  private final List<Transport> transports;
  private final String namespace;
  private final Optional<ParentRun> parent;
  private final Optional<ParentRun> root;
  private final Consumer<String> notices;
  private final CodeVersion code;
  private final Deque<LineageRun> active = new ArrayDeque<>();
  private final boolean columns;
  private AutoCloseable observing;

  Lineage(
      Path directory,
      List<Transport> transports,
      String namespace,
      Optional<ParentRun> parent,
      Optional<ParentRun> root,
      CodeVersion code,
      Consumer<String> notices,
      boolean columns) {
    this.columns = columns && !transports.isEmpty();
    this.directory = directory;
    this.transports = List.copyOf(transports);
    this.namespace = namespace;
    this.parent = parent;
    this.root = root;
    this.code = code;
    this.notices = notices;
  }

  /** Lineage as the environment configures it, with its files under {@code WORKDIR/lineage}. */
  public static Lineage open(Path workdir, Map<String, String> env, Consumer<String> notices) {
    Objects.requireNonNull(workdir, "workdir is null");
    Path directory = workdir.resolve("lineage");
    List<Transport> transports = new ArrayList<>();
    if (!"true".equalsIgnoreCase(env.getOrDefault("OPENLINEAGE_DISABLED", "false"))) {
      transports.add(new FileTransport(directory, notices));
      if ("true".equalsIgnoreCase(env.getOrDefault("KILN_LINEAGE_CONSOLE", "false"))) {
        transports.add(new ConsoleTransport(System.err));
      }
      String url = env.get("OPENLINEAGE_URL");
      if (url != null && !url.isBlank()) {
        transports.add(
            new HttpTransport(
                HttpTransport.Settings.of(
                    url, env.get("OPENLINEAGE_ENDPOINT"), env.get("OPENLINEAGE_API_KEY")),
                directory,
                notices));
      }
    }
    Optional<ParentRun> parent = parent(env, "OPENLINEAGE_PARENT_ID", notices);
    Optional<ParentRun> root = parent(env, "OPENLINEAGE_ROOT_PARENT_ID", notices);
    String namespace = env.getOrDefault("OPENLINEAGE_NAMESPACE", DEFAULT_NAMESPACE);
    return new Lineage(
        directory,
        transports,
        namespace.isBlank() ? DEFAULT_NAMESPACE : namespace,
        parent,
        root,
        CodeVersion.current(),
        notices,
        !"false".equalsIgnoreCase(env.getOrDefault(COLUMNS_VARIABLE, "true")));
  }

  private static Optional<ParentRun> parent(
      Map<String, String> env, String variable, Consumer<String> notices) {
    String value = env.get(variable);
    Optional<ParentRun> parsed = ParentRun.parse(value);
    if (value != null && !value.isBlank() && parsed.isEmpty()) {
      // a malformed parent from a scheduler must not fail the job: its events go without the facet
      notices.accept(
          "lineage: "
              + variable
              + "='"
              + value
              + "' is not NAMESPACE/JOB_NAME/RUN_ID (a UUID); events"
              + " are sent without a parent");
    }
    return parsed;
  }

  /** Where the file transport writes. */
  public Path directory() {
    return directory;
  }

  /**
   * Wraps a started run: sets the triad's tags on it, uploads {@code config} (may be null) as an
   * artifact, emits START; the returned run records the tables the job logs and emits COMPLETE or
   * FAIL when it ends.
   */
  public TrackedRun run(
      TrackedRun started,
      String runName,
      Map<String, String> tags,
      Path config,
      String trackingUri) {
    RunLineage triad = new RunLineage(code, config);
    String job = tags.getOrDefault("kiln.job", "job");
    // a run opened inside another (the demo's steps) has that run as its parent, and the outermost
    // as root
    Optional<ParentRun> runParent = parent;
    Optional<ParentRun> runRoot = root;
    synchronized (active) {
      if (!active.isEmpty()) {
        runParent = Optional.of(active.peek().asParent(namespace));
        runRoot =
            root.or(() -> parent).or(() -> Optional.of(active.peekLast().asParent(namespace)));
      }
    }
    OpenLineageEvents events =
        new OpenLineageEvents(
            code.kilnVersion(), namespace, jobName(job, runName), runParent, runRoot);
    LineageRun run = new LineageRun(started, triad, events, this, trackingUri);
    synchronized (active) {
      if (active.isEmpty() && columns) {
        observing = kiln.core.Datasets.observeWrites(this::writing);
      }
      active.push(run);
    }
    run.start();
    return run;
  }

  /**
   * Puts what a check found of a table version {@code run} read on that input's OpenLineage facets
   * (data-quality assertions and metrics). {@code run} is one {@link #run} returned; any other run
   * has no events to carry it.
   */
  public void dataQuality(TrackedRun run, DataQuality quality) {
    Objects.requireNonNull(quality, "quality is null");
    if (run instanceof LineageRun lineageRun) {
      lineageRun.dataQuality(quality);
    } else {
      notices.accept(
          "lineage: run " + run.id() + " emits no events; its data-quality facet is dropped");
    }
  }

  /** A Tracking whose registered model versions carry the innermost open run's triad. */
  public Tracking tracking(Tracking delegate) {
    return new LineageTracking(delegate, this);
  }

  Optional<LineageRun> innermost() {
    synchronized (active) {
      return Optional.ofNullable(active.peek());
    }
  }

  void ended(LineageRun run) {
    synchronized (active) {
      active.remove(run);
      if (active.isEmpty() && observing != null) {
        try {
          observing.close();
        } catch (Exception e) {
          notices.accept("lineage: cannot stop observing writes (" + e + ")");
        }
        observing = null;
      }
    }
  }

  /**
   * A frame being written in a run of this command: its column-level lineage goes to the innermost
   * open run (the one writing), with what the job said of columns the plan cannot show. Reading the
   * plan runs no Spark job; a plan it cannot read leaves the facet out, never the job.
   */
  private void writing(
      org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> data,
      String table,
      Optional<kiln.core.ColumnSources> known) {
    Optional<LineageRun> run = innermost();
    if (run.isEmpty()) {
      return;
    }
    try {
      run.get().columnLineage(table, ColumnLineage.of(data, known.orElse(null)));
    } catch (RuntimeException | LinkageError e) {
      notices.accept(
          "lineage: cannot read the column lineage of the write to "
              + table
              + " ("
              + e
              + "); its event goes without it");
    }
  }

  void emit(String event) {
    for (Transport transport : transports) {
      try {
        transport.emit(event);
      } catch (Exception e) {
        notices.accept(
            "lineage: a "
                + transport.getClass().getSimpleName()
                + " failed ("
                + e
                + "); the job goes on");
      }
    }
  }

  void notice(String text) {
    notices.accept(text);
  }

  /**
   * {@code kiln.train}, {@code kiln.contracts_check}: stable across runs of the same kind of job.
   */
  static String jobName(String job, String runName) {
    String base = "kiln." + job.trim().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    return base;
  }
}
