package kiln.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Versioned Delta tables: reads pinned to a version or a time, writes that return the version they
 * made (and are not repeated when retried with the same idempotency key), and history.
 */
public final class Datasets {
  /** The commit metadata key that holds a write's idempotency key. */
  public static final String IDEMPOTENCY_KEY = "kiln.idempotencyKey";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How often each table was resolved in this JVM: tests prove with it that a job resolves a table
   * once.
   */
  private static final Map<String, java.util.concurrent.atomic.AtomicLong> RESOLUTIONS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final SparkSession spark;

  public Datasets(SparkSession spark) {
    this.spark = Objects.requireNonNull(spark, "spark is null");
  }

  public boolean exists(String table) {
    try {
      return DeltaTable.isDeltaTable(spark, table);
    } catch (RuntimeException e) {
      // an unreachable file system or a malformed URI: the table is not there for us
      throw Errors.badInput(
          "cannot open table " + table + ": " + Errors.rootMessage(e),
          "check the path or URI and its credentials");
    }
  }

  /** The commits of a table, oldest first. */
  public List<TableVersion> history(String table) {
    requireTable(table);
    List<TableVersion> versions = new ArrayList<>();
    for (Row row : DeltaTable.forPath(spark, table).history().collectAsList()) {
      versions.add(
          new TableVersion(
              row.<Long>getAs("version"),
              row.<java.sql.Timestamp>getAs("timestamp").toInstant(),
              row.getAs("operation"),
              javaMap(row, "operationParameters"),
              javaMap(row, "operationMetrics"),
              row.getAs("userMetadata")));
    }
    versions.sort(Comparator.comparingLong(TableVersion::version));
    return versions;
  }

  public long latestVersion(String table) {
    return resolve(DatasetRef.latest(table)).version();
  }

  /**
   * The reference pinned to a concrete version: the latest, the one given, or the one current at
   * the time. A version or the latest is checked against the commit files of the transaction log
   * (no Spark job); a time needs the commits' times, from Delta's history.
   */
  public DatasetRef resolve(DatasetRef ref) {
    RESOLUTIONS
        .computeIfAbsent(ref.table(), t -> new java.util.concurrent.atomic.AtomicLong())
        .incrementAndGet();
    if (ref.timestamp() == null) {
      long[] range = logRange(ref.table());
      if (range != null) {
        if (ref.version() == null) {
          return ref.withVersion(range[1]);
        }
        if (ref.version() < range[0] || ref.version() > range[1]) {
          throw Errors.versionDoesNotExist(ref.table(), ref.version(), range[0], range[1]);
        }
        return ref;
      }
    }
    List<TableVersion> history = history(ref.table());
    TableVersion first = history.get(0);
    TableVersion latest = history.get(history.size() - 1);
    if (ref.version() != null) {
      if (ref.version() < first.version() || ref.version() > latest.version()) {
        throw Errors.versionDoesNotExist(
            ref.table(), ref.version(), first.version(), latest.version());
      }
      return ref;
    }
    if (ref.timestamp() == null) {
      return ref.withVersion(latest.version());
    }
    Instant at =
        ref.instant(ZoneId.of(spark.conf().get("spark.sql.session.timeZone"))).orElseThrow();
    if (at.isBefore(first.timestamp())) {
      throw Errors.timestampBeforeFirstCommit(
          ref.table(), ref.timestamp(), first.timestamp().toString(), first.version());
    }
    if (at.isAfter(latest.timestamp()) && at.isAfter(Instant.now())) {
      throw Errors.timestampAfterLatestCommit(
          ref.table(), ref.timestamp(), latest.timestamp().toString(), latest.version());
    }
    long version = first.version();
    for (TableVersion commit : history) {
      if (!commit.timestamp().isAfter(at)) {
        version = commit.version();
      }
    }
    return ref.withVersion(version);
  }

  /**
   * Resolves the reference once and returns it pinned, with its rows at that version. A job pins
   * each table it reads once and passes the {@link PinnedTable} down: reading it again resolves
   * nothing.
   */
  public PinnedTable pin(DatasetRef ref) {
    DatasetRef pinned = resolve(ref);
    if (ref.version() != null || ref.timestamp() != null) {
      // a version asked for by number or time may be old: refuse it here, by name, rather than as
      // a FileNotFoundException halfway through the job (the latest is always readable)
      unreadable(pinned)
          .ifPresent(
              reason -> {
                throw Errors.versionUnreadable(pinned.table(), pinned.version(), reason);
              });
    }
    return new PinnedTable(
        pinned,
        spark.read().format("delta").option("versionAsOf", pinned.version()).load(pinned.table()));
  }

