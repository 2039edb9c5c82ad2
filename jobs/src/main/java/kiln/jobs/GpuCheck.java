package kiln.jobs;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import kiln.contracts.CheckSpec;
import kiln.contracts.ContractCheck;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.GpuProbe;
import kiln.core.PinnedTable;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.tracking.Tracking;
import kiln.drift.DriftInput;
import kiln.drift.DriftMonitor;
import kiln.gpu.JobCoverage;
import kiln.gpu.PlanCapture;
import kiln.gpu.PlanCoverage;
import kiln.inference.ScoreJob;
import kiln.ingest.ColumnSpec;
import kiln.ingest.IngestJob;
import kiln.ingest.IngestSchema;
import kiln.ingest.IngestSpec;
import kiln.ingest.SourceFormat;
import kiln.jobs.demo.FlightsExamples;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import kiln.llm.LlmJob;
import kiln.llm.LlmPipeline;
import kiln.llm.PiiConfig;
import kiln.llm.PiiJob;
import kiln.llm.PromptTemplate;
import kiln.training.FeatureConfig;
import kiln.training.FeatureJob;
import kiln.training.Features;
import kiln.training.TrainConfig;
import kiln.training.Trainer;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Runs Kiln's jobs on a small generated flights sample in a session where the RAPIDS Accelerator is
 * in explain-only mode, and collects, job by job and query by query, which operators would run on
 * the GPU and why not. The jobs' own code runs (the flights example configs of {@code kiln demo});
 * no XGBoost code runs, because xgboost4j-spark-gpu takes its GPU data path whenever the RAPIDS
 * plugin is on, and that needs a GPU.
 */
final class GpuCheck {
  /** The jobs, in the order they run (each needs the tables of those before it). */
  static final List<String> JOBS =
      List.of("ingest", "contracts", "features", "train", "score", "drift", GpuCheck.LLM_JOB);

  /**
   * LLM pre-processing only, named apart from the llm job: its coverage is no share of an LLM run's
   * time, which the engine takes (so {@code kiln cost report --gpu-coverage} leaves llm runs out).
   */
  static final String LLM_JOB = "llm-preprocessing";

  static final String INGEST_CASTS = "ingest: casts and quarantine reasons";
  static final String FEATURES_BUILD = "features: feature columns, codes and statistics";

  /**
   * Kiln's part of scoring that the check holds to 100% (but Delta's scans): the pre-processing
   * plan, which is what xgboost4j-spark-gpu's transform reads as GPU columns, and the count of
   * error rows on the written version. The write itself is judged in the whole job's plans.
   */
  static final String SCORE_PREPARE =
      "score: pre-processing (input rows, feature casts, nulls, provenance columns)";

  static final String SCORE_COUNTS = "score: error rows of the written version";

  /** The model's own transform: reported, not Kiln's pre-processing. */
  static final String SCORE_MODEL = "score: the model's inference (a Spark ML stand-in)";

  static final String SCORE_JOB = "score: the whole job";

  /**
   * Training's data preparation, held to 100% but Delta's scans: the rows XGBoost is fitted on and
   * stops early on, which under RAPIDS hold every feature as a plain column it reads by name.
   */
  static final String TRAIN_ROWS = "train: train rows";

  static final String VALIDATION_ROWS = "train: validation rows";
  static final String LLM_PREPARE = "llm: input rows, redaction and rendered prompts";
  static final String PII_REDACT = "pii: redaction of a text column";

  /**
   * The sample types its date as {@code timestamp} (UTC), not {@code timestamp_ntz} as the flights
   * file does: RAPIDS 25.04 runs no operator over TimestampNTZ, which would hide every other
   * finding (run the jobs on a flights table to see that too). The example's training period is
   * written for timestamp_ntz; this is the same period for a timestamp column.
   */
  static final String TRAINING_PERIOD = "date < timestamp'2001-04-01 00:00:00'";

  static final String DRIFT_SIDES = "drift: profiles of both sides";

  /**
   * kiln drift --chunk: the sides, then every current chunk profiled as the sides are, and the
   * multivariate drift chunks bring (PCA reconstruction, Spark ML).
   */
  static final String DRIFT_CHUNKED = "drift: chunked";

