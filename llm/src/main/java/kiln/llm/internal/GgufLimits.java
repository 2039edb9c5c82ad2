package kiln.llm.internal;

import de.kherud.llama.LlamaModel;
import java.util.Iterator;
import java.util.Set;
import kiln.llm.EngineConfig;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
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

/**
 * Before Spark NLP's AutoGGUFModel: each prompt's tokens counted with Kiln's tokenizer (the GGUF
 * file through Kiln's llama.cpp binding; AutoGGUFModel reports no counts), and a prompt that does
 * not fit a slot's context, or has no text, given its error ({@link LlmStage#PROMPT_TOKENS}, {@link
 * LlmStage#ERROR}). Such a row is never sent: llama.cpp fails every request of a batch with it.
 */
public final class GgufLimits extends EngineStage<GgufLimits> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  public GgufLimits() {
    this(Identifiable$.MODULE$.randomUID("kilnGgufLimits"));
  }

  public GgufLimits(String uid) {
    super(uid, "the rendered prompt column", "the local engine's config as JSON");
    setDefault(inputCol(), "prompt");
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!Set.of(schema.fieldNames()).contains($(inputCol()))) {
      throw new IllegalArgumentException("GgufLimits needs column " + $(inputCol()));
    }
    return schema
        .add(LlmStage.PROMPT_TOKENS, DataTypes.IntegerType, true)
        .add(LlmStage.ERROR, DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    EngineConfig config = engineConfig();
    int promptIndex = dataset.schema().fieldIndex($(inputCol()));
    MapPartitionsFunction<Row, Row> check =
        rows -> {
          LlamaModel tokenizer = rows.hasNext() ? LocalEngines.tokenizer(config.modelPath()) : null;
          return new Iterator<Row>() {
            @Override
            public boolean hasNext() {
              return rows.hasNext();
            }

            @Override
            public Row next() {
              Row row = rows.next();
              String prompt = row.isNullAt(promptIndex) ? null : row.getString(promptIndex);
              Integer tokens = null;
              String error;
              if (prompt == null || prompt.isBlank()) {
                error = Completion.NO_TEXT;
              } else {
                tokens = LocalEngines.promptTokens(tokenizer, prompt);
                error = LocalEngines.tooLong(tokens, config);
              }
              Object[] values = new Object[row.length() + 2];
              for (int i = 0; i < row.length(); i++) {
                values[i] = row.get(i);
              }
              values[row.length()] = tokens;
              values[row.length() + 1] = error;
              return RowFactory.create(values);
            }
          };
        };
    return dataset.toDF().mapPartitions(check, Encoders.row(out));
  }

  @Override
  public Transformer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<GgufLimits> read() {
    return new DefaultParamsReader<>();
  }
}
