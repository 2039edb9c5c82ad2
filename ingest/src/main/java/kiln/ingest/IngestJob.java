package kiln.ingest;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_compact;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.TableVersion;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.AtomicType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Loads raw files into a new version of a Delta table. Values are typed (declared or inferred);
 * records that cannot be parsed or typed go, with the reason, to {@code TABLE_quarantine}. A
 * retried load with the same idempotency key writes nothing a second time.
 */
public final class IngestJob {
  static final String CORRUPT = "_kiln_corrupt_record";
  static final String REASONS = "_kiln_reasons";
  static final String RAW = "_kiln_raw_record";
  static final String SOURCE_FILE = "_kiln_source_file";

  private final SparkSession spark;
  private final Datasets datasets;
  private final Consumer<String> progress;

  public IngestJob(SparkSession spark, Consumer<String> progress) {
    this.spark = Objects.requireNonNull(spark, "spark is null");
    this.datasets = new Datasets(spark);
    this.progress = Objects.requireNonNull(progress, "progress is null");
  }

  public IngestResult run(IngestSpec spec) {
    long started = System.nanoTime();
    List<String> files = sourceFiles(spec.source());
    String key =
        spec.idempotencyKey() != null ? spec.idempotencyKey() : idempotencyKey(spec, files);

    Optional<TableVersion> done = datasets.committed(spec.table(), key, spec.mode());
    if (done.isPresent()) {
      progress.accept(
          "this load was already committed as version " + done.get().version() + "; nothing to do");
      return new IngestResult(
          DatasetRef.atVersion(spec.table(), done.get().version()),
          done.get().outputRows().orElse(0),
          0,
          Optional.empty(),
          true,
          key,
          elapsed(started));
    }

    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("kiln.job", "ingest");
    metadata.put("kiln.source", spec.source());
    metadata.put("kiln.format", spec.format().toString());
    WriteOptions writeOptions = new WriteOptions(spec.mode(), key, metadata);

    if (spec.schema() == null && !spec.format().isText()) {
      // typed source, nothing to parse: one scan straight into Delta
      progress.accept(
          "writing " + files.size() + " " + spec.format() + " file(s) to " + spec.table());
      Dataset<Row> rows = filtered(reader(spec).load(spec.source()), spec.where());
      WriteResult written = datasets.write(rows, spec.table(), writeOptions);
      return new IngestResult(
          written.written(),
          written.rows(),
          0,
          Optional.empty(),
          written.alreadyWritten(),
          key,
          elapsed(started));
    }

    Dataset<Row> annotated = annotate(spec);
    annotated.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      progress.accept("parsing and typing " + files.size() + " " + spec.format() + " file(s)");
      Dataset<Row> rejected = annotated.filter(size(col(REASONS)).gt(0));
      long quarantined = rejected.count();
      List<Column> typed = new ArrayList<>();
      for (String name : annotated.columns()) {
        if (!name.startsWith("_kiln_")) {
          typed.add(col(quote(name)));
        }
      }
      Dataset<Row> accepted =
          filtered(
              annotated.filter(size(col(REASONS)).equalTo(0)).select(typed.toArray(Column[]::new)),
              spec.where());
      progress.accept("writing to " + spec.table());
      WriteResult written = datasets.write(accepted, spec.table(), writeOptions);
      Optional<DatasetRef> quarantine = Optional.empty();
      if (quarantined > 0) {
        progress.accept(
            "writing " + quarantined + " rejected record(s) to " + spec.quarantineTable());
        Dataset<Row> quarantineRows =
            rejected.select(
                col(RAW).as("raw_record"),
                col(REASONS).as("reasons"),
                col(SOURCE_FILE).as("source_file"),
                lit(spec.table()).as("table"),
                lit(written.version()).as("table_version"),
                current_timestamp().as("quarantined_at"));
        Map<String, String> quarantineMetadata = new LinkedHashMap<>(metadata);
        quarantineMetadata.put("kiln.table", spec.table());
        quarantine =
            Optional.of(
                datasets
                    .write(
                        quarantineRows,
                        spec.quarantineTable(),
                        new WriteOptions(kiln.core.WriteMode.APPEND, key, quarantineMetadata))
                    .written());
      }
      return new IngestResult(
          written.written(),
          written.rows(),
          quarantined,
          quarantine,
          written.alreadyWritten(),
          key,
          elapsed(started));
    } finally {
      annotated.unpersist();
    }
  }

  /**
   * The source read as raw values, then typed: one column per target column, plus the reasons a row
   * is rejected ({@link #REASONS}, empty when it is fine) and, when it is rejected, its raw record
   * ({@link #RAW}). In a session with the RAPIDS Accelerator, with expressions it runs on the GPU
   * ({@link GpuEligible}; {@code kiln gpu check} judges this plan on its own).
   */
  public Dataset<Row> annotate(IngestSpec spec) {
    StructType target = targetSchema(spec);
    Dataset<Row> raw = readRaw(spec, target);
    boolean gpu = rapids();
    List<Column> outputs = new ArrayList<>();
    List<Column> reasons = new ArrayList<>();
    List<Column> rawFields = new ArrayList<>();
    List<String> rawNames = new ArrayList<>();
    Map<String, ColumnSpec> declared = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    if (spec.schema() != null) {
      spec.schema().columns().forEach(c -> declared.put(c.name(), c));
    }
    for (StructField field : target.fields()) {
      Column value = col(quote(field.name()));
      ColumnSpec column = declared.get(field.name());
      DataType sourceType = raw.schema().apply(field.name()).dataType();
      Column typed =
          typed(value, sourceType, field.dataType(), column == null ? null : column.format(), gpu);
      outputs.add(typed.as(field.name()));
      rawFields.add(value);
      rawNames.add(field.name());
      if (!sourceType.equals(field.dataType())) {
        reasons.add(
            when(
                value.isNotNull().and(typed.isNull()),
                concat(
                    lit("column '" + field.name() + "': '"),
                    value.cast(DataTypes.StringType),
                    lit("' is not a valid " + describe(field.dataType(), column)))));
      }
      if (column != null && !column.isNullable()) {
        reasons.add(
            when(
                value.isNull(), lit("column '" + field.name() + "' is required but has no value")));
      }
    }
    boolean allText =
        rawNames.stream()
            .allMatch(n -> raw.schema().apply(n).dataType().equals(DataTypes.StringType));
    Column rawRecord =
        gpu && allText
            ? GpuEligible.json(rawNames, rawFields)
            : to_json(struct(rawFields.toArray(Column[]::new)));
    if (spec.format().isText()) {
      reasons.add(0, when(col(CORRUPT).isNotNull(), lit("malformed " + spec.format() + " record")));
      rawRecord = when(col(CORRUPT).isNotNull(), col(CORRUPT)).otherwise(rawRecord);
    }
    Column rejections = array_compact(array(reasons.toArray(Column[]::new)));
    outputs.add(rejections.as(REASONS));
    // only a rejected row's record is kept (in the quarantine): the others' is not built
    outputs.add(when(size(rejections).gt(0), rawRecord).as(RAW));
    outputs.add(input_file_name().as(SOURCE_FILE));
    return raw.select(outputs.toArray(Column[]::new));
  }

  /**
   * The schema the table gets: declared, or inferred from the source as Spark's inferSchema does.
   */
  StructType targetSchema(IngestSpec spec) {
    StructType sourceSchema = sourceSchema(spec);
    if (spec.schema() == null) {
      return sourceSchema;
    }
    List<String> missing = new ArrayList<>();
    List<StructField> fields = new ArrayList<>();
    for (ColumnSpec column : spec.schema().columns()) {
      Optional<StructField> found = findField(sourceSchema, column.name());
      if (found.isEmpty() && spec.format() != SourceFormat.JSON) {
        missing.add(column.name());
      }
      fields.add(
          new StructField(
              found.map(StructField::name).orElse(column.name()),
              column.dataType(),
              true,
              org.apache.spark.sql.types.Metadata.empty()));
    }
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(
          "source " + spec.source(), missing, List.of(sourceSchema.fieldNames()));
    }
    List<String> ignored = new ArrayList<>();
    for (StructField field : sourceSchema.fields()) {
      if (fields.stream().noneMatch(f -> f.name().equalsIgnoreCase(field.name()))) {
        ignored.add(field.name());
      }
    }
    if (!ignored.isEmpty()) {
      progress.accept(
          "source columns not in the schema are not ingested: " + String.join(", ", ignored));
    }
    return new StructType(fields.toArray(StructField[]::new));
  }

  private StructType sourceSchema(IngestSpec spec) {
    DataFrameReader reader = reader(spec);
    if (spec.format().isText() && spec.schema() == null) {
      progress.accept("inferring column types of " + spec.source());
      reader = reader.option("inferSchema", "true");
    }
    StructType schema = reader.load(spec.source()).schema();
    return new StructType(
        java.util.Arrays.stream(schema.fields())
            .filter(f -> !f.name().equals("_corrupt_record"))
            .toArray(StructField[]::new));
  }

  /**
   * Text sources are read as strings (positionally for CSV, by name for JSON) plus their corrupt
   * records.
   */
  private Dataset<Row> readRaw(IngestSpec spec, StructType target) {
    if (!spec.format().isText()) {
      return reader(spec).load(spec.source());
    }
    List<StructField> fields = new ArrayList<>();
    if (spec.format() == SourceFormat.CSV) {
      // CSV columns are matched by position; the header gives their names
      for (StructField field :
          sourceSchema(spec.withSchema(null).withWhere(null), false).fields()) {
        fields.add(new StructField(field.name(), DataTypes.StringType, true, field.metadata()));
      }
    } else {
      for (StructField field : target.fields()) {
        DataType type =
            field.dataType() instanceof AtomicType ? DataTypes.StringType : field.dataType();
        fields.add(new StructField(field.name(), type, true, field.metadata()));
      }
    }
    fields.add(
        new StructField(
            CORRUPT, DataTypes.StringType, true, org.apache.spark.sql.types.Metadata.empty()));
    return reader(spec)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .schema(new StructType(fields.toArray(StructField[]::new)))
        .load(spec.source());
  }

  private StructType sourceSchema(IngestSpec spec, boolean infer) {
    return infer ? sourceSchema(spec) : reader(spec).load(spec.source()).schema();
  }

  private DataFrameReader reader(IngestSpec spec) {
    DataFrameReader reader = spark.read().format(spec.format().toString());
    if (spec.format() == SourceFormat.CSV) {
      reader = reader.option("header", "true");
    }
    if (spec.schema() != null) {
      reader = reader.options(spec.schema().options());
    }
    return reader.options(spec.options());
  }

  /**
   * The value as the target type, null when it does not parse. try_ functions keep ANSI mode from
   * throwing. With {@code gpu} (the RAPIDS Accelerator is on), {@link GpuEligible}'s expressions,
   * which give the same values and which RAPIDS runs on the GPU; without, Spark's own, which are
   * faster on a CPU (a pattern's regular expressions cost about twice the parse).
   */
  static Column typed(Column value, DataType from, DataType to, String format, boolean gpu) {
    if (from.equals(to)) {
      return value;
    }
    String sql = "`" + value.toString().replace("`", "``") + "`";
    if (from.equals(DataTypes.StringType) && format != null) {
      Column parsed =
          (gpu ? GpuEligible.timestamp(value, format) : Optional.<Column>empty())
              .orElseGet(
                  () ->
                      expr("try_to_timestamp(" + sql + ", '" + format.replace("'", "\\'") + "')"));
      return to.equals(DataTypes.TimestampType) ? parsed : parsed.cast(to);
    }
    if (!from.equals(DataTypes.StringType)) {
      return (gpu ? GpuEligible.cast(value, from, to) : Optional.<Column>empty())
          .orElseGet(() -> expr("try_cast(" + sql + " AS " + to.sql() + ")"));
    }
    Column cast =
        gpu
            ? GpuEligible.cast(trim(value), from, to).orElseThrow()
            : expr("try_cast(trim(" + sql + ") AS " + to.sql() + ")");
    if (to instanceof IntegralType) {
      // "1.5" would otherwise become 1: integral columns take integral text only
      return when(
          gpu ? GpuEligible.integralText(value) : value.rlike("^\\s*[+-]?[0-9]+\\s*$"), cast);
    }
    return cast;
  }

  /** Whether this session runs the RAPIDS Accelerator (the gpu profile, or kiln gpu check). */
  private boolean rapids() {
    return spark.conf().get("spark.plugins", "").contains("com.nvidia.spark.SQLPlugin")
        && !"false".equalsIgnoreCase(spark.conf().get("spark.rapids.sql.enabled", "true"));
  }

  private static String describe(DataType type, ColumnSpec column) {
    String name = column != null ? column.type() : type.simpleString();
    return column != null && column.format() != null
        ? name + " in format '" + column.format() + "'"
        : name;
  }

  private Dataset<Row> filtered(Dataset<Row> rows, String where) {
    if (where == null) {
      return rows;
    }
    try {
      return rows.where(where);
    } catch (Exception e) {
      if (e instanceof AnalysisException || e.getClass().getName().contains("ParseException")) {
        throw Errors.badInput(
            "--where '"
                + where
                + "' is not a valid condition on the source: "
                + Errors.rootMessage(e),
            "write a Spark SQL predicate on the source's columns " + List.of(rows.columns()),
            e);
      }
      throw e;
    }
  }

  private static Optional<StructField> findField(StructType schema, String name) {
    for (StructField field : schema.fields()) {
      if (field.name().equals(name)) {
        return Optional.of(field);
      }
    }
    for (StructField field : schema.fields()) {
      if (field.name().equalsIgnoreCase(name)) {
        return Optional.of(field);
      }
    }
    return Optional.empty();
  }

  /** The data files of the source, sorted; fails clearly when there are none. */
  public List<String> sourceFiles(String source) {
    Path path = new Path(source);
    try {
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      FileStatus[] matches = fs.globStatus(path);
      if (matches == null || matches.length == 0) {
        throw Errors.notFound(
            "source " + source + " does not exist", "check the path or URI given to --source");
      }
      List<String> files = new ArrayList<>();
      for (FileStatus match : matches) {
        if (match.isFile()) {
          files.add(describe(match));
          continue;
        }
        RemoteIterator<LocatedFileStatus> listing = fs.listFiles(match.getPath(), true);
        while (listing.hasNext()) {
          LocatedFileStatus file = listing.next();
          String name = file.getPath().getName();
          if (!name.startsWith(".") && !name.startsWith("_")) {
            files.add(describe(file));
          }
        }
      }
      if (files.isEmpty()) {
        throw Errors.badInput(
            "source " + source + " has no data files", "check the path given to --source");
      }
      files.sort(null);
      return files;
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot list source " + source + ": " + e.getMessage(),
          "check the path or URI and its credentials");
    }
  }

  private static String describe(FileStatus file) {
    return file.getPath() + " " + file.getLen() + " " + file.getModificationTime();
  }

  /** Same files (by path, size and time), same table and settings: the same load. */
  static String idempotencyKey(IngestSpec spec, List<String> files) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      List<String> parts = new ArrayList<>(files);
      parts.add("table=" + spec.table());
      parts.add("mode=" + spec.mode());
      parts.add("format=" + spec.format());
      parts.add("where=" + spec.where());
      parts.add("options=" + new TreeMap<>(spec.options()));
      parts.add("schema=" + spec.schema());
      for (String part : parts) {
        digest.update(part.getBytes(StandardCharsets.UTF_8));
        digest.update((byte) '\n');
      }
      return "kiln-ingest-" + HexFormat.of().formatHex(digest.digest()).substring(0, 32);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }

  private static Duration elapsed(long started) {
    return Duration.ofNanos(System.nanoTime() - started);
  }

  static String lower(Object value) {
    return value.toString().toLowerCase(Locale.ROOT);
  }
}
