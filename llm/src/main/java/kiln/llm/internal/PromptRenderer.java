package kiln.llm.internal;

import java.util.Map;
import java.util.Set;
import kiln.llm.PromptTemplate;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
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
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Renders the prompt template with the (redacted) text bound to its variable, and hashes the
 * result. The template is a param, so a saved pipeline carries the exact prompt version it ran.
 */
public final class PromptRenderer extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> template;
  private final Param<String> variable;
  private final Param<String> outputCol;
  private final Param<String> hashCol;

  public PromptRenderer() {
    this(Identifiable$.MODULE$.randomUID("kilnPromptRenderer"));
  }

  public PromptRenderer(String uid) {
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", "the text bound to the variable");
    template = new Param<>(this, "template", "the prompt template, with {{variables}}");
    variable = new Param<>(this, "variable", "the variable the text fills");
    outputCol = new Param<>(this, "outputCol", "the rendered prompt");
    hashCol = new Param<>(this, "hashCol", "the rendered prompt's hex SHA-256");
    setDefault(inputCol, "redacted_text");
    setDefault(variable, "text");
    setDefault(outputCol, "prompt");
    setDefault(hashCol, "prompt_sha256");
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> template() {
    return template;
  }

  public Param<String> variable() {
    return variable;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> hashCol() {
    return hashCol;
  }

  public PromptRenderer setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public PromptRenderer setTemplate(String value) {
    set(template, value);
    return this;
  }

  public PromptRenderer setVariable(String value) {
    set(variable, value);
    return this;
  }

  public PromptRenderer setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public PromptRenderer setHashCol(String value) {
    set(hashCol, value);
    return this;
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!Set.of(schema.fieldNames()).contains($(inputCol))) {
      throw new IllegalArgumentException("PromptRenderer needs column " + $(inputCol));
    }
    new PromptTemplate($(template)).checkBindings(Set.of($(variable)), "the prompt template");
    return schema
        .add($(outputCol), DataTypes.StringType, true)
        .add($(hashCol), DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    PromptTemplate prompt = new PromptTemplate($(template));
    String name = $(variable);
    // no text, no prompt: the LLM stage fails the row without a request
    UDF1<String, String> render =
        text -> text == null || text.isBlank() ? null : prompt.render(Map.of(name, text));
    UserDefinedFunction udf = functions.udf(render, DataTypes.StringType);
    Column rendered = udf.apply(functions.col($(inputCol)));
    return dataset
        .withColumn($(outputCol), rendered)
        // Spark hashes the UTF-8 bytes, as PromptTemplate.sha256 does
        .withColumn($(hashCol), functions.sha2(functions.col($(outputCol)), 256));
  }

  @Override
  public Transformer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<PromptRenderer> read() {
    return new DefaultParamsReader<>();
  }
}
