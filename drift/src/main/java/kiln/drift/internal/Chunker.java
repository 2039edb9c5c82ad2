package kiln.drift.internal;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_format;
import static org.apache.spark.sql.functions.date_trunc;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.spark_partition_id;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import kiln.core.Errors;
import kiln.drift.Chunking;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Cuts a side into chunks: adds the column {@link #CHUNK}, a key whose string order is the chunks'
 * order (a period's first day, or a zero-padded chunk number).
 */
public final class Chunker {
  public static final String CHUNK = "__kiln_chunk";
  private static final String INDEX = "__kiln_row_index";
  private static final String PARTITION = "__kiln_partition";

  private Chunker() {}

  /**
   * The rows with their chunk key. Size and count chunks follow the time column's order when there
   * is one (else the rows' order as read); period chunks leave out rows without a time.
   *
   * @param timeColumn the side's time axis, or null
   */
  public static Dataset<Row> assign(Dataset<Row> rows, Chunking chunking, String timeColumn) {
    return assign(rows, chunking, timeColumn, "");
  }

  /** {@link #assign(Dataset, Chunking, String)}, naming the side in messages. */
  public static Dataset<Row> assign(
      Dataset<Row> rows, Chunking chunking, String timeColumn, String role) {
    Objects.requireNonNull(rows, "rows is null");
    Objects.requireNonNull(chunking, "chunking is null");
    if (chunking.kind() == Chunking.Kind.PERIOD) {
      if (timeColumn == null) {
        throw Errors.badInput(
            "chunking by "
                + chunking.period()
                + " needs a date or timestamp column; the data has none",
            "pass --chunk ROWS or --chunk count:N, or add a date column");
      }
      String pattern = chunking.period().equals("month") ? "yyyy-MM" : "yyyy-MM-dd";
      Column key =
          date_format(date_trunc(chunking.period(), col(timeColumn).cast("timestamp")), pattern);
      return rows.where(col(timeColumn).isNotNull()).withColumn(CHUNK, key);
    }
    if (timeColumn == null && !shuffles(rows)) {
      return numbered(rows, chunking);
    }
    Dataset<Row> ordered = timeColumn == null ? rows : rows.orderBy(col(timeColumn));
    // zipWithIndex numbers rows in partition order without moving them to one partition
    StructType schema = ordered.schema().add(INDEX, DataTypes.LongType, false);
    int width = ordered.schema().size();
    JavaRDD<Row> indexed =
        ordered
            .javaRDD()
            .zipWithIndex()
            .map(
                pair -> {
                  Object[] values = new Object[width + 1];
                  for (int i = 0; i < width; i++) {
                    values[i] = pair._1().get(i);
                  }
                  values[width] = pair._2();
                  return RowFactory.create(values);
                });
    Dataset<Row> withIndex = ordered.sparkSession().createDataFrame(indexed, schema).cache();
    return withChunk(withIndex, withIndex.count(), chunking);
  }

  /**
   * Size and count chunks of rows in the order they are read, numbered without converting them to
   * Row objects: a scan counts the rows of each partition (no column is read for that), and each
   * row's number is its partition's offset plus its place in the partition, the order zipWithIndex
   * gives. Only for plans without a shuffle, whose partitions are the same on every evaluation.
   */
  private static Dataset<Row> numbered(Dataset<Row> rows, Chunking chunking) {
    List<Row> counts =
        rows.select(spark_partition_id().as(PARTITION)).groupBy(PARTITION).count().collectAsList();
    int partitions = rows.rdd().getNumPartitions();
    long[] offsets = new long[partitions + 1];
    for (Row row : counts) {
      offsets[row.getInt(0) + 1] = row.getLong(1);
    }
    for (int i = 1; i <= partitions; i++) {
      offsets[i] += offsets[i - 1];
    }
    Column[] offsetLiterals = new Column[partitions];
    for (int i = 0; i < partitions; i++) {
      offsetLiterals[i] = lit(offsets[i]);
    }
    // monotonically_increasing_id is the partition index << 33 plus the row's place in it
    Column place =
        monotonically_increasing_id().minus(spark_partition_id().cast("long").multiply(1L << 33));
    Column index = element_at(array(offsetLiterals), spark_partition_id().plus(1)).plus(place);
    return withChunk(rows.withColumn(INDEX, index), offsets[partitions], chunking);
  }

  /** Whether computing the rows moves them between partitions (a sort's or a join's exchange). */
  private static boolean shuffles(Dataset<Row> rows) {
    return rows.queryExecution()
        .executedPlan()
        .find(
            new scala.runtime.AbstractFunction1<
                org.apache.spark.sql.execution.SparkPlan, Object>() {
              @Override
              public Object apply(org.apache.spark.sql.execution.SparkPlan plan) {
                return plan instanceof org.apache.spark.sql.execution.exchange.Exchange;
              }
            })
        .isDefined();
  }

  /** The chunk key of each row from its number (column INDEX, dropped) among n rows. */
  private static Dataset<Row> withChunk(Dataset<Row> withIndex, long n, Chunking chunking) {
    long chunks;
    Column number;
    if (chunking.kind() == Chunking.Kind.SIZE) {
      // a last chunk below the minimum joins the one before it (NannyML's "append")
      long full = n / chunking.value();
      long rest = n % chunking.value();
      chunks = Math.max(1, rest >= Chunking.MIN_CHUNK_ROWS || full == 0 ? full + 1 : full);
      if (rest == 0 && full > 0) {
        chunks = full;
      }
      number = least(floor(col(INDEX).divide(chunking.value())), lit(chunks - 1));
    } else {
      chunks = Math.min(chunking.value(), Math.max(1, n));
      number = floor(col(INDEX).multiply(chunks).divide(Math.max(1, n)));
    }
    int digits = Long.toString(Math.max(0, chunks - 1)).length();
    return withIndex
        .withColumn(CHUNK, format_string("%0" + digits + "d", number.cast("long")))
        .drop(INDEX);
  }

  /** Rows per chunk, in chunk order (one pass). */
  public static Map<String, Long> sizes(Dataset<Row> chunked) {
    List<Row> rows = chunked.groupBy(CHUNK).count().orderBy(CHUNK).collectAsList();
    Map<String, Long> sizes = new LinkedHashMap<>();
    for (Row row : rows) {
      sizes.put(row.getString(0), row.getLong(1));
    }
    return sizes;
  }

  /** Bad input when a chunk has fewer rows than {@link Chunking#MIN_CHUNK_ROWS}. */
  public static void requireMinimum(Map<String, Long> sizes, String role, Chunking chunking) {
    List<String> small = new ArrayList<>();
    for (Map.Entry<String, Long> e : sizes.entrySet()) {
      if (e.getValue() < Chunking.MIN_CHUNK_ROWS) {
        small.add(e.getKey() + " (" + e.getValue() + " rows)");
      }
    }
    if (!small.isEmpty()) {
      throw Errors.badInput(
          "the "
              + role
              + " side cut by "
              + chunking
              + " has chunks below the minimum chunk size of "
              + Chunking.MIN_CHUNK_ROWS
              + " rows: "
              + String.join(", ", small.subList(0, Math.min(5, small.size())))
              + (small.size() > 5 ? " and " + (small.size() - 5) + " more" : ""),
          "pass a coarser --chunk (a longer period, more rows per chunk or fewer chunks)");
    }
    if (sizes.isEmpty()) {
      throw Errors.badInput(
          "the " + role + " side has no rows to cut into chunks",
          "check the version and the filter of the " + role + " side");
    }
  }
}
