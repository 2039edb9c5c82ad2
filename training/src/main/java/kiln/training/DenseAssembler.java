package kiln.training;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import kiln.core.models.ModelFiles;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
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
 * A text model's feature vector: its numeric columns (null as NaN, missing to XGBoost) and its
 * vector columns, always dense. Spark's VectorAssembler stores a row with many zeros (an empty
 * text's zero embedding) as a sparse vector, which xgboost4j-spark refuses when missing values are
 * NaN.
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
    StructType schema = dataset.schema();
    List<Column> parts = new ArrayList<>();
    for (String column : $(inputCols)) {
      if (schema.apply(column).dataType() instanceof VectorUDT) {
        parts.add(org.apache.spark.ml.functions.vector_to_array(col(column), "float64"));
      } else {
        parts.add(array(coalesce(col(column).cast(DataTypes.DoubleType), lit(Double.NaN))));
      }
    }
    Column values = parts.size() == 1 ? parts.get(0) : concat(parts.toArray(new Column[0]));
    return dataset.withColumn(
        ModelFiles.FEATURES_VECTOR, org.apache.spark.ml.functions.array_to_vector(values));
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
