package kiln.drift.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Profiles kept in a Delta table (a row per dataset version, filter and column), so that a
 * reference is scanned once and reused by later comparisons. A profile is only reused when it was
 * built with the same settings (exact limit, sketch size, categorical columns).
 */
public final class ProfileStore {
  static final StructType SCHEMA =
      new StructType()
          .add("dataset", DataTypes.StringType, false)
          .add("version", DataTypes.LongType, false)
          .add("filter", DataTypes.StringType, false)
          .add("settings", DataTypes.StringType, false)
          .add("column", DataTypes.StringType, false)
          .add("type", DataTypes.StringType, false)
          .add("rows", DataTypes.LongType, false)
          .add("profile", DataTypes.BinaryType, true)
          .add("created", DataTypes.TimestampType, false);

  private final SparkSession spark;
  private final Datasets datasets;
  private final String table;

  public ProfileStore(SparkSession spark, Datasets datasets, String table) {
    this.spark = spark;
    this.datasets = datasets;
    this.table = table;
  }

  public String table() {
    return table;
  }

  /**
   * The stored profile of a pinned side, if every wanted column is in it. Type rows for every
   * column of the side are stored (with a null profile for unprofiled ones), so the schema comes
   * back too.
   */
  public Optional<SideProfile> find(
      DatasetRef pinned, String filter, String settings, List<String> columns) {
    if (!datasets.exists(table)) {
      return Optional.empty();
    }
    List<Row> rows =
        spark
            .read()
            .format("delta")
            .load(table)
            .where(
                col("dataset")
                    .equalTo(lit(pinned.table()))
                    .and(col("version").equalTo(lit(pinned.version())))
                    .and(col("filter").equalTo(lit(filter == null ? "" : filter)))
                    .and(col("settings").equalTo(lit(settings))))
            .orderBy(col("created").desc())
            .collectAsList();
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    Timestamp newest = rows.get(0).getTimestamp(rows.get(0).fieldIndex("created"));
    Map<String, String> types = new LinkedHashMap<>();
    Map<String, ColumnProfile> profiles = new LinkedHashMap<>();
    long count = 0;
    for (Row row : rows) {
      if (!row.getTimestamp(row.fieldIndex("created")).equals(newest)) {
        continue; // one write of the profile, the newest, never a mix
      }
      String column = row.getString(row.fieldIndex("column"));
      types.put(column, row.getString(row.fieldIndex("type")));
      count = row.getLong(row.fieldIndex("rows"));
      if (!row.isNullAt(row.fieldIndex("profile"))) {
        profiles.put(column, TableProfile.decode((byte[]) row.get(row.fieldIndex("profile"))));
      }
    }
    if (!profiles.keySet().containsAll(columns)) {
      return Optional.empty();
    }
    Map<String, ColumnProfile> wanted = new LinkedHashMap<>();
    columns.forEach(c -> wanted.put(c, profiles.get(c)));
    return Optional.of(new SideProfile(new TableProfile(count, wanted), types, true));
  }

  /** Appends a side's profile; returns the profile table's new version. */
  public long save(DatasetRef pinned, String filter, String settings, SideProfile side) {
    Timestamp created = Timestamp.from(Instant.now());
    List<Row> rows = new ArrayList<>();
    side.types()
        .forEach(
            (column, type) -> {
              ColumnProfile profile = side.profile().columns().get(column);
              rows.add(
                  RowFactory.create(
                      pinned.table(),
                      pinned.version(),
                      filter == null ? "" : filter,
                      settings,
                      column,
                      type,
                      side.profile().rows(),
                      profile == null ? null : TableProfile.encode(profile),
                      created));
            });
    Dataset<Row> frame = spark.createDataFrame(rows, SCHEMA).coalesce(1);
    return datasets.write(frame, table, WriteOptions.of(WriteMode.APPEND)).version();
  }
}