  static final int DRIFT_CHUNKS = 3;

  /** Low enough that the sample's distances and delays exceed it. */
  static final int DRIFT_EXACT_LIMIT = 100;

  private static final List<String> SINK_OPERATORS =
      List.of("DataWritingCommandExec", "WriteFilesExec");

  private static final String[] AIRPORTS = {"SFO", "LAX", "ORD", "JFK"};

  private final SparkSession spark;
  private final Path workdir;
  private final Consumer<String> progress;
  private int planFiles;

  GpuCheck(SparkSession spark, Path workdir, Consumer<String> progress) {
    this.spark = requireNonNull(spark, "spark is null");
    this.workdir = requireNonNull(workdir, "workdir is null");
    this.progress = requireNonNull(progress, "progress is null");
  }

  /**
   * Checks {@code jobs} (names from {@link #JOBS}; the tables of earlier jobs are built anyway).
   */
  List<JobCoverage> run(List<String> jobs) {
    Path source = writeSource(workdir.resolve("source"), 400);
    String flights = workdir.resolve("tables/flights").toString();
    String features = workdir.resolve("tables/features").toString();
    List<JobCoverage> results = new ArrayList<>();
    try (PlanCapture capture = PlanCapture.start()) {
      IngestSpec ingest = ingestSpec(source, flights);
      JobCoverage ingested = ingest(capture, ingest);
      keep(results, jobs, ingested);
      if (jobs.contains("contracts")) {
        keep(results, jobs, contracts(capture, flights));
      }
      keep(results, jobs, features(capture, flights, features));
      TrainConfig training = FlightsExamples.trainConfig().toBuilder().features(features).build();
      Trainer.Prepared prepared = new Trainer(spark, GpuProbe.system()).prepare(training);
      keep(results, jobs, train(capture, training, prepared));
      if (jobs.contains("score")) {
        keep(results, jobs, score(capture, training, prepared, features));
      }
      if (jobs.contains("drift")) {
        keep(results, jobs, drift(capture, flights));
      }
      if (jobs.contains(LLM_JOB)) {
        keep(results, jobs, llm(capture, workdir.resolve("tables/texts").toString()));
      }
    }
    return results;
  }

  private static void keep(List<JobCoverage> results, List<String> jobs, JobCoverage job) {
    if (jobs.contains(job.job())) {
      results.add(job);
    }
  }

  private JobCoverage ingest(PlanCapture capture, IngestSpec spec) {
    progress.accept("ingest: typing a CSV file with bad rows into a Delta table");
    IngestJob job = new IngestJob(spark, message -> {});
    List<PlanCoverage> plans = new ArrayList<>();
    // built before listening: reading the CSV header and inferring nothing are not the plan
    Dataset<Row> annotated = job.annotate(spec);
    plans.addAll(probe(capture, INGEST_CASTS, annotated));
    plans.addAll(capture.run("ingest: the whole job", () -> job.run(spec)));
    return new JobCoverage("ingest", plans, List.of());
  }

  private JobCoverage contracts(PlanCapture capture, String flights) {
    progress.accept("contracts: the flights contract (Deequ)");
    PinnedTable table = new Datasets(spark).pin(DatasetRef.parse(flights));
    CheckSpec spec =
        new CheckSpec(
            // the flights contract, for the sample's timestamp date (the example's is
            // timestamp_ntz)
            kiln.contracts.Contracts.parse(
                FlightsExamples.contractYaml()
                    .replace("timestamp_ntz", "timestamp")
                    .replace("TIMESTAMP_NTZ", "TIMESTAMP"),
                "flights.yaml"),
            null,
            table.ref(),
            null,
            true,
            null,
            workdir.resolve("contract-report"));
    List<PlanCoverage> plans =
        capture.run(
            "contracts: check and quarantine",
            () -> new ContractCheck(spark, message -> {}).run(spec, table));
    return new JobCoverage("contracts", plans, List.of());
  }

