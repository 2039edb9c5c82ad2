package kiln.lineage;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kiln.core.DatasetRef;
import kiln.core.tracking.TrackedRun;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A run that records its lineage as the job logs to it; everything else goes to the wrapped run.
 */
final class LineageRun implements TrackedRun {
  private final TrackedRun delegate;
  private final RunLineage triad;
  private final OpenLineageEvents events;
  private final Lineage lineage;
  private final String trackingUri;
  private final Map<String, Optional<StructType>> schemas = new HashMap<>();
  private final Map<String, DataQuality> quality = new HashMap<>();
  private final Map<DatasetName, ColumnLineage> columns = new HashMap<>();
  private final List<OpenLineageEvents.SourceFiles> sources = new ArrayList<>();
  private volatile String model;
  private boolean ended;

  LineageRun(
      TrackedRun delegate,
      RunLineage triad,
      OpenLineageEvents events,
      Lineage lineage,
      String trackingUri) {
    this.delegate = delegate;
    this.triad = triad;
    this.events = events;
    this.lineage = lineage;
    this.trackingUri = trackingUri;
  }

  void start() {
    Map<String, String> tags = new HashMap<>(triad.tags());
    tags.put("openlineage.run_id", events.runId().toString());
    delegate.setTags(tags);
    triad
        .config()
        .ifPresent(
            config ->
                delegate.logArtifact(
                    config, RunLineage.CONFIG_ARTIFACT_DIRECTORY + "/" + config.getFileName()));
    emit("START", null);
  }

  RunLineage triad() {
    return triad;
  }

  /** This run as the parent of a run opened inside it (the demo's steps). */
  ParentRun asParent(String namespace) {
    return new ParentRun(namespace, events.jobName(), events.runId());
  }

  @Override
  public String id() {
    return delegate.id();
  }

  @Override
  public String url() {
    return delegate.url();
  }

  @Override
  public String artifactUri() {
    return delegate.artifactUri();
  }

  @Override
  public void logParams(Map<String, String> params) {
    delegate.logParams(params);
  }

  @Override
  public void logMetrics(Map<String, Double> metrics) {
    delegate.logMetrics(metrics);
  }

  @Override
  public void logMetric(String key, double value, long step) {
    delegate.logMetric(key, value, step);
  }

  @Override
  public void setTags(Map<String, String> tags) {
    delegate.setTags(tags);
    String name = tags.get("kiln.model");
    String version = tags.get("kiln.model_version");
    if (name != null && version != null) {
      model = name + "/" + version;
    }
  }

  @Override
  public void logArtifact(Path file, String artifactPath) {
    delegate.logArtifact(file, artifactPath);
  }

  @Override
  public void logText(String text, String artifactPath) {
    delegate.logText(text, artifactPath);
  }

  @Override
  public void logInput(DatasetRef pinned, String context) {
    delegate.logInput(pinned, context);
    delegate.setTags(triad.add(pinned, context));
  }

  /**
   * Files the job reads that are no table: an input of its events, named as the output's column
   * lineage names them (a glob by the directory its matches share).
   */
  @Override
  public void logSourceFiles(String location, String format) {
    delegate.logSourceFiles(location, format);
    OpenLineageEvents.SourceFiles source;
    try {
      source =
          new OpenLineageEvents.SourceFiles(
              DatasetName.ofSource(
                  location,
                  session().map(s -> s.sparkContext().hadoopConfiguration()).orElse(null)),
              location,
              format);
    } catch (RuntimeException | LinkageError e) {
      lineage.notice(
          "lineage: cannot name the source " + location + " (" + e + "); its events go without it");
      return;
    }
    synchronized (sources) {
      if (!sources.contains(source)) {
        sources.add(source);
      }
    }
  }

  /**
   * What a check found of a table this run read: on the input's facets in the COMPLETE or FAIL
   * event. The table is recorded as an input if the job has not logged it.
   */
  void dataQuality(DataQuality found) {
    boolean known =
        triad.tables().stream().anyMatch(t -> !t.output() && t.table().equals(found.table()));
    if (!known) {
      delegate.setTags(triad.add(found.table(), "input"));
    }
    synchronized (quality) {
      quality.put(found.table().toString(), found);
    }
  }

  /** The column-level lineage of a frame this run is writing to {@code table}. */
  void columnLineage(String table, ColumnLineage lineage) {
    synchronized (columns) {
      columns.put(DatasetName.of(table), lineage);
    }
  }

  /** The weights' digest of a model this run registered: on the run too. */
  void modelSha256(String sha256) {
    triad.modelSha256(sha256);
    delegate.setTags(Map.of(RunLineage.MODEL_SHA256, sha256));
  }

  @Override
  public void finish() {
    if (end()) {
      emit("COMPLETE", null);
    }
    delegate.finish();
  }

  @Override
  public void fail(Throwable error) {
    if (end()) {
      emit("FAIL", error);
    }
    delegate.fail(error);
  }

  @Override
  public void close() {
    if (end()) {
      emit("COMPLETE", null);
    }
    delegate.close();
  }

  private synchronized boolean end() {
    if (ended) {
      return false;
    }
    ended = true;
    lineage.ended(this);
    return true;
  }

  private void emit(String type, Throwable error) {
    try {
      List<OpenLineageEvents.Dataset> datasets = new ArrayList<>();
      for (RunLineage.Table table : triad.tables()) {
        Optional<DataQuality> found;
        synchronized (quality) {
          found = Optional.ofNullable(quality.get(table.table().toString()));
        }
        Optional<ColumnLineage> written;
        synchronized (columns) {
          written =
              table.output()
                  ? Optional.ofNullable(columns.get(DatasetName.of(table.table().table())))
                  : Optional.empty();
        }
        datasets.add(new OpenLineageEvents.Dataset(table, schema(table.table()), found, written));
      }
      List<OpenLineageEvents.SourceFiles> read;
      synchronized (sources) {
        read = List.copyOf(sources);
      }
      lineage.emit(
          events.event(
              type, Instant.now(), delegate.id(), trackingUri, model, datasets, read, error));
    } catch (Exception e) {
      // Scala code throws checked exceptions undeclared: anything here is caught, lineage never
      // fails the job
      lineage.notice("lineage: cannot build the " + type + " event (" + e + "); the job goes on");
    }
  }

  /** The job's Spark session, if Spark is there and one is open. */
  private static Optional<SparkSession> session() {
    return SparkSession.getActiveSession().isDefined()
        ? Optional.of(SparkSession.getActiveSession().get())
        : SparkSession.getDefaultSession().isDefined()
            ? Optional.of(SparkSession.getDefaultSession().get())
            : Optional.empty();
  }

  /**
   * The table's schema at the version the run saw, through the job's Spark session (none: no
   * facet).
   */
  private Optional<StructType> schema(DatasetRef table) {
    return schemas.computeIfAbsent(
        table.toString(),
        key -> {
          try {
            Optional<SparkSession> spark = session();
            if (spark.isEmpty() || table.version() == null) {
              return Optional.empty();
            }
            Optional<StructType> fromLog =
                DeltaLogSchema.at(spark.get(), table.table(), table.version());
            if (fromLog.isPresent()) {
              return fromLog;
            }
            return Optional.of(
                spark
                    .get()
                    .read()
                    .format("delta")
                    .option("versionAsOf", table.version())
                    .load(table.table())
                    .schema());
          } catch (Exception | LinkageError e) {
            // no Spark on the classpath, or the table is gone (Delta throws FileNotFoundException
            // undeclared):
            // the event goes without the schema facet
            return Optional.empty();
          }
        });
  }
}
