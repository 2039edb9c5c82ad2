package kiln.llm.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
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
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * The LLM stage: sends each row's rendered prompt to the engine and adds the completion, token
 * counts, finish reason, latency, attempts and error. A plain Java Transformer placed after Spark
 * NLP's Finisher (an AnnotatorModel subclass from Java gives no batching, STACK.md). The engine
 * config is a JSON param without secrets: the API key is read from its environment variable on the
 * executor.
 */
public final class LlmStage extends EngineStage<LlmStage> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  public static final String COMPLETION = "completion";
  public static final String PROMPT_TOKENS = "prompt_tokens";
  public static final String COMPLETION_TOKENS = "completion_tokens";
  public static final String FINISH_REASON = "finish_reason";
  public static final String LATENCY_MS = "latency_ms";
  public static final String ATTEMPTS = "attempts";
  public static final String ERROR = "error";

  private final Param<String> jsonSchema;
  private transient LongAccumulator rowsDone;
  private transient LongAccumulator tokensDone;

  public LlmStage() {
    this(Identifiable$.MODULE$.randomUID("kilnLlmStage"));
  }

  public LlmStage(String uid) {
    super(uid, "the rendered prompt column", "the engine config as JSON (no secrets)");
    jsonSchema =
        new Param<>(
            this, "jsonSchema", "the JSON schema every completion must keep to (empty: none)");
    setDefault(inputCol(), "prompt");
    setDefault(jsonSchema, "");
  }

  public Param<String> jsonSchema() {
    return jsonSchema;
  }

  /** Completions must be JSON valid against the schema; one that is not fails its row. */
  public LlmStage setJsonSchema(OutputSchema schema) {
    set(jsonSchema, schema == null ? "" : schema.text());
    return this;
  }

  public java.util.Optional<OutputSchema> outputSchema() {
    return OutputSchema.fromText($(jsonSchema));
  }

  /**
   * Counters the driver reads for progress (rows done, tokens done); not saved with the pipeline.
   */
  public LlmStage withProgress(LongAccumulator rows, LongAccumulator tokens) {
    this.rowsDone = rows;
    this.tokensDone = tokens;
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!Set.of(schema.fieldNames()).contains($(inputCol()))) {
      throw new IllegalArgumentException("LlmStage needs column " + $(inputCol()));
    }
    return schema
        .add(COMPLETION, DataTypes.StringType, true)
        .add(PROMPT_TOKENS, DataTypes.IntegerType, true)
        .add(COMPLETION_TOKENS, DataTypes.IntegerType, true)
        .add(FINISH_REASON, DataTypes.StringType, true)
        .add(LATENCY_MS, DataTypes.LongType, false)
        .add(ATTEMPTS, DataTypes.IntegerType, false)
        .add(ERROR, DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    EngineConfig config = engineConfig();
    // captured by the partition function: Optional is not serializable
    OutputSchema schema = outputSchema().orElse(null);
    int promptIndex = dataset.schema().fieldIndex($(inputCol()));
    LongAccumulator rows = rowsDone;
    LongAccumulator tokens = tokensDone;
    MapPartitionsFunction<Row, Row> call =
        input ->
            new Batches(
                input,
                Engines.open(config, java.util.Optional.ofNullable(schema)),
                schema,
                promptIndex,
                Engines.batchSize(config),
                rows,
                tokens);
    return dataset.toDF().mapPartitions(call, Encoders.row(out));
  }

  /**
   * Pulls a window of rows, completes them together (concurrency or slots), emits them; then the
   * next window.
   */
  private static final class Batches implements Iterator<Row> {
    private final Iterator<Row> input;
    private final Engine engine;
    private final OutputSchema schema;
    private final int promptIndex;
    private final int size;
    private final LongAccumulator rows;
    private final LongAccumulator tokens;
    private Iterator<Row> ready = java.util.Collections.emptyIterator();

    Batches(
        Iterator<Row> input,
        Engine engine,
        OutputSchema schema,
        int promptIndex,
        int size,
        LongAccumulator rows,
        LongAccumulator tokens) {
      this.input = input;
      this.engine = engine;
      this.schema = schema;
      this.promptIndex = promptIndex;
      this.size = size;
      this.rows = rows;
      this.tokens = tokens;
    }

    @Override
    public boolean hasNext() {
      if (!ready.hasNext() && input.hasNext()) {
        List<Row> window = new ArrayList<>(size);
        List<String> prompts = new ArrayList<>(size);
        while (input.hasNext() && window.size() < size) {
          Row row = input.next();
          window.add(row);
          prompts.add(row.isNullAt(promptIndex) ? null : row.getString(promptIndex));
        }
        List<Completion> answers = engine.complete(prompts);
        List<Row> done = new ArrayList<>(window.size());
        long spent = 0;
        for (int i = 0; i < window.size(); i++) {
          Completion c = validated(answers.get(i), schema);
          done.add(extend(window.get(i), c));
          spent +=
              (c.promptTokens() == null ? 0 : c.promptTokens())
                  + (c.completionTokens() == null ? 0 : c.completionTokens());
        }
        if (rows != null) {
          rows.add(window.size());
          tokens.add(spent);
        }
        ready = done.iterator();
      }
      if (!ready.hasNext() && engine instanceof AutoCloseable closeable) {
        Engines.release(closeable);
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

    private static Row extend(Row row, Completion c) {
      Object[] values = new Object[row.length() + 7];
      for (int i = 0; i < row.length(); i++) {
        values[i] = row.get(i);
      }
      int n = row.length();
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

  /**
   * An answer that is not JSON valid against the schema becomes its row's error (prefixed {@link
   * OutputSchema#INVALID}); its text stays, to be read, but a row with an error is never a valid
   * answer. Its tokens were spent and stay counted.
   */
  static Completion validated(Completion c, OutputSchema schema) {
    if (schema == null || c.error() != null || c.text() == null) {
      return c;
    }
    return schema
        .check(c.text())
        .map(
            reason ->
                c.withError(
                    OutputSchema.INVALID
                        + reason
                        + ("length".equals(c.finishReason())
                            ? " (the completion reached maxTokens)"
                            : "")))
        .orElse(c);
  }

  @Override
  public Transformer copy(ParamMap extra) {
    LlmStage copy = (LlmStage) defaultCopy(extra);
    return copy.withProgress(rowsDone, tokensDone);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<LlmStage> read() {
    return new DefaultParamsReader<>();
  }
}