  private JobCoverage features(PlanCapture capture, String flights, String features) {
    progress.accept("features: the flights feature config");
    FeatureConfig config =
        FlightsExamples.featureConfig().toBuilder()
            .input(flights)
            .output(features)
            .trainingPeriod(TRAINING_PERIOD)
            .build();
    List<PlanCoverage> plans = new ArrayList<>();
    PinnedTable input = new Datasets(spark).pin(config.inputRef());
    Dataset<Row> built = Features.kept(Features.build(input.rows(), "input", config), config);
    plans.addAll(probe(capture, FEATURES_BUILD, built));
    plans.addAll(capture.run("features: the whole job", () -> new FeatureJob(spark).run(config)));
    return new JobCoverage("features", plans, List.of());
  }

  private JobCoverage train(PlanCapture capture, TrainConfig config, Trainer.Prepared prepared) {
    progress.accept("train: data preparation (checks, split, feature columns)");
    List<PlanCoverage> plans = new ArrayList<>();
    plans.addAll(
        capture.run(
            "train: input checks", () -> new Trainer(spark, GpuProbe.system()).prepare(config)));
    plans.addAll(probe(capture, TRAIN_ROWS, prepared.train()));
    plans.addAll(probe(capture, VALIDATION_ROWS, prepared.validation()));
    return new JobCoverage(
        "train",
        plans,
        List.of(
            "the train and validation rows are what XGBoost reads under RAPIDS: each feature a"
                + " double column (null as NaN) read by name, no vector assembled"
                + " (xgboost4j-spark-gpu's GPU path reads no vector)",
            "XGBoost's fit is not a SQL plan: with device=cuda it trains on the GPU through"
                + " xgboost4j-spark-gpu, which reads the feature columns on the GPU itself"));
  }

  private JobCoverage score(
      PlanCapture capture, TrainConfig training, Trainer.Prepared prepared, String features) {
    progress.accept("score: the scoring job's plan and write");
    // a Spark ML model stands in for XGBoost's (which must not run here); the plan around it is
    // Kiln's
    var model =
        new LogisticRegression()
            .setMaxIter(5)
            .setLabelCol(training.label())
            .setFeaturesCol(ModelFiles.FEATURES_VECTOR)
            // under RAPIDS the train rows hold the features by name, as XGBoost reads them there
            .fit(ModelFiles.assemble(prepared.train(), training.featureColumns()));
    ModelInfo info =
        ModelInfo.builder()
            .task(training.task())
            .label(training.label())
            .featureColumns(training.featureColumns())
            .key(training.key())
            .seed(training.seed())
            .split(training.split())
            .threshold(training.threshold())
            .groupColumns(training.groupColumns())
            .minGroupRows(training.minGroupRows())
            .featureTable(features, prepared.features().version())
            .device("cpu")
            .build();
    ModelFiles files = ModelFiles.save(model, info, workdir.resolve("model"));
    PinnedTable input = new Datasets(spark).pin(DatasetRef.parse(features));
    Tracking.ModelVersion version =
        new Tracking.ModelVersion("gpu-check", "1", null, null, Map.of());
    List<PlanCoverage> plans = new ArrayList<>();
    plans.addAll(
        probe(
            capture, SCORE_PREPARE, ScoreJob.prepared(files, input.rows(), version, input.ref())));
    plans.addAll(
        probe(
            capture, SCORE_MODEL, ScoreJob.predictions(files, input.rows(), version, input.ref())));
    String scores = workdir.resolve("tables/scores").toString();
    plans.addAll(
        capture.run(
            SCORE_JOB, () -> new ScoreJob(spark, null).score(files, version, input, scores)));
    plans.addAll(
        probe(
            capture,
            SCORE_COUNTS,
            ScoreJob.errorRows(new Datasets(spark).read(DatasetRef.parse(scores)))));
    return new JobCoverage(
        "score",
        plans,
        List.of(
            "Kiln's part (held to 100% but Delta's scans by GpuCheckTest): the pre-processing"
                + " plan, which xgboost4j-spark-gpu's transform reads as GPU columns by name (no"
                + " VectorAssembler), and the error-row count on the written version (no observe"
                + " under RAPIDS); the write is planned by RAPIDS, and falls back only for Delta"
                + " (RAPIDS 25.04 runs Delta Lake on Spark 3.5 only on Databricks) and the model's outputs",
            "a Spark ML logistic regression stands in for the XGBoost model: its VectorAssembler,"
                + " UDFs and vector outputs are the model's inference, not Kiln's; XGBoost's GPU"
                + " transform is an RDD of GPU batches, not a SQL plan, and its outputs are"
                + " vectors too"));
  }