  /**
   * Why a version of a table can no longer be read, or empty when it can: the table is gone,
   * Delta's log retention removed the version's log entries, or VACUUM deleted data files it needs.
   * VACUUM only deletes files the latest version no longer references, so only those are looked for
   * (one existence check each): a version still current costs a listing of the log.
   */
  public java.util.Optional<String> unreadable(DatasetRef ref) {
    Objects.requireNonNull(ref, "ref is null");
    if (ref.version() == null) {
      throw new IllegalArgumentException("unreadable needs a pinned version, got " + ref);
    }
    long version = ref.version();
    long[] range = logRange(ref.table());
    if (range == null && !exists(ref.table())) {
      return java.util.Optional.of(ref.table() + " is no longer a Delta table (its log is gone)");
    }
    long latest = range != null ? range[1] : latestVersion(ref.table());
    if (range != null && version < range[0]) {
      return java.util.Optional.of(
          "Delta's log retention (delta.logRetentionDuration) removed the log entries before"
              + " version "
              + range[0]);
    }
    if (version > latest) {
      return java.util.Optional.of("it was never written; the latest version is " + latest);
    }
    if (version == latest) {
      return java.util.Optional.empty();
    }
    java.util.Set<String> current =
        java.util.Set.of(
            spark
                .read()
                .format("delta")
                .option("versionAsOf", latest)
                .load(ref.table())
                .inputFiles());
    org.apache.hadoop.conf.Configuration hadoop = spark.sessionState().newHadoopConf();
    int missing = 0;
    String example = null;
    String[] files =
        spark.read().format("delta").option("versionAsOf", version).load(ref.table()).inputFiles();
    for (String file : files) {
      if (current.contains(file)) {
        continue;
      }
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
      try {
        if (!path.getFileSystem(hadoop).exists(path)) {
          missing++;
          example = example == null ? path.getName() : example;
        }
      } catch (java.io.IOException e) {
        throw Errors.environment(
            "cannot check the data files of " + ref + ": " + e.getMessage(),
            "check the storage is reachable and its credentials, then run again",
            e);
      }
    }
    if (missing == 0) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(
        "VACUUM deleted "
            + missing
            + " of its "
            + files.length
            + " data file(s), e.g. "
            + example
            + " (Delta keeps files a later version replaced for"
            + " delta.deletedFileRetentionDuration, 7 days by default)");
  }

  /**
   * The rows of the table at the version the reference resolves to (one resolution; see {@link
   * #pin}).
   */
  public Dataset<Row> read(DatasetRef ref) {
    return pin(ref).rows();
  }

  /**
   * How many times {@link #resolve} (and so {@link #pin} and {@link #read}) resolved {@code table}
   * in this JVM.
   */
  public static long resolutions(String table) {
    java.util.concurrent.atomic.AtomicLong count = RESOLUTIONS.get(table);
    return count == null ? 0 : count.get();
  }

  /**
   * Told of every {@link #write} before it runs, with the frame whose plan the write executes:
   * lineage reads column-level lineage from the plan there, synchronously (a Spark listener would
   * be told later, on the listener bus, and could be dropped when its queue is full).
   */
  @FunctionalInterface
  public interface WriteObserver {
    /**
     * {@code known}: what the writing job said of columns the plan cannot show (none: empty), see
     * {@link ColumnSources}.
     */
    void writing(Dataset<Row> data, String table, Optional<ColumnSources> known);
  }

  private static final List<WriteObserver> OBSERVERS =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Adds an observer of writes in this JVM until the returned handle is closed. */
  public static AutoCloseable observeWrites(WriteObserver observer) {
    Objects.requireNonNull(observer, "observer is null");
    OBSERVERS.add(observer);
    return () -> OBSERVERS.remove(observer);
  }

  /** Writes {@code data} as a new version of {@code table}, creating the table if needed. */
  public WriteResult write(Dataset<Row> data, String table, WriteOptions options) {
    return write(data, table, options, null);
  }

