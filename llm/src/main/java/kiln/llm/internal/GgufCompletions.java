package kiln.llm.internal;

import de.kherud.llama.LlamaModel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import kiln.llm.EngineConfig;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * After Spark NLP's AutoGGUFModel: its completion annotations as Kiln's output columns. The text is
 * the annotation's result; an annotation carrying {@code llamacpp_exception} (AutoGGUFModel's batch
 * failed), or none at all, is the row's error. AutoGGUFModel reports no token counts, so the
 * completion's tokens are the text encoded again with Kiln's tokenizer (at most {@code maxTokens};
 * re-encoding may count a token more or less than were generated) and {@code finish_reason} is
 * {@code length} when they reach {@code maxTokens}, else {@code stop}. AutoGGUFModel decodes a
 * batch of {@code slots} rows in parallel: each row's latency is its batch's time (the rows are
 * pulled in the same batches), so that the latencies summed and divided by the slots are the
 * engine's time, as for Kiln's engine.
 */
public final class GgufCompletions extends EngineStage<GgufCompletions>
    implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  /** The metadata key of AutoGGUFModel's failed batch (Spark NLP 5.5.3). */
  static final String EXCEPTION = "llamacpp_exception";

  private final Param<String> documentCol;
  private transient LongAccumulator rowsDone;
  private transient LongAccumulator tokensDone;

  public GgufCompletions() {
    this(Identifiable$.MODULE$.randomUID("kilnGgufCompletions"));
  }

  public GgufCompletions(String uid) {
    super(uid, "AutoGGUFModel's completion annotations", "the local engine's config as JSON");
    documentCol = new Param<>(this, "documentCol", "the prompt's document annotations (dropped)");
  }

  // Spark ML finds a stage's params by its public methods returning them

  public Param<String> documentCol() {
    return documentCol;
  }

  public GgufCompletions setDocumentCol(String value) {
    set(documentCol, value);
    return this;
  }

  /** Counters the driver reads for progress; not saved with the pipeline. */
  public GgufCompletions withProgress(LongAccumulator rows, LongAccumulator tokens) {
    this.rowsDone = rows;
    this.tokensDone = tokens;
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    Set<String> names = Set.of(schema.fieldNames());
    for (String needed : List.of($(inputCol()), LlmStage.PROMPT_TOKENS, LlmStage.ERROR)) {
      if (!names.contains(needed)) {
        throw new IllegalArgumentException("GgufCompletions needs column " + needed);
      }
    }
    StructType out = new StructType();
    for (StructField f : schema.fields()) {
      if (!f.name().equals($(inputCol()))
          && !f.name().equals($(documentCol))
          && !f.name().equals(LlmStage.PROMPT_TOKENS)
          && !f.name().equals(LlmStage.ERROR)) {
        out = out.add(f);
      }
    }
    return out.add(LlmStage.COMPLETION, DataTypes.StringType, true)
        .add(LlmStage.PROMPT_TOKENS, DataTypes.IntegerType, true)
        .add(LlmStage.COMPLETION_TOKENS, DataTypes.IntegerType, true)
        .add(LlmStage.FINISH_REASON, DataTypes.StringType, true)
        .add(LlmStage.LATENCY_MS, DataTypes.LongType, false)
        .add(LlmStage.ATTEMPTS, DataTypes.IntegerType, false)
        .add(LlmStage.ERROR, DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType in = dataset.schema();
    StructType out = transformSchema(in);
    EngineConfig config = engineConfig();
    int annotations = in.fieldIndex($(inputCol()));
    int promptTokens = in.fieldIndex(LlmStage.PROMPT_TOKENS);
    int error = in.fieldIndex(LlmStage.ERROR);
    List<Integer> kept = new ArrayList<>();
    for (StructField f : out.fields()) {
      if (in.getFieldIndex(f.name()).isDefined()
          && !f.name().equals(LlmStage.PROMPT_TOKENS)
          && !f.name().equals(LlmStage.ERROR)) {
        kept.add(in.fieldIndex(f.name()));
      }
    }
    LongAccumulator rows = rowsDone;
    LongAccumulator tokens = tokensDone;
    MapPartitionsFunction<Row, Row> map =
        input -> new Batches(input, config, kept, annotations, promptTokens, error, rows, tokens);
    return dataset.toDF().mapPartitions(map, Encoders.row(out));
  }

  /** Pulls AutoGGUFModel's rows a batch ({@code slots}) at a time, timing each batch. */
  private static final class Batches implements Iterator<Row> {
    private final Iterator<Row> input;
    private final EngineConfig config;
    private final List<Integer> kept;
    private final int annotations;
    private final int promptTokens;
    private final int error;
    private final LongAccumulator rows;
    private final LongAccumulator tokens;
    private Iterator<Row> ready = java.util.Collections.emptyIterator();
    private LlamaModel tokenizer;

    Batches(
        Iterator<Row> input,
        EngineConfig config,
        List<Integer> kept,
        int annotations,
        int promptTokens,
        int error,
        LongAccumulator rows,
        LongAccumulator tokens) {
      this.input = input;
      this.config = config;
      this.kept = kept;
      this.annotations = annotations;
      this.promptTokens = promptTokens;
      this.error = error;
      this.rows = rows;
      this.tokens = tokens;
    }

    @Override
    public boolean hasNext() {
      if (!ready.hasNext() && input.hasNext()) {
        long start = System.nanoTime();
        List<Row> batch = new ArrayList<>(config.slots());
        while (input.hasNext() && batch.size() < config.slots()) {
          batch.add(input.next());
        }
        long latency = (System.nanoTime() - start) / 1_000_000;
        if (tokenizer == null) {
          tokenizer = LocalEngines.tokenizer(config.modelPath());
        }
        List<Row> done = new ArrayList<>(batch.size());
        long spent = 0;
        for (Row row : batch) {
          Completion c = completion(row, latency);
          spent +=
              (c.promptTokens() == null ? 0 : c.promptTokens())
                  + (c.completionTokens() == null ? 0 : c.completionTokens());
          done.add(extend(row, c));
        }
        if (rows != null) {
          rows.add(batch.size());
          tokens.add(spent);
        }
        ready = done.iterator();
      }
      return ready.hasNext();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return ready.next();
    }

    private Completion completion(Row row, long latency) {
      Integer prompt = row.isNullAt(promptTokens) ? null : row.getInt(promptTokens);
      if (!row.isNullAt(error)) {
        return new Completion(null, prompt, null, null, 0, 0, row.getString(error));
      }
      List<Row> answers = row.isNullAt(annotations) ? List.of() : row.getList(annotations);
      if (answers.isEmpty()) {
        return new Completion(
            null, prompt, null, null, latency, 1, "AutoGGUFModel gave no completion");
      }
      Row answer = answers.get(0);
      Map<String, String> metadata = answer.isNullAt(4) ? Map.of() : answer.getJavaMap(4);
      if (metadata.containsKey(EXCEPTION)) {
        return new Completion(
            null, prompt, null, null, latency, 1, "llama.cpp failed: " + metadata.get(EXCEPTION));
      }
      String text = answer.getString(3);
      int generated =
          Math.min(config.maxTokens(), text.isEmpty() ? 0 : tokenizer.encode(text).length);
      return new Completion(
          text,
          prompt,
          generated,
          generated >= config.maxTokens() ? "length" : "stop",
          latency,
          1,
          null);
    }

    private Row extend(Row row, Completion c) {
      Object[] values = new Object[kept.size() + 7];
      int n = 0;
      for (int i : kept) {
        values[n++] = row.get(i);
      }
      values[n] = c.text();
      values[n + 1] = c.promptTokens();
      values[n + 2] = c.completionTokens();
      values[n + 3] = c.finishReason();
      values[n + 4] = c.latencyMillis();
      values[n + 5] = c.attempts();
      values[n + 6] = c.error();
      return RowFactory.create(values);
    }
  }

  @Override
  public Transformer copy(ParamMap extra) {
    GgufCompletions copy = (GgufCompletions) defaultCopy(extra);
    return copy.withProgress(rowsDone, tokensDone);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<GgufCompletions> read() {
    return new DefaultParamsReader<>();
  }
}
