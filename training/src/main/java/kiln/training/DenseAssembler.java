package kiln.training;

import java.util.Arrays;
import java.util.List;
import kiln.core.models.ModelFiles;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * The feature vector of a training: its numeric columns (null as NaN, missing to XGBoost) and, for
 * a text model, its embedding, always dense ({@link ModelFiles#denseVector}). Spark's
 * VectorAssembler stores a row with many zeros (an empty text's zero embedding, a row of zero
 * counts) as a sparse vector, which xgboost4j-spark 3.4.0 refuses to train on when missing values
 * are NaN and mispredicts (dmlc/xgboost#12347). Saved inside text models' pipelines: keep its name.
 */
public final class DenseAssembler extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final StringArrayParam inputCols;

  public DenseAssembler() {
    this(Identifiable$.MODULE$.randomUID("kilnDenseAssembler"));
  }

  public DenseAssembler(String uid) {
    this.uid = uid;
    inputCols = new StringArrayParam(this, "inputCols", "numeric and vector columns, in order");
  }

  /** Spark ML finds a stage's params through public methods returning them. */
  public StringArrayParam inputCols() {
    return inputCols;
  }

  public DenseAssembler setInputCols(List<String> columns) {
    set(inputCols, columns.toArray(new String[0]));
    return this;
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    List<String> available = Arrays.asList(schema.fieldNames());
    for (String column : $(inputCols)) {
      if (!available.contains(column)) {
        // Kiln's own pipeline puts the stages that add these columns first: an internal fault
        throw new IllegalStateException("DenseAssembler needs the column " + column);
      }
    }
    return schema.add(ModelFiles.FEATURES_VECTOR, SQLDataTypes.VectorType(), false);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    return dataset.withColumn(
        ModelFiles.FEATURES_VECTOR,
        ModelFiles.denseVector(dataset.schema(), Arrays.asList($(inputCols))));
  }

  @Override
  public Transformer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<DenseAssembler> read() {
    return new DefaultParamsReader<>();
  }
}