  /**
   * As {@link #write(Dataset, String, WriteOptions)}; {@code known} (may be null) says where
   * columns come from that the frame's plan cannot show (a model's outputs), for lineage.
   */
  public WriteResult write(
      Dataset<Row> data, String table, WriteOptions options, ColumnSources known) {
    boolean existed = exists(table);
    String key = options.idempotencyKey();
    long before = -1;
    if (existed && key != null) {
      List<TableVersion> history = history(table);
      Optional<TableVersion> done = committedWith(history, key, options.mode());
      if (done.isPresent()) {
        return new WriteResult(
            DatasetRef.atVersion(table, done.get().version()),
            done.get().outputRows().orElse(0),
            true);
      }
      before = history.get(history.size() - 1).version();
    } else if (existed) {
      before = lastCommit(table).version();
    }
    DataFrameWriter<Row> writer =
        data.write()
            .format("delta")
            .mode(options.mode().toString())
            .option("userMetadata", metadataJson(options));
    if (key != null && options.mode() == WriteMode.APPEND) {
      writer = writer.option("txnAppId", key).option("txnVersion", 0L);
    }
    for (WriteObserver observer : OBSERVERS) {
      try {
        observer.writing(data, table, Optional.ofNullable(known));
      } catch (RuntimeException | LinkageError e) {
        // an observer (lineage) never fails the write it watches
      }
    }
    try {
      writer.save(table);
    } catch (Exception e) {
      String state = existed ? "the table stays at version " + before : "no table was created";
      throw Errors.writeFailed(table, state, e);
    }
    TableVersion commit = lastCommit(table);
    if (key != null && !key.equals(commitMetadata(commit).get(IDEMPOTENCY_KEY))) {
      // a concurrent retry may have committed the key first, and Delta then skipped our write
      commit = committedWith(history(table), key, WriteMode.APPEND).orElse(commit);
    }
    boolean skipped = commit.version() <= before;
    return new WriteResult(
        DatasetRef.atVersion(table, commit.version()), commit.outputRows().orElse(0), skipped);
  }

  /**
   * The commit that already holds a write with this idempotency key, if any (for OVERWRITE: only if
   * it is the latest commit). Lets a job skip its work entirely when it is a retry.
   */
  public Optional<TableVersion> committed(String table, String key, WriteMode mode) {
    return exists(table) ? committedWith(history(table), key, mode) : Optional.empty();
  }