  private JobCoverage drift(PlanCapture capture, String flights) {
    progress.accept("drift: January-March against April-June");
    DatasetRef table = DatasetRef.parse(flights);
    List<PlanCoverage> plans = new ArrayList<>();
    plans.addAll(
        capture.run(
            DRIFT_SIDES,
            () ->
                new DriftMonitor(
                        spark,
                        // so that the sample's 400 rows take the approx_percentile path too (the
                        // default limit, 10,000, would hold them exactly)
                        FlightsExamples.driftConfig().withExactDistinctLimit(DRIFT_EXACT_LIMIT),
                        message -> {})
                    .run(
                        new DriftInput(table, TRAINING_PERIOD, "January-March"),
                        new DriftInput(table, "not (" + TRAINING_PERIOD + ")", "April-June"))));
    progress.accept("drift: the same, the current side in " + DRIFT_CHUNKS + " chunks");
    plans.addAll(
        capture.run(
            DRIFT_CHUNKED,
            () ->
                new DriftMonitor(
                        spark,
                        FlightsExamples.driftConfig().withExactDistinctLimit(DRIFT_EXACT_LIMIT),
                        message -> {},
                        kiln.drift.Chunking.count(DRIFT_CHUNKS),
                        null)
                    .run(
                        new DriftInput(table, TRAINING_PERIOD, "January-March"),
                        new DriftInput(table, "not (" + TRAINING_PERIOD + ")", "April-June"))));
    return new JobCoverage(
        "drift",
        plans,
        List.of(
            "in a session with RAPIDS (the gpu profile) drift profiles each side with built-in"
                + " aggregates, a group-by of the values and approx_percentile; on a CPU it keeps"
                + " its one-pass JVM fold, which no GPU can run",
            "exactDistinctLimit is "
                + DRIFT_EXACT_LIMIT
                + " here so that the plan with approx_percentile is judged too"));
  }

  /**
   * LLM pre-processing: what {@code kiln llm run} does before its engine stage (reading the input,
   * PII redaction with Spark NLP's rule-based annotators, rendering the prompt and its hash) and
   * what {@code kiln pii redact} does. No engine is called: the pipeline is fitted from no rows and
   * only the stages before the engine run.
   */
  private JobCoverage llm(PlanCapture capture, String table) {
    progress.accept("llm: redaction and prompt rendering (no engine is called)");
    writeTexts(table);
    Dataset<Row> rows = new Datasets(spark).pin(DatasetRef.parse(table)).rows();
    // an endpoint that is never called: only the stages before the engine run
    EngineConfig engine =
        EngineConfig.builder()
            .type(EngineType.OPENAI)
            .model("gpu-check")
            .temperature(0.0)
            .maxTokens(16)
            .baseUrl("http://127.0.0.1:9/v1")
            .build();
    PipelineModel model =
        LlmPipeline.fit(
            LlmPipeline.of(
                "body",
                PiiConfig.defaults(),
                new PromptTemplate("Summarise this support ticket: {{body}}"),
                "body",
                engine),
            rows);
    List<PlanCoverage> plans = new ArrayList<>();
    plans.addAll(
        probe(
            capture,
            LLM_PREPARE,
            LlmJob.prepare(model, rows)
                .select(
                    "id",
                    LlmPipeline.REDACTED_TEXT,
                    LlmPipeline.REDACTIONS,
                    LlmPipeline.PROMPT,
                    LlmPipeline.PROMPT_SHA256)));
    plans.addAll(
        probe(capture, PII_REDACT, PiiJob.redact(rows, List.of("body"), PiiConfig.defaults())));
    return new JobCoverage(
        LLM_JOB,
        plans,
        List.of(
            "the engine stage (HTTP requests or llama.cpp) is not a SQL plan and is not run here;"
                + " Spark NLP's annotators and Kiln's redaction and rendering stages are JVM code"
                + " over rows, which RAPIDS cannot run on a GPU"));
  }

