package kiln.jobs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import kiln.lineage.Lineage;
import kiln.tracking.server.TrackingServer;

/**
 * A command's tracking: the user's MLflow server, or Kiln's embedded one started in the work
 * directory for the length of the command. Runs end FINISHED, or FAILED with the error.
 */
final class Reporting implements AutoCloseable {
  private final MlflowTracking tracking;
  private final TrackingServer embedded;

  /**
   * The triad on every run and OpenLineage events (kiln.lineage): the one place runs get their
   * lineage.
   */
  private final Lineage lineage;

  private final Tracking lineageTracking;

  /** The command's --config file, which Kiln's command line hands over before the command runs. */
  private static final ThreadLocal<Path> COMMAND_CONFIG = new ThreadLocal<>();

  /** The command's --lineage-parent, handed over as its --config is. */
  private static final ThreadLocal<String> LINEAGE_PARENT = new ThreadLocal<>();

  private final String experiment;
  private final Console console;
  private final KilnSettings settings;

  private Reporting(
      MlflowTracking tracking,
      TrackingServer embedded,
      KilnSettings settings,
      String experiment,
      Console console,
      Map<String, String> lineageEnvironment) {
    this.tracking = tracking;
    this.embedded = embedded;
    this.experiment = experiment;
    this.console = console;
    this.settings = settings;
    this.lineage = Lineage.open(settings.workdirPath(), lineageEnvironment, console::step);
    this.lineageTracking = lineage.tracking(tracking);
  }

  /**
   * The job config the current command was given (null: none), whose digest and file every run
   * records.
   */
  static void commandConfig(Path config) {
    if (config == null) {
      COMMAND_CONFIG.remove();
    } else {
      COMMAND_CONFIG.set(config);
    }
  }

  /** The --lineage-parent the current command was given (null: none). */
  static void lineageParent(String parent) {
    if (parent == null) {
      LINEAGE_PARENT.remove();
    } else {
      LINEAGE_PARENT.set(parent);
    }
  }

  /**
   * The OpenLineage clients' environment, with --lineage-parent over OPENLINEAGE_PARENT_ID. A
   * malformed flag is the user's mistake (exit 2); a malformed variable only loses the facet.
   */
  private static Map<String, String> lineageEnvironment() {
    String parent = LINEAGE_PARENT.get();
    if (parent == null) {
      return System.getenv();
    }
    if (kiln.lineage.ParentRun.parse(parent).isEmpty()) {
      throw Errors.badInput(
          "--lineage-parent '" + parent + "' is not NAMESPACE/JOB_NAME/RUN_ID with a UUID run id",
          "give the parent as Airflow's OpenLineage provider renders it, e.g. `--lineage-parent"
              + " \"{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}\"`");
    }
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.put("OPENLINEAGE_PARENT_ID", parent);
    return env;
  }

  static Reporting open(KilnSettings settings, Console console) {
    // lineage needs the code version (the jar's digest): hashed while the tracking server starts
    kiln.core.CodeVersion.prefetch();
    // checked before anything starts: a bad flag leaves no server behind
    Map<String, String> lineageEnvironment = lineageEnvironment();
    Path spool = settings.trackingSpool();
    String uri = settings.trackingUri();
    TrackingServer embedded = null;
    if (uri == null) {
      Path store = settings.trackingStore();
      try {
        embedded =
            TrackingServer.builder()
                .host("127.0.0.1")
                .port(0)
                .storeDirectory(store)
                .build()
                .start();
      } catch (IOException | RuntimeException e) {
        // the command's input was fine: the machine cannot give the server a port or a store
        throw Errors.environment(
            "cannot start the embedded MLflow tracking server with its store in "
                + store
                + ": "
                + Errors.rootMessage(e),
            "make "
                + store
                + " a writable directory (or pass --workdir elsewhere), or give"
                + " --tracking-uri of a running server",
            e);
      }
      uri = embedded.uri().toString();
      console.step(
          "MLflow tracking: embedded server at "
              + uri
              + " (store "
              + store
              + "; browse it later with"
              + " `bin/kiln server --store "
              + store
              + "`)");
    } else {
      console.step("MLflow tracking: " + kiln.core.Secrets.redact(uri));
    }
    MlflowTracking tracking = MlflowTracking.connect(uri, System.getenv(), spool, console::step);
    return new Reporting(
        tracking, embedded, settings, settings.experiment(), console, lineageEnvironment);
  }

  Tracking tracking() {
    return lineageTracking;
  }

  /**
   * What a command's check found of a table version its run read, on that input's OpenLineage
   * facets: commands supply facets, lineage carries them.
   */
  void dataQuality(TrackedRun run, kiln.lineage.DataQuality quality) {
    lineage.dataQuality(run, quality);
  }

  /**
   * Runs {@code job} inside a run; the run ends FAILED (and the error propagates) if the job
   * throws.
   */
  <R> R run(String runName, Map<String, String> tags, Function<TrackedRun, R> job) {
    return runPriced(runName, tags, job).result();
  }

  /**
   * A job's result and the cost its run was priced at (null when the cost could not be recorded),
   * so that a command prints the very figures the run logged.
   */
  record Priced<R>(R result, kiln.cost.Cost cost) {}

  /** As {@link #run}, with the run's cost. */
  <R> Priced<R> runPriced(String runName, Map<String, String> tags, Function<TrackedRun, R> job) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.putIfAbsent("mlflow.source.name", "kiln " + tags.getOrDefault("kiln.job", ""));
    String version = Kiln.class.getPackage().getImplementationVersion();
    allTags.putIfAbsent("kiln.version", version == null ? "development" : version);
    TrackedRun run =
        lineage.run(
            tracking.startRun(experiment, runName, allTags),
            runName,
            allTags,
            COMMAND_CONFIG.get(),
            tracking.uri());
    markDeadRuns();
    JobCost cost =
        JobCost.start(settings, tags.getOrDefault("kiln.job", runName), allTags, console);
    try {
      R result = job.apply(run);
      kiln.cost.Cost priced = cost.record(run, result);
      run.finish();
      console.step("MLflow run: " + run.url());
      return new Priced<>(result, priced);
    } catch (RuntimeException | Error e) {
      cost.record(run, null);
      run.fail(e);
      throw e;
    }
  }

  /** A run on another host whose driver sent no heartbeat for this long is taken as dead. */
  static final java.time.Duration STALE_AFTER = java.time.Duration.ofMinutes(10);

  /**
   * Housekeeping as a run starts: the experiment's runs that a killed driver left RUNNING are
   * marked KILLED, with the reason. Best effort: a failure here never stops the job.
   */
  void markDeadRuns() {
    try {
      for (String marked : tracking.markDeadRuns(experiment, STALE_AFTER)) {
        console.step("MLflow " + marked);
      }
    } catch (RuntimeException e) {
      console.step(
          "could not look for runs left RUNNING by killed drivers: " + Errors.rootMessage(e));
    }
  }

  /** For {@code kiln tracking sweep}: the runs marked KILLED now. */
  java.util.List<String> markDeadRuns(String experiment, java.time.Duration staleAfter) {
    return tracking.markDeadRuns(experiment, staleAfter);
  }

  @Override
  public void close() {
    try {
      tracking.close();
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }
}
