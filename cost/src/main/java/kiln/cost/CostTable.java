package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The Delta table of job costs, one row per job run, appended through core's {@link Datasets} (a
 * retried append of the same run is not repeated: the run id is the idempotency key).
 */
public final class CostTable {
  static final StructType SCHEMA =
      new StructType()
          .add("job", DataTypes.StringType, false)
          .add("run_id", DataTypes.StringType)
          .add("tags", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))
          .add("start", DataTypes.TimestampType, false)
          .add("end", DataTypes.TimestampType, false)
          .add("core_seconds_allocated", DataTypes.DoubleType, false)
          .add("core_seconds_used", DataTypes.DoubleType, false)
          .add("gpu_seconds_allocated", DataTypes.DoubleType, false)
          .add("gpu_type", DataTypes.StringType)
          .add("memory_gb_seconds", DataTypes.DoubleType, false)
          .add("input_bytes", DataTypes.LongType, false)
          .add("output_bytes", DataTypes.LongType, false)
          .add("shuffle_read_bytes", DataTypes.LongType, false)
          .add("shuffle_write_bytes", DataTypes.LongType, false)
          .add("tasks", DataTypes.LongType, false)
          .add("failed_tasks", DataTypes.LongType, false)
          .add("driver_seconds", DataTypes.DoubleType, false)
          .add("prompt_tokens", DataTypes.LongType, false)
          .add("completion_tokens", DataTypes.LongType, false)
          .add("catalog_version", DataTypes.StringType, false)
          .add("currency", DataTypes.StringType, false)
          .add("spot", DataTypes.BooleanType, false)
          .add("cost_cpu", DataTypes.DoubleType)
          .add("cost_memory", DataTypes.DoubleType)
          .add("cost_gpu", DataTypes.DoubleType)
          .add("cost_tokens", DataTypes.DoubleType)
          .add("storage_bytes", DataTypes.LongType)
          .add("cost_storage", DataTypes.DoubleType)
          .add("cost_idle_cpu", DataTypes.DoubleType)
          .add("cost_total", DataTypes.DoubleType)
          .add("cost_unknown", DataTypes.createArrayType(DataTypes.StringType));

  private final SparkSession spark;
  private final String table;

  public CostTable(SparkSession spark, String table) {
    this.spark = requireNonNull(spark, "spark is null");
    this.table = requireNonNull(table, "table is null");
  }

  public String table() {
    return table;
  }

  public WriteResult append(CostRecord r) {
    Usage u = r.usage();
    Cost c = r.cost();
    long prompt = r.tokens().stream().mapToLong(TokenUsage::promptTokens).sum();
    long completion = r.tokens().stream().mapToLong(TokenUsage::completionTokens).sum();
    Row row =
        RowFactory.create(
            r.job(),
            r.runId(),
            scala.collection.JavaConverters.mapAsScalaMap(r.tags()),
            Timestamp.from(u.start()),
            Timestamp.from(u.end()),
            u.coreSecondsAllocated(),
            u.coreSecondsUsed(),
            u.gpuSecondsAllocated(),
            u.gpuType(),
            u.memoryGbSeconds(),
            u.inputBytes(),
            u.outputBytes(),
            u.shuffleReadBytes(),
            u.shuffleWriteBytes(),
            u.tasks(),
            u.failedTasks(),
            u.driverSeconds(),
            prompt,
            completion,
            c.catalogVersion(),
            c.currency(),
            c.spot(),
            c.cpu(),
            c.memory(),
            c.gpu(),
            c.tokens(),
            r.storageBytes(),
            c.storage(),
            c.idleCpu(),
            c.total(),
            scala.collection.JavaConverters.asScalaBuffer(c.unknown()).toSeq());
    Dataset<Row> data = spark.createDataFrame(List.of(row), SCHEMA);
    addMissingColumns();
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("kiln.job", "cost");
    metadata.put("kiln.cost.of", r.job());
    return new Datasets(spark)
        .write(
            data.coalesce(1),
            table,
            new WriteOptions(
                WriteMode.APPEND, r.runId() == null ? null : "cost-" + r.runId(), metadata));
  }

  /**
   * A cost table written before storage was priced lacks its columns: add them (null in the old
   * rows) so that the append keeps one schema. Delta appends by column name.
   */
  private void addMissingColumns() {
    Datasets datasets = new Datasets(spark);
    if (!datasets.exists(table)) {
      return;
    }
    StructType existing = datasets.read(DatasetRef.latest(table)).schema();
    List<String> missing = new ArrayList<>();
    for (org.apache.spark.sql.types.StructField f : SCHEMA.fields()) {
      if (!java.util.Arrays.asList(existing.fieldNames()).contains(f.name())) {
        missing.add(f.name() + " " + f.dataType().sql());
      }
    }
    if (!missing.isEmpty()) {
      spark.sql(
          "ALTER TABLE delta.`"
              + table.replace("`", "``")
              + "` ADD COLUMNS ("
              + String.join(", ", missing)
              + ")");
    }
  }

  /** The rows since {@code since} as report lines. */
  public List<CostLine> lines(Instant since) {
    return since(since).stream().map(CostLine::of).toList();
  }

  /**
   * The rows that started at or after {@code since}, oldest first (then by run id); none when the
   * table does not exist yet.
   */
  public List<Row> since(Instant since) {
    Datasets datasets = new Datasets(spark);
    if (!datasets.exists(table)) {
      return List.of();
    }
    return new ArrayList<>(
        datasets
            .read(DatasetRef.latest(table))
            .where(org.apache.spark.sql.functions.col("start").geq(Timestamp.from(since)))
            .orderBy("start", "run_id")
            .collectAsList());
  }
}