  private void writeTexts(String table) {
    List<Row> texts = new ArrayList<>();
    String[] bodies = {
      "My card was charged twice, call me at 415-555-0132",
      "Please write to jane.doe@example.com about the refund",
      "The app crashes when I open settings",
      "Server 10.0.0.12 refuses connections since Monday",
      "Thanks, it works now",
      null
    };
    for (int i = 0; i < 20; i++) {
      texts.add(org.apache.spark.sql.RowFactory.create((long) i, bodies[i % bodies.length]));
    }
    org.apache.spark.sql.types.StructType schema =
        new org.apache.spark.sql.types.StructType()
            .add("id", org.apache.spark.sql.types.DataTypes.LongType, false)
            .add("body", org.apache.spark.sql.types.DataTypes.StringType, true);
    spark.createDataFrame(texts, schema).write().format("delta").mode("overwrite").save(table);
  }

  /**
   * The plan of {@code rows} alone: run into Parquet files in the scratch directory, whose write
   * operators are the check's, not the job's, and are left out (Kiln's Delta writes are judged in
   * the whole-job plans).
   */
  private List<PlanCoverage> probe(PlanCapture capture, String name, Dataset<Row> rows) {
    return capture.run(name, () -> parquet(rows)).stream()
        .map(
            p ->
                new PlanCoverage(
                    p.name(),
                    p.operators().stream()
                        .filter(o -> !SINK_OPERATORS.contains(o.name()))
                        .toList()))
        .toList();
  }

  private void parquet(Dataset<Row> rows) {
    rows.write()
        .mode("overwrite")
        .parquet(workdir.resolve("plans").resolve(String.valueOf(++planFiles)).toString());
  }

  private static IngestSpec ingestSpec(Path source, String table) {
    IngestSchema schema =
        new IngestSchema(
            List.of(
                new ColumnSpec("date", "timestamp", false, "yyyy/MM/dd HH:mm"),
                new ColumnSpec("delay", "long", null, null),
                new ColumnSpec("distance", "long", null, null),
                new ColumnSpec("origin", "string", false, null),
                new ColumnSpec("destination", "string", false, null)),
            Map.of());
    return IngestSpec.of(source.toString(), SourceFormat.CSV, table).withSchema(schema);
  }

  /**
   * {@code rows} flights from January to June 2001 as CSV (dates as {@code yyyy/MM/dd HH:mm}), and
   * three rows that ingest quarantines.
   */
  static Path writeSource(Path directory, int rows) {
    Random random = new Random(7);
    StringBuilder csv = new StringBuilder("date,delay,distance,origin,destination\n");
    for (int i = 0; i < rows; i++) {
      int month = 1 + random.nextInt(6);
      int hour = random.nextInt(24);
      String origin = AIRPORTS[random.nextInt(AIRPORTS.length)];
      String destination =
          AIRPORTS[(List.of(AIRPORTS).indexOf(origin) + 1 + random.nextInt(3)) % AIRPORTS.length];
      double lateChance = (hour >= 17 ? 0.6 : 0.1) + (origin.equals("ORD") ? 0.2 : 0);
      long delay =
          random.nextDouble() < lateChance ? 20 + random.nextInt(60) : -5 + random.nextInt(15);
      csv.append(
          String.format(
              "2001/%02d/%02d %02d:%02d,%d,%d,%s,%s%n",
              month,
              1 + random.nextInt(28),
              hour,
              random.nextInt(60),
              delay,
              200 + random.nextInt(2000),
              origin,
              destination));
    }
    csv.append("2001/13/40 25:00,5,300,SFO,LAX\n");
    csv.append("2001/02/03 10:00,late,300,SFO,LAX\n");
    csv.append("2001/02/03 11:00,5,300,,LAX\n");
    try {
      Files.createDirectories(directory);
      Path file = directory.resolve("flights.csv");
      Files.writeString(file, csv);
      return directory;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the sample flights to " + directory, e);
    }
  }
}
