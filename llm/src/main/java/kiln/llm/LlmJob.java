package kiln.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.tracking.TrackedRun;
import kiln.llm.internal.Engines;
import kiln.llm.internal.LeakScan;
import kiln.llm.internal.LlmStage;
import kiln.llm.internal.OutputSchema;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.util.LongAccumulator;

/**
 * Runs one batch LLM job: reads the pinned input, loads the prompt version, runs the pipeline
 * (redact, render, complete) and appends one row per input row to the output table, under an
 * idempotency key made of everything that decides the completions, so that a re-run of the same job
 * writes nothing twice. A failed row carries its error; the job itself fails only on bad input or a
 * broken environment.
 */
public final class LlmJob {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final PromptRegistry prompts;
  private final Consumer<String> progress;
  private final Map<String, String> env;

  public LlmJob(
      SparkSession spark,
      PromptRegistry prompts,
      Map<String, String> env,
      Consumer<String> progress) {
    this.spark = spark;
    this.prompts = prompts;
    this.env = env;
    this.progress = progress;
  }

  /**
   * Runs the job inside {@code run}; the fitted pipeline is saved under {@code pipelines/<run id>}.
   */
  public LlmRunResult run(LlmJobConfig config, TrackedRun run, Path pipelines) {
    Datasets datasets = new Datasets(spark);
    DatasetRef input = datasets.resolve(config.inputRef());
    Dataset<Row> rows = datasets.read(input);
    List<String> columns = List.of(rows.columns());
    List<String> missing =
        Stream.of(config.key(), config.text()).filter(c -> !columns.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("input " + input, missing, columns);
    }
    Prompt prompt = prompts.load(config.prompt());
    prompt.template().checkBindings(List.of(config.variable()), "prompt " + prompt);
    EngineConfig engine = config.engine();
    preflight(engine);
    // runtime: spark-nlp without its binding is bad input here, before anything is read or sent
    boolean sparkNlp = kiln.llm.internal.SparkNlpGguf.use(engine);
    Optional<OutputSchema> schema = config.outputSchema();
    // a schema llama.cpp cannot turn into a grammar is refused here, before any row is sent
    Engines.checkSchema(engine, schema);
    config.pii().checkSecrets(env);
    String digest = modelDigest(engine);
    String key = idempotencyKey(config, input, prompt, digest);

    run.logInput(input, "input");
    Map<String, String> params = new LinkedHashMap<>(engine.parameters());
    params.put("prompt", prompt.toString());
    params.put("model_digest", digest);
    params.put("input", input.toString());
    params.put("output", config.output());
    params.put("pii", config.pii().describe());
    params.put("max_error_rate", String.valueOf(config.maxErrorRate()));
    schema.ifPresent(s -> params.put("json_schema_sha256", PromptTemplate.sha256(s.text())));
    params.put("price", config.price() == null ? "unknown" : config.price().describe());
    if (engine.type() == EngineType.LOCAL) {
      // which GGUF runtime runs, and what the detection of Spark NLP's found (never assumed)
      kiln.llm.internal.SparkNlpGguf.Detection gguf = kiln.llm.internal.SparkNlpGguf.detect();
      String runtime = sparkNlp ? SPARK_NLP_RUNTIME : GGUF_RUNTIME;
      params.put("gguf_runtime", runtime);
      params.put(
          "spark_nlp_auto_gguf", (gguf.available() ? "present: " : "absent: ") + gguf.detail());
      progress.accept(
          "Spark NLP AutoGGUFModel "
              + (gguf.available() ? "present" : "absent")
              + " ("
              + gguf.detail()
              + "); the local engine runs on "
              + runtime
              + " (engine.runtime "
              + engine.runtime()
              + ")");
    }
    run.logParams(params);
    run.setTags(
        Map.of(
            "mlflow.prompt.name",
            prompt.name(),
            "mlflow.prompt.version",
            prompt.version(),
            "kiln.llm.job_key",
            key));

    // row-level resume: the keys this job already committed (pinned, so that the parts written
    // below do not change what "remaining" means while they are written)
    Done done = doneKeys(datasets, config, key);
    Dataset<Row> remaining =
        done.rows() == 0
            ? rows
            : rows.join(
                done.keys(),
                rows.col(config.key()).eqNullSafe(done.keys().col(DONE_KEY)),
                "left_anti");
    long total = rows.count();
    long todo = done.rows() == 0 ? total : remaining.count();
    boolean finished =
        todo == 0
            && (done.rows() > 0
                || datasets.committed(config.output(), key, WriteMode.APPEND).isPresent());
    if (finished) {
      progress.accept(
          "this job's rows are already in " + config.output() + "; nothing is generated again");
      return summarize(
          config,
          input,
          DatasetRef.atVersion(config.output(), datasets.latestVersion(config.output())),
          prompt,
          engine,
          digest,
          key,
          true,
          done.rows(),
          null,
          run);
    }
    if (done.rows() > 0) {
      progress.accept(
          done.rows()
              + " rows of this job are already in "
              + config.output()
              + " from an interrupted run; generating the "
              + todo
              + " others");
    }

    PipelineModel model =
        LlmPipeline.fit(
            LlmPipeline.of(
                config.text(),
                config.pii(),
                prompt.template(),
                config.variable(),
                engine,
                schema.orElse(null)),
            rows);
    Path saved = pipelines.resolve(run.id()).toAbsolutePath();
    // saved and uploaded while the rows are generated (a few small Spark jobs and uploads that
    // would otherwise run before any row); waited for before the summary, and a failure fails the
    // run as it did when it ran first
    java.util.concurrent.CompletableFuture<Void> saving =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              try {
                model.write().overwrite().save(saved.toString());
              } catch (IOException e) {
                throw Errors.environment(
                    "cannot save the pipeline to " + saved + ": " + e.getMessage(),
                    "check the work directory");
              }
              logDirectory(run, saved, "pipeline");
            },
            command -> {
              Thread t = new Thread(command, "kiln-llm-pipeline-save");
              t.setDaemon(true);
              t.start();
            });

    LongAccumulator rowsDone = spark.sparkContext().longAccumulator("kiln.llm.rows");
    LongAccumulator tokensDone = spark.sparkContext().longAccumulator("kiln.llm.tokens");
    LlmPipeline.Generation llm = LlmPipeline.generation(model).withProgress(rowsDone, tokensDone);
    String paramsSha = paramsSha256(engine, schema);
    Dataset<Row> cached =
        config.cache() == null ? null : cacheEntries(config.cache(), digest, paramsSha);

    progress.accept(
        "generating "
            + todo
            + " rows with "
            + engine.type()
            + " model "
            + engine.model()
            + " and prompt "
            + prompt);
    // parts, each its own commit: a kill loses at most the part being written. With
    // deduplication the parts go by rendered-prompt hash, so that every row sharing a prompt is in
    // the same part and the prompt is generated once per job, not once per part (and a resumed run
    // never meets a prompt an earlier run already committed); rows without a prompt by key.
    int parts = (int) Math.max(1, (todo + config.commitEvery() - 1) / config.commitEvery());
    Dataset<Row> prepared = prepare(model, remaining);
    if (parts > 1 || config.deduplicate()) {
      // redaction and rendering once, not once per part nor twice for deduplication's distinct
      // prompts and its join back (kept on the executors, never collected to the driver)
      prepared = prepared.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    }
    Column byKey = functions.xxhash64(functions.col(config.key()));
    Column part =
        functions.pmod(
            config.deduplicate()
                ? functions
                    .when(functions.col(LlmPipeline.PROMPT_SHA256).isNull(), byKey)
                    .otherwise(functions.xxhash64(functions.col(LlmPipeline.PROMPT_SHA256)))
                : byKey,
            functions.lit(parts));
    DatasetRef written = null;
    try {
      for (int i = 0; i < parts; i++) {
        Dataset<Row> slice = parts == 1 ? prepared : prepared.where(part.equalTo(i));
        Dataset<Row> completed =
            config.deduplicate()
                ? deduplicated(llm, slice, config.key(), cached)
                : perRow(llm, slice, cached);
        completed =
            LeakScan.scan(
                completed, LlmStage.COMPLETION, LlmStage.ERROR, config.pii(), config.blockLeaks());
        Dataset<Row> out =
            completed.select(outputColumns(config, prompt, engine, digest, run.id(), key));
        if (i == 0) {
          checkOutputSchema(spark, config.output(), out);
        }
        if (config.cache() != null) {
          // the part is computed once: written to the output, then its new answers to the cache
          out = out.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
        }
        try (Progress ticker = new Progress(rowsDone, tokensDone, todo, progress)) {
          written =
              datasets
                  .write(
                      out,
                      config.output(),
                      new WriteOptions(
                          WriteMode.APPEND,
                          // the job's key on the last part, so that a finished job is seen as one
                          i == parts - 1 ? key : key + "-part-" + run.id() + "-" + i,
                          Map.of(
                              "kiln.job",
                              "llm",
                              "kiln.prompt",
                              prompt.toString(),
                              "kiln.run_id",
                              run.id(),
                              "kiln.llm.job_key",
                              key)))
                  .written();
        }
        if (config.cache() != null) {
          addToCache(config.cache(), out, digest, paramsSha, run.id());
          out.unpersist();
        }
        progress.accept("committed part " + (i + 1) + " of " + parts + " to " + written);
      }
    } finally {
      prepared.unpersist();
      // a failed part's own exception wins; the save is waited for either way
      awaitQuietly(saving);
    }
    await(saving);
    return summarize(
        config,
        input,
        written,
        prompt,
        engine,
        digest,
        key,
        false,
        done.rows(),
        saved.toString(),
        run);
  }

  private static final String DONE_KEY = "__kiln_done_key";

  /** Waits for {@code task}, rethrowing what it threw. */
  private static void await(java.util.concurrent.CompletableFuture<Void> task) {
    try {
      task.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** Waits for {@code task}, ignoring its failure (another failure is being thrown). */
  private static void awaitQuietly(java.util.concurrent.CompletableFuture<Void> task) {
    try {
      task.join();
    } catch (RuntimeException e) {
      // reported by await() when nothing else failed
    }
  }

  /** Kiln's own runtime of the local engine (engine.runtime kiln, or auto without Spark NLP's). */
  static final String GGUF_RUNTIME = "kiln llama.cpp (de.kherud:llama 4.2.0)";

  /**
   * Spark NLP's runtime of the local engine, used when its native binding is detected (or asked
   * for); token counts are then Kiln's tokenizer's (AutoGGUFModel reports none).
   */
  static final String SPARK_NLP_RUNTIME =
      "spark-nlp AutoGGUFModel (5.5.3; token counts by Kiln's tokenizer)";

  /** This job's keys already in the output (null when none) and their number. */
  private record Done(Dataset<Row> keys, long rows) {}

  /** A pinned read of this job's keys in the output, and how many rows hold them. */
  private Done doneKeys(Datasets datasets, LlmJobConfig config, String key) {
    if (!datasets.exists(config.output())) {
      return new Done(null, 0);
    }
    Dataset<Row> mine =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", datasets.latestVersion(config.output()))
            .load(config.output());
    if (!List.of(mine.columns()).contains("job_key")
        || !List.of(mine.columns()).contains(config.key())) {
      // another table's columns: the schema check refuses it before anything is written
      return new Done(null, 0);
    }
    Dataset<Row> keys =
        mine.where(functions.col("job_key").equalTo(key))
            .select(functions.col(config.key()).as(DONE_KEY))
            .distinct();
    long n = keys.count();
    return new Done(keys, n);
  }

  /**
   * The pipeline with each distinct rendered prompt completed once: the stages before the LLM stage
   * run per row, the LLM stage over the distinct prompts (spread over as many partitions as the
   * input has), and the answers are joined back by prompt hash. Of the rows sharing a prompt, the
   * first by key is the one that asked; the others are marked {@code deduplicated}. Rows without a
   * prompt (no text) fail as the LLM stage fails them, without a request.
   */
  private static Dataset<Row> deduplicated(
      LlmPipeline.Generation llm, Dataset<Row> prepared, String keyColumn, Dataset<Row> cached) {
    Column hash = functions.col(LlmPipeline.PROMPT_SHA256);
    Dataset<Row> unique =
        prepared
            .where(hash.isNotNull())
            .select(LlmPipeline.PROMPT, LlmPipeline.PROMPT_SHA256)
            .dropDuplicates(LlmPipeline.PROMPT_SHA256)
            .repartition(Math.max(1, prepared.javaRDD().getNumPartitions()));
    Dataset<Row> answers = complete(llm, unique, cached).drop(LlmPipeline.PROMPT);
    Dataset<Row> joined =
        prepared
            .join(
                answers,
                prepared
                    .col(LlmPipeline.PROMPT_SHA256)
                    .equalTo(answers.col(LlmPipeline.PROMPT_SHA256)),
                "left")
            .drop(answers.col(LlmPipeline.PROMPT_SHA256));
    Column noPrompt = functions.col(LlmPipeline.PROMPT).isNull();
    Column rank =
        functions
            .row_number()
            .over(
                org.apache.spark.sql.expressions.Window.partitionBy(hash)
                    .orderBy(functions.col(keyColumn)));
    return joined
        .withColumn(
            LlmStage.ERROR,
            functions
                .when(noPrompt, functions.lit(kiln.llm.internal.Completion.NO_TEXT))
                .otherwise(functions.col(LlmStage.ERROR)))
        .withColumn(
            LlmStage.LATENCY_MS,
            functions.coalesce(functions.col(LlmStage.LATENCY_MS), functions.lit(0L)))
        .withColumn(
            LlmStage.ATTEMPTS,
            functions.coalesce(functions.col(LlmStage.ATTEMPTS), functions.lit(0)))
        .withColumn(CACHE_HIT, functions.coalesce(functions.col(CACHE_HIT), functions.lit(false)))
        .withColumn(DEDUPLICATED, functions.when(noPrompt, false).otherwise(rank.gt(1)));
  }

  /** Every row completed on its own (deduplicate: false); the cache still answers what it holds. */
  private static Dataset<Row> perRow(
      LlmPipeline.Generation llm, Dataset<Row> prepared, Dataset<Row> cached) {
    return complete(llm, prepared, cached).withColumn(DEDUPLICATED, functions.lit(false));
  }

  /**
   * The stages before the generation: redaction and rendering (public: {@code kiln gpu check}
   * judges this plan).
   */
  public static Dataset<Row> prepare(PipelineModel model, Dataset<Row> rows) {
    return LlmPipeline.prepare(model, rows);
  }

  /**
   * The LLM stage over rows with a rendered prompt, except the prompts the cache answers: those
   * rows take the cached completion and counts, with no request, latency 0 and {@code cache_hit}.
   */
  private static Dataset<Row> complete(
      LlmPipeline.Generation llm, Dataset<Row> prompts, Dataset<Row> cached) {
    if (cached == null) {
      return llm.transform(prompts).withColumn(CACHE_HIT, functions.lit(false));
    }
    List<String> columns = List.of(prompts.columns());
    Dataset<Row> joined =
        prompts.join(
            cached, prompts.col(LlmPipeline.PROMPT_SHA256).equalTo(cached.col(CACHED_SHA)), "left");
    Column hit = functions.col(CACHED_SHA).isNotNull();
    Dataset<Row> misses =
        joined
            .where(functions.not(hit))
            .select(columns.stream().map(functions::col).toArray(Column[]::new));
    List<Column> fromCache = new ArrayList<>();
    columns.forEach(c -> fromCache.add(functions.col(c)));
    fromCache.add(functions.col("c_completion").as(LlmStage.COMPLETION));
    fromCache.add(functions.col("c_prompt_tokens").as(LlmStage.PROMPT_TOKENS));
    fromCache.add(functions.col("c_completion_tokens").as(LlmStage.COMPLETION_TOKENS));
    fromCache.add(functions.col("c_finish_reason").as(LlmStage.FINISH_REASON));
    fromCache.add(functions.lit(0L).as(LlmStage.LATENCY_MS));
    fromCache.add(functions.lit(0).as(LlmStage.ATTEMPTS));
    fromCache.add(functions.lit(null).cast("string").as(LlmStage.ERROR));
    fromCache.add(functions.lit(true).as(CACHE_HIT));
    Dataset<Row> hits = joined.where(hit).select(fromCache.toArray(Column[]::new));
    return llm.transform(misses).withColumn(CACHE_HIT, functions.lit(false)).unionByName(hits);
  }

  public static final String CACHE_HIT = "cache_hit";
  public static final String DEDUPLICATED = "deduplicated";
  private static final String CACHED_SHA = "c_prompt_sha256";

  /** The cache's answers for this model and these parameters, one per prompt hash. */
  private Dataset<Row> cacheEntries(String cache, String digest, String paramsSha) {
    if (!new Datasets(spark).exists(cache)) {
      return null;
    }
    return spark
        .read()
        .format("delta")
        .option("versionAsOf", new Datasets(spark).latestVersion(cache))
        .load(cache)
        .where(
            functions
                .col("model_digest")
                .equalTo(digest)
                .and(functions.col("params_sha256").equalTo(paramsSha)))
        .dropDuplicates("prompt_sha256")
        .select(
            functions.col("prompt_sha256").as(CACHED_SHA),
            functions.col("completion").as("c_completion"),
            functions.col("prompt_tokens").as("c_prompt_tokens"),
            functions.col("completion_tokens").as("c_completion_tokens"),
            functions.col("finish_reason").as("c_finish_reason"));
  }

  /** A part's new answers (requested, not failed), appended to the cache unless already there. */
  private void addToCache(
      String cache, Dataset<Row> out, String digest, String paramsSha, String runId) {
    Dataset<Row> fresh =
        out.where(
                functions
                    .not(functions.col(CACHE_HIT))
                    .and(functions.not(functions.col(DEDUPLICATED)))
                    .and(functions.col(LlmStage.ERROR).isNull())
                    .and(functions.col(LlmStage.COMPLETION).isNotNull()))
            .select(
                functions.lit(digest).as("model_digest"),
                functions.lit(paramsSha).as("params_sha256"),
                functions.col(LlmPipeline.PROMPT_SHA256),
                functions.col(LlmStage.COMPLETION),
                functions.col(LlmStage.PROMPT_TOKENS),
                functions.col(LlmStage.COMPLETION_TOKENS),
                functions.col(LlmStage.FINISH_REASON),
                functions.lit(runId).as("run_id"))
            .dropDuplicates(LlmPipeline.PROMPT_SHA256);
    Datasets datasets = new Datasets(spark);
    if (datasets.exists(cache)) {
      Dataset<Row> known =
          spark
              .read()
              .format("delta")
              .option("versionAsOf", datasets.latestVersion(cache))
              .load(cache)
              .where(
                  functions
                      .col("model_digest")
                      .equalTo(digest)
                      .and(functions.col("params_sha256").equalTo(paramsSha)))
              .select(functions.col("prompt_sha256").as(CACHED_SHA));
      fresh =
          fresh.join(
              known,
              fresh.col(LlmPipeline.PROMPT_SHA256).equalTo(known.col(CACHED_SHA)),
              "left_anti");
    }
    datasets.write(
        fresh,
        cache,
        new WriteOptions(
            WriteMode.APPEND, null, Map.of("kiln.job", "llm-cache", "kiln.run_id", runId)));
  }

  /** What decides a completion besides the prompt and the model: the engine's parameters. */
  static String paramsSha256(EngineConfig engine, Optional<OutputSchema> schema) {
    Map<String, String> parameters = new TreeMap<>(engine.parameters());
    ranOnSparkNlp(engine).ifPresent(r -> parameters.put("runtime", r));
    // a schema changes what is generated (a grammar) and what is valid; without one the key is
    // what it always was
    schema.ifPresent(s -> parameters.put("json_schema", PromptTemplate.sha256(s.text())));
    try {
      return PromptTemplate.sha256(JSON.writeValueAsString(parameters));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Column[] outputColumns(
      LlmJobConfig config,
      Prompt prompt,
      EngineConfig engine,
      String digest,
      String runId,
      String key) {
    return new Column[] {
      functions.col(config.key()),
      functions.lit(prompt.name()).as("prompt_name"),
      functions.lit(prompt.version()).as("prompt_version"),
      functions.lit(engine.model()).as("model"),
      functions.lit(digest).as("model_digest"),
      functions.col(LlmPipeline.PROMPT_SHA256),
      functions.col(LlmStage.COMPLETION),
      functions.col(LlmStage.PROMPT_TOKENS),
      functions.col(LlmStage.COMPLETION_TOKENS),
      functions.col(LlmStage.FINISH_REASON),
      functions.col(LlmStage.LATENCY_MS),
      functions.col(LlmStage.ATTEMPTS),
      functions.col(LlmStage.ERROR),
      functions.col(LlmPipeline.REDACTIONS),
      functions.col(LeakScan.COMPLETION_PII),
      functions.col(DEDUPLICATED),
      functions.col(CACHE_HIT),
      functions.lit(runId).as("run_id"),
      functions.lit(key).as("job_key"),
    };
  }

  /** Totals read back from the rows written (never a second pass over the engine). */
  private LlmRunResult summarize(
      LlmJobConfig config,
      DatasetRef input,
      DatasetRef output,
      Prompt prompt,
      EngineConfig engine,
      String digest,
      String key,
      boolean alreadyWritten,
      long resumedRows,
      String pipeline,
      TrackedRun run) {
    Dataset<Row> mine =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", output.version())
            .load(output.table())
            .where(functions.col("job_key").equalTo(key));
    Column tokens =
        functions
            .coalesce(functions.col("prompt_tokens"), functions.lit(0))
            .plus(functions.coalesce(functions.col("completion_tokens"), functions.lit(0)));
    Column shared = functions.col(DEDUPLICATED);
    Column cached = functions.col(CACHE_HIT).and(functions.not(shared));
    // a row spent tokens only if it made the request: not one sharing another row's answer, and
    // not one the cache answered
    Column spent = functions.not(shared).and(functions.not(functions.col(CACHE_HIT)));
    List<Column> aggregates =
        new ArrayList<>(
            List.of(
                functions.count(functions.lit(1)),
                functions.count(functions.col("error")),
                sumWhen(spent, functions.col("prompt_tokens")),
                sumWhen(spent, functions.col("completion_tokens")),
                functions.coalesce(functions.sum("latency_ms"), functions.lit(0L)),
                functions.count(functions.when(shared, 1)),
                sumWhen(shared, tokens),
                functions.count(functions.when(cached, 1)),
                sumWhen(cached, tokens),
                functions.count(
                    functions.when(
                        functions.size(functions.col(LeakScan.COMPLETION_PII)).gt(0), 1)),
                functions.count(
                    functions.when(functions.col("error").startsWith(OutputSchema.INVALID), 1)),
                // the engine's work: the latencies of the rows that made a request
                sumWhen(spent.and(functions.col("attempts").gt(0)), functions.col("latency_ms"))));
    // the per-type counts in the same pass (one Spark job, not three): both maps are keyed by
    // entity name
    int typed = aggregates.size();
    for (String map : List.of(LlmPipeline.REDACTIONS, LeakScan.COMPLETION_PII)) {
      for (PiiEntity type : PiiEntity.values()) {
        Column value = functions.element_at(functions.col(map), functions.lit(type.name()));
        aggregates.add(functions.count(value));
        aggregates.add(functions.coalesce(functions.sum(value.cast("long")), functions.lit(0L)));
      }
    }
    Row totals =
        mine.agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            .first();
    Map<String, Long> redactions = new TreeMap<>();
    Map<String, Long> leaks = new TreeMap<>();
    int at = typed;
    for (Map<String, Long> sums : List.of(redactions, leaks)) {
      for (PiiEntity type : PiiEntity.values()) {
        // a type is listed when some row's map holds it, as the maps themselves say
        if (totals.getLong(at) > 0) {
          sums.put(type.name(), totals.getLong(at + 1));
        }
        at += 2;
      }
    }
    // slots decode in parallel: their summed latencies are slots times the engine's busy time
    int parallel = engine.type() == EngineType.LOCAL ? engine.slots() : 1;
    double engineHours = totals.getLong(11) / (double) parallel / 3_600_000.0;
    LlmRunResult result =
        new LlmRunResult(
            input,
            output,
            prompt,
            engine.model(),
            digest,
            totals.getLong(0),
            totals.getLong(1),
            totals.getLong(2),
            totals.getLong(3),
            totals.getLong(5),
            totals.getLong(6),
            totals.getLong(7),
            totals.getLong(8),
            redactions,
            leaks,
            totals.getLong(9),
            totals.getLong(10),
            resumedRows,
            alreadyWritten,
            config.maxErrorRate(),
            pipeline,
            engineHours,
            config.price());
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", (double) result.rows());
    metrics.put("errors", (double) result.errors());
    metrics.put("error_rate", result.errorRate());
    metrics.put("prompt_tokens", (double) result.promptTokens());
    metrics.put("completion_tokens", (double) result.completionTokens());
    metrics.put("total_tokens", (double) (result.promptTokens() + result.completionTokens()));
    metrics.put("deduplicated_rows", (double) result.deduplicatedRows());
    metrics.put("tokens_saved_by_dedup", (double) result.tokensSaved());
    metrics.put("cache_hits", (double) result.cacheHits());
    metrics.put("tokens_saved_by_cache", (double) result.tokensSavedByCache());
    metrics.put("rows_with_leaks", (double) result.rowsWithLeaks());
    metrics.put("invalid_output", (double) result.invalidOutputs());
    metrics.put("resumed_rows", (double) result.resumedRows());
    metrics.put(
        "latency_ms_mean", result.rows() == 0 ? 0 : totals.getLong(4) / (double) result.rows());
    // the token cost is not logged here: the run's cost (jobs) prices the tokens once, with the
    // job's price in place of the catalog's entry for the model (cost.tokens)
    metrics.put("engine_hours", engineHours);
    redactions.forEach((type, n) -> metrics.put("redactions." + type, (double) n));
    leaks.forEach((type, n) -> metrics.put("leaks." + type, (double) n));
    run.logMetrics(metrics);
    run.setTags(Map.of("kiln.output", output.toString()));
    return result;
  }

  private static Column sumWhen(Column condition, Column value) {
    return functions.coalesce(
        functions.sum(functions.when(condition, value).cast("long")), functions.lit(0L));
  }

  /**
   * An existing output table with other columns would fail the write after every token was paid
   * for.
   */
  static void checkOutputSchema(SparkSession spark, String output, Dataset<Row> out) {
    if (!new Datasets(spark).exists(output)) {
      return;
    }
    String have = columns(spark.read().format("delta").load(output).schema());
    String write = columns(out.schema());
    if (!have.equals(write)) {
      throw Errors.badInput(
          "output table "
              + output
              + " has other columns than this job writes: it has "
              + have
              + "; the job writes "
              + write,
          "choose another output table (or fix the key column's type)");
    }
  }

  private static String columns(org.apache.spark.sql.types.StructType schema) {
    // nullability aside: Delta keeps the table's
    return java.util.Arrays.stream(schema.fields())
        .map(f -> f.name() + " " + f.dataType().simpleString())
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /** What the engine needs, checked before any row is sent; no secret is ever printed. */
  private void preflight(EngineConfig engine) {
    String apiKey = kiln.llm.internal.ApiKeys.read(engine, env);
    if (apiKey != null) {
      checkKey(engine, apiKey);
    }
    if (engine.modelPath() != null) {
      Path file = Path.of(engine.modelPath());
      byte[] magic = new byte[4];
      try (InputStream in = Files.newInputStream(file)) {
        if (in.readNBytes(magic, 0, 4) < 4
            || !"GGUF".equals(new String(magic, StandardCharsets.US_ASCII))) {
          throw Errors.badInput(
              file + " is not a GGUF file (it does not start with the GGUF magic)",
              "give a .gguf model file (llama.cpp's convert_hf_to_gguf.py makes one from Hugging Face weights)");
        }
      } catch (IOException e) {
        throw Errors.badInput(
            "cannot read model file " + file + ": " + e.getMessage(), "check engine.modelPath");
      }
    }
  }

  /**
   * Asks the endpoint's {@code /models} (OpenAI, vLLM, TGI, llama-server and Ollama have it)
   * whether it takes the key; only a refusal (401, 403) stops the job. An endpoint without {@code
   * /models} or one that does not answer is left to the rows' own retries and errors.
   */
  private static void checkKey(EngineConfig engine, String key) {
    java.net.http.HttpClient http =
        java.net.http.HttpClient.newBuilder()
            .connectTimeout(java.time.Duration.ofSeconds(10))
            .build();
    java.net.http.HttpRequest request =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(engine.baseUrl() + "/models"))
            .timeout(java.time.Duration.ofSeconds(Math.min(30, engine.timeoutSeconds())))
            .header("Authorization", "Bearer " + key)
            .GET()
            .build();
    int status;
    try {
      status =
          http.send(request, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    if (status == 401 || status == 403) {
      throw Errors.badInput(
          engine.baseUrl()
              + " refused the API key in "
              + engine.apiKeySource()
              + " (HTTP "
              + status
              + ")",
          "put a valid key for this endpoint in " + engine.apiKeySource());
    }
  }

  /**
   * What identifies the model: the SHA-256 of the GGUF file for {@code local}; for {@code openai},
   * where the weights are the provider's, the SHA-256 of the endpoint and model name (a provider
   * can change the weights behind a name, which nothing outside it can see).
   */
  public static String modelDigest(EngineConfig engine) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      if (engine.type() == EngineType.LOCAL) {
        try (InputStream in =
            new DigestInputStream(Files.newInputStream(Path.of(engine.modelPath())), sha)) {
          in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
      }
      return "sha256:"
          + HexFormat.of()
              .formatHex(
                  sha.digest(
                      ("openai|" + engine.baseUrl() + "|" + engine.model())
                          .getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  /**
   * The runtime that generates, when {@code runtime: auto} resolved to Spark NLP's AutoGGUFModel:
   * the same auto config generates differently where the binding is present, so its output and
   * cache keys must differ; they are those of {@code runtime: spark-nlp}, which generates the same.
   * Empty when Kiln's llama.cpp runs (or the runtime was named: then the engine's parameters hold
   * it), so that the keys of earlier runs stay as they were.
   */
  static Optional<String> ranOnSparkNlp(EngineConfig engine) {
    return EngineConfig.RUNTIME_AUTO.equals(engine.runtime())
            && kiln.llm.internal.SparkNlpGguf.use(engine)
        ? Optional.of(EngineConfig.RUNTIME_SPARK_NLP)
        : Optional.empty();
  }

  /** Everything that decides the output rows: the same job twice is the same key. */
  static String idempotencyKey(
      LlmJobConfig config, DatasetRef input, Prompt prompt, String digest) {
    Map<String, Object> parts = new TreeMap<>();
    parts.put("input", input.toString());
    parts.put("key", config.key());
    parts.put("text", config.text());
    parts.put("variable", config.variable());
    parts.put("prompt", prompt.toString());
    parts.put("template", PromptTemplate.sha256(prompt.template().text()));
    parts.put("model_digest", digest);
    Map<String, String> engine = new LinkedHashMap<>(config.engine().parameters());
    ranOnSparkNlp(config.engine()).ifPresent(r -> engine.put("runtime", r));
    parts.put("engine", engine);
    parts.put("pii", config.pii().describe());
    parts.put("deduplicate", config.deduplicate());
    config.outputSchema().ifPresent(s -> parts.put("json_schema", PromptTemplate.sha256(s.text())));
    try {
      return "llm-" + PromptTemplate.sha256(JSON.writeValueAsString(parts)).substring(0, 32);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void logDirectory(TrackedRun run, Path directory, String artifactRoot) {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(directory)) {
      walk.filter(Files::isRegularFile)
          .filter(f -> !f.getFileName().toString().endsWith(".crc"))
          .forEach(files::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path f : files) {
      run.logArtifact(
          f, artifactRoot + "/" + directory.relativize(f).toString().replace('\\', '/'));
    }
  }

  /** Prints rows and tokens done every few seconds while the write runs. */
  private static final class Progress implements AutoCloseable {
    private final Thread thread;

    Progress(LongAccumulator rows, LongAccumulator tokens, long total, Consumer<String> out) {
      thread =
          new Thread(
              () -> {
                long shown = -1;
                while (!Thread.currentThread().isInterrupted()) {
                  try {
                    Thread.sleep(5_000);
                  } catch (InterruptedException e) {
                    return;
                  }
                  if (rows.value() != shown) {
                    shown = rows.value();
                    out.accept(
                        "progress: "
                            + shown
                            + " of "
                            + total
                            + " rows, "
                            + tokens.value()
                            + " tokens");
                  }
                }
              },
              "kiln-llm-progress");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() {
      thread.interrupt();
    }
  }
}
