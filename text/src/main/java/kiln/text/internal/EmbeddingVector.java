package kiln.text.internal;

import static org.apache.spark.sql.functions.array_repeat;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import java.util.Arrays;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Turns Spark NLP's sentence-embedding annotations (one per row: the whole text is one document)
 * into a dense vector column a classifier reads, and drops the intermediate text columns. A row
 * without an embedding (no text) gets the zero vector, so that one empty text never fails a batch.
 */
public final class EmbeddingVector extends VectorStage<EmbeddingVector>
    implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  public EmbeddingVector() {
    this(Identifiable$.MODULE$.randomUID("kilnEmbeddingVector"));
  }

  public EmbeddingVector(String uid) {
    super(uid, "Spark NLP's sentence_embeddings annotations");
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!Arrays.asList(schema.fieldNames()).contains($(inputCol()))) {
      // only Kiln's own pipeline puts this stage after the embeddings: an internal fault
      throw new IllegalStateException("EmbeddingVector needs the column " + $(inputCol()));
    }
    StructType out = schema;
    for (String drop : $(dropCols())) {
      if (Arrays.asList(out.fieldNames()).contains(drop)) {
        out =
            new StructType(
                Arrays.stream(out.fields())
                    .filter(f -> !f.name().equals(drop))
                    .toArray(org.apache.spark.sql.types.StructField[]::new));
      }
    }
    return out.add($(outputCol()), SQLDataTypes.VectorType(), false);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    Column annotations = col($(inputCol()));
    // guarded rather than getItem alone: with ANSI mode an index past the end is an error
    Column first = when(size(annotations).gt(0), annotations.getItem(0).getField("embeddings"));
    Column floats =
        when(size(first).equalTo(getDimension()), first)
            .otherwise(array_repeat(lit(0.0f), getDimension()));
    Column vector =
        org.apache.spark.ml.functions.array_to_vector(
            floats.cast(DataTypes.createArrayType(DataTypes.DoubleType)));
    return dataset.withColumn($(outputCol()), vector).drop($(dropCols()));
  }

  @Override
  public Transformer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<EmbeddingVector> read() {
    return new DefaultParamsReader<>();
  }
}