  /**
   * The commit that made {@code version} of {@code table}, read from its commit file in the
   * transaction log (no Spark job); Delta's history when the file is gone (log clean-up after a
   * checkpoint).
   */
  public TableVersion commitAt(String table, long version) {
    org.apache.hadoop.fs.Path file =
        new org.apache.hadoop.fs.Path(
            new org.apache.hadoop.fs.Path(table, "_delta_log"),
            String.format(java.util.Locale.ROOT, "%020d.json", version));
    try {
      org.apache.hadoop.fs.FileSystem fs =
          file.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(file)) {
        return readCommit(fs, fs.getFileStatus(file), table);
      }
    } catch (java.io.IOException e) {
      throw Errors.badInput(
          "cannot read the transaction log of " + table + ": " + e.getMessage(),
          "check the path or URI and its credentials");
    }
    return history(table).stream()
        .filter(c -> c.version() == version)
        .findFirst()
        .orElseThrow(
            () ->
                Errors.badInput(
                    "table " + table + " has no commit " + version,
                    "give a version listed by `kiln datasets history " + table + "`"));
  }

  /**
   * The lowest and highest version with a commit file in the log, or null when there is none (not a
   * Delta table).
   */
  private long[] logRange(String table) {
    org.apache.hadoop.fs.Path log = new org.apache.hadoop.fs.Path(table, "_delta_log");
    try {
      org.apache.hadoop.fs.FileSystem fs =
          log.getFileSystem(spark.sparkContext().hadoopConfiguration());
      org.apache.hadoop.fs.FileStatus[] commits = commitFiles(fs, log);
      if (commits.length == 0) {
        return null;
      }
      long low = Long.MAX_VALUE;
      long high = Long.MIN_VALUE;
      for (org.apache.hadoop.fs.FileStatus commit : commits) {
        long version = Long.parseLong(commit.getPath().getName().substring(0, 20));
        low = Math.min(low, version);
        high = Math.max(high, version);
      }
      return new long[] {low, high};
    } catch (java.io.IOException | IllegalArgumentException e) {
      // an unreachable file system or a malformed URI: let the history path say what is wrong
      return null;
    }
  }

  private static org.apache.hadoop.fs.FileStatus[] commitFiles(
      org.apache.hadoop.fs.FileSystem fs, org.apache.hadoop.fs.Path log)
      throws java.io.IOException {
    return fs.exists(log)
        ? fs.listStatus(log, p -> p.getName().matches("\\d{20}\\.json"))
        : new org.apache.hadoop.fs.FileStatus[0];
  }

  /**
   * A commit file's commitInfo action; Delta's history when it has none (a commit written by
   * another engine).
   */
  private TableVersion readCommit(
      org.apache.hadoop.fs.FileSystem fs, org.apache.hadoop.fs.FileStatus file, String table)
      throws java.io.IOException {
    long version = Long.parseLong(file.getPath().getName().substring(0, 20));
    try (java.io.BufferedReader lines =
        new java.io.BufferedReader(
            new java.io.InputStreamReader(
                fs.open(file.getPath()), java.nio.charset.StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        com.fasterxml.jackson.databind.JsonNode info = JSON.readTree(line).get("commitInfo");
        if (info != null) {
          // history's time of a commit is its file's modification time (without in-commit
          // timestamps)
          return new TableVersion(
              version,
              Instant.ofEpochMilli(file.getModificationTime()),
              info.path("operation").asText(),
              stringMap(info.get("operationParameters")),
              stringMap(info.get("operationMetrics")),
              info.hasNonNull("userMetadata") ? info.get("userMetadata").asText() : null);
        }
      }
    }
    return history(table).stream().filter(c -> c.version() == version).findFirst().orElseThrow();
  }

  /**
   * The newest commit, read straight from the transaction log as the Delta protocol defines it (the
   * highest {@code _delta_log/NNN.json} and its commitInfo action): no snapshot, no Spark job.
   */
  public TableVersion lastCommit(String table) {
    org.apache.hadoop.fs.Path log = new org.apache.hadoop.fs.Path(table, "_delta_log");
    try {
      org.apache.hadoop.fs.FileSystem fs =
          log.getFileSystem(spark.sparkContext().hadoopConfiguration());
      org.apache.hadoop.fs.FileStatus[] commits = commitFiles(fs, log);
      if (commits.length == 0) {
        throw Errors.notADeltaTable(table);
      }
      org.apache.hadoop.fs.FileStatus newest =
          java.util.Arrays.stream(commits)
              .max(Comparator.comparing(f -> f.getPath().getName()))
              .orElseThrow();
      return readCommit(fs, newest, table);
    } catch (java.io.IOException e) {
      throw Errors.badInput(
          "cannot read the transaction log of " + table + ": " + e.getMessage(),
          "check the path or URI and its credentials");
    }
  }

  private static Map<String, String> stringMap(com.fasterxml.jackson.databind.JsonNode node) {
    Map<String, String> values = new LinkedHashMap<>();
    if (node != null) {
      node.fields()
          .forEachRemaining(
              e ->
                  values.put(
                      e.getKey(),
                      e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
    }
    return values;
  }

  /** The metadata recorded with a commit by {@link WriteOptions#metadata}. */
  public static Map<String, String> commitMetadata(TableVersion commit) {
    if (commit.userMetadata() == null || !commit.userMetadata().startsWith("{")) {
      return Map.of();
    }
    try {
      return JSON.readValue(
          commit.userMetadata(), new TypeReference<LinkedHashMap<String, String>>() {});
    } catch (JsonProcessingException e) {
      return Map.of();
    }
  }

  private static Optional<TableVersion> committedWith(
      List<TableVersion> history, String key, WriteMode mode) {
    if (mode == WriteMode.OVERWRITE) {
      TableVersion latest = history.get(history.size() - 1);
      return key.equals(commitMetadata(latest).get(IDEMPOTENCY_KEY))
          ? Optional.of(latest)
          : Optional.empty();
    }
    return history.stream()
        .filter(c -> key.equals(commitMetadata(c).get(IDEMPOTENCY_KEY)))
        .findFirst();
  }

  private static String metadataJson(WriteOptions options) {
    Map<String, String> metadata = new LinkedHashMap<>(options.metadata());
    if (options.idempotencyKey() != null) {
      metadata.put(IDEMPOTENCY_KEY, options.idempotencyKey());
    }
    try {
      return JSON.writeValueAsString(metadata);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize commit metadata", e);
    }
  }

  private void requireTable(String table) {
    if (!exists(table)) {
      throw Errors.notADeltaTable(table);
    }
  }

  private static Map<String, String> javaMap(Row row, String field) {
    int index = row.fieldIndex(field);
    if (row.isNullAt(index)) {
      return Map.of();
    }
    Map<String, String> copy = new LinkedHashMap<>();
    row.<String, String>getJavaMap(index).forEach(copy::put);
    return copy;
  }
}
