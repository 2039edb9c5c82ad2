package kiln.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.TableVersion;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import kiln.core.tracking.TrackedRun;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * {@code kiln pii redact}: a pinned table version's text columns redacted by the LLM pipeline's own
 * stages ({@link PiiPipeline}) into an output table, in one Delta commit under an idempotency key
 * (a failed run writes nothing, a repeated one nothing twice). Each output row carries the input's
 * columns, the redacted ones replaced, and {@code redactions}: entities per type over its columns.
 */
public final class PiiJob {
  public static final String REDACTIONS = "redactions";
  public static final String RUN_ID = "run_id";
  public static final String JOB_KEY = "job_key";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final Map<String, String> env;
  private final Consumer<String> progress;

  public PiiJob(SparkSession spark, Map<String, String> env, Consumer<String> progress) {
    this.spark = spark;
    this.env = env;
    this.progress = progress;
  }

  public PiiRunResult run(PiiJobConfig config, TrackedRun run) {
    Datasets datasets = new Datasets(spark);
    DatasetRef input = datasets.resolve(config.inputRef());
    Dataset<Row> rows = datasets.read(input);
    checkColumns(input, rows, config.columns());
    config.pii().checkSecrets(env);
    String key = idempotencyKey(config, input);

    run.logInput(input, "input");
    Map<String, String> params = new LinkedHashMap<>();
    params.put("input", input.toString());
    params.put("output", config.output());
    params.put("columns", String.join(",", config.columns()));
    params.put("pii", config.pii().describe());
    run.logParams(params);
    run.setTags(Map.of("kiln.pii.job_key", key));

    Optional<TableVersion> done = datasets.committed(config.output(), key, WriteMode.APPEND);
    if (done.isPresent()) {
      progress.accept(
          "this job's rows are already in "
              + config.output()
              + " (version "
              + done.get().version()
              + "); nothing is redacted again");
      return summarize(
          config,
          input,
          DatasetRef.atVersion(config.output(), done.get().version()),
          key,
          true,
          run);
    }
    Dataset<Row> out =
        redact(rows, config.columns(), config.pii())
            .withColumn(RUN_ID, functions.lit(run.id()))
            .withColumn(JOB_KEY, functions.lit(key));
    LlmJob.checkOutputSchema(spark, config.output(), out);
    progress.accept("redacting " + config.columns() + " of " + input + " into " + config.output());
    WriteResult written =
        datasets.write(
            out,
            config.output(),
            new WriteOptions(
                WriteMode.APPEND, key, Map.of("kiln.job", "pii", "kiln.run_id", run.id())));
    return summarize(config, input, written.written(), key, false, run);
  }

  /**
   * The pure part: {@code columns} redacted in place (a null stays null), plus {@code redactions},
   * the entities per type summed over the columns. Whitespace is kept as it was.
   */
  public static Dataset<Row> redact(Dataset<Row> rows, List<String> columns, PiiConfig pii) {
    List<PipelineStage> stages = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      stages.addAll(
          PiiPipeline.stages(
              columns.get(i),
              redactedName(i),
              countsName(i),
              "__kiln_pii_" + i + "_",
              pii,
              "disabled"));
    }
    PipelineModel model =
        new Pipeline().setStages(stages.toArray(PipelineStage[]::new)).fit(rows.limit(0));
    Dataset<Row> done = model.transform(rows);
    List<Column> select = new ArrayList<>();
    for (String c : rows.columns()) {
      int i = columns.indexOf(c);
      select.add(
          i < 0
              ? functions.col(c)
              : functions
                  .when(functions.col(c).isNull(), functions.lit(null).cast(DataTypes.StringType))
                  .otherwise(functions.col(redactedName(i)))
                  .as(c));
    }
    Column counts = functions.col(countsName(0));
    for (int i = 1; i < columns.size(); i++) {
      counts =
          functions.map_zip_with(
              counts,
              functions.col(countsName(i)),
              (k, a, b) ->
                  functions
                      .coalesce(a, functions.lit(0))
                      .plus(functions.coalesce(b, functions.lit(0))));
    }
    select.add(counts.as(REDACTIONS));
    return done.select(select.toArray(Column[]::new));
  }

  private static String redactedName(int i) {
    return "__kiln_pii_" + i + "_text";
  }

  private static String countsName(int i) {
    return "__kiln_pii_" + i + "_counts";
  }

  private static void checkColumns(DatasetRef input, Dataset<Row> rows, List<String> columns) {
    List<String> have = List.of(rows.columns());
    List<String> missing = columns.stream().filter(c -> !have.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("input " + input, missing, have);
    }
    for (String c : columns) {
      StructField f = rows.schema().apply(c);
      if (!f.dataType().equals(DataTypes.StringType)) {
        throw Errors.badInput(
            "column "
                + c
                + " of "
                + input
                + " is "
                + f.dataType().simpleString()
                + ", not a string",
            "redact string columns only; leave " + c + " out of columns");
      }
    }
    for (String reserved : List.of(REDACTIONS, RUN_ID, JOB_KEY)) {
      if (have.contains(reserved)) {
        throw Errors.badInput(
            "input " + input + " already has a column named " + reserved + ", which the job writes",
            "rename that column before redacting");
      }
    }
  }

  /** Totals read back from the rows written. */
  private PiiRunResult summarize(
      PiiJobConfig config,
      DatasetRef input,
      DatasetRef output,
      String key,
      boolean alreadyWritten,
      TrackedRun run) {
    Dataset<Row> mine =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", output.version())
            .load(output.table())
            .where(functions.col(JOB_KEY).equalTo(key));
    Row totals =
        mine.agg(
                functions.count(functions.lit(1)),
                functions.count(
                    functions.when(
                        functions.size(functions.col(REDACTIONS)).gt(0), functions.lit(1))))
            .first();
    Map<String, Long> redactions = new TreeMap<>();
    for (Row r :
        mine.select(functions.explode(functions.col(REDACTIONS)))
            .groupBy("key")
            .agg(functions.sum("value"))
            .collectAsList()) {
      redactions.put(r.getString(0), r.getLong(1));
    }
    PiiRunResult result =
        new PiiRunResult(
            input,
            output,
            config.columns(),
            totals.getLong(0),
            totals.getLong(1),
            redactions,
            alreadyWritten);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", (double) result.rows());
    metrics.put("rows_with_pii", (double) result.rowsWithPii());
    redactions.forEach((type, n) -> metrics.put("redactions." + type, (double) n));
    run.logMetrics(metrics);
    run.setTags(Map.of("kiln.output", output.toString()));
    return result;
  }

  static String idempotencyKey(PiiJobConfig config, DatasetRef input) {
    Map<String, Object> parts = new TreeMap<>();
    parts.put("input", input.toString());
    parts.put("columns", config.columns());
    parts.put("pii", config.pii().describe());
    try {
      return "pii-" + PromptTemplate.sha256(JSON.writeValueAsString(parts)).substring(0, 32);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
