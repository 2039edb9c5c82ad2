package kiln.text;

import com.johnsnowlabs.nlp.DocumentAssembler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.text.internal.OnnxSentenceEmbeddings;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Sentence embeddings of text columns as fitted Spark ML stages: the columns are joined into one
 * text per row, Spark NLP's DocumentAssembler makes it a document, and Kiln's ONNX stage cuts it
 * into word pieces with Spark NLP's BERT tokenizer and runs the model with ONNX Runtime (mean
 * pooling over the text's own tokens) into a vector column. Spark NLP's E5Embeddings is not used:
 * in 5.5.3 it pools a batch with the first text's mask and spends as much CPU again as the model on
 * its pooling ({@link OnnxSentenceEmbeddings}). The stages save and load inside a PipelineModel
 * (the ONNX model goes with them); on executors the model is a broadcast, opened once per executor
 * JVM.
 */
public final class SentenceEmbeddings {
  /** The vector column the stages add. */
  public static final String OUTPUT_COLUMN = "kiln_text_embedding";

  static final String TEXT_COLUMN = "kiln_text";
  static final String DOCUMENT_COLUMN = "kiln_text_document";

  /**
   * One text per model run. Padding is masked, but the shipped model is dynamically quantized: its
   * activations are quantized with the range of the whole input, padding included, so a short text
   * batched with long ones moves (cosine 0.957 for "ok" in a batch of four); alone, every text
   * matches the model run directly.
   */
  static final int BATCH_SIZE = 1;

  /**
   * The fitted stages and what they add.
   *
   * @param stages apply in order; they read {@code columns} and add {@code outputColumn}
   * @param columns the text columns read (strings)
   * @param outputColumn the vector column added
   * @param dimension its length
   * @param description what to record with a run (model name, dimension, tokens)
   */
  public record Stages(
      List<Transformer> stages,
      List<String> columns,
      String outputColumn,
      int dimension,
      Map<String, String> description) {
    public Stages {
      stages = List.copyOf(stages);
      columns = List.copyOf(columns);
      Objects.requireNonNull(outputColumn, "outputColumn is null");
      description = Map.copyOf(description);
    }
  }

  private SentenceEmbeddings() {}

  /**
   * The stages embedding {@code columns} with {@code model}; texts are cut to {@code maxTokens}
   * word pieces (at most the model's own length; null for the model's).
   */
  public static Stages stages(
      SparkSession spark, List<String> columns, EmbeddingModel model, Integer maxTokens) {
    Objects.requireNonNull(spark, "spark is null");
    Objects.requireNonNull(model, "model is null");
    if (columns == null || columns.isEmpty()) {
      throw Errors.badInput(
          "no text columns to embed", "name the text columns, e.g. text: {columns: [subject]}");
    }
    int tokens = maxTokens == null ? model.maxTokens() : maxTokens;
    if (tokens < 1 || tokens > model.maxTokens()) {
      throw Errors.badInput(
          "maxTokens "
              + tokens
              + " is outside 1.."
              + model.maxTokens()
              + ", the sequence length of the embedding model "
              + model.name(),
          "give maxTokens between 1 and " + model.maxTokens());
    }
    // the columns as one text per row; a null column is left out, all null gives ""
    String joined =
        columns.stream()
            .map(c -> "`" + c.replace("`", "``") + "`")
            .collect(Collectors.joining(", ", "concat_ws('\\n\\n', ", ")"));
    SQLTransformer join =
        new SQLTransformer()
            .setStatement("SELECT *, " + joined + " AS " + TEXT_COLUMN + " FROM __THIS__");
    DocumentAssembler document = new DocumentAssembler();
    document.setInputCol(TEXT_COLUMN);
    document.setOutputCol(DOCUMENT_COLUMN);
    OnnxSentenceEmbeddings embeddings;
    try {
      embeddings = new OnnxSentenceEmbeddings().setModel(model.directory());
    } catch (RuntimeException e) {
      throw Errors.badInput(
          "cannot load the embedding model in " + model.directory() + ": " + Errors.rootMessage(e),
          "give a BERT-style ONNX sentence-embedding model with its vocabulary",
          e);
    }
    embeddings
        .setInputCol(DOCUMENT_COLUMN)
        .setOutputCol(OUTPUT_COLUMN)
        .setDimension(model.dimension())
        .setMaxTokens(tokens)
        .setCaseSensitive(false)
        .setBatchSize(BATCH_SIZE)
        .setDropCols(List.of(TEXT_COLUMN, DOCUMENT_COLUMN));
    List<Transformer> stages = new ArrayList<>(List.of(join, document, embeddings));
    Map<String, String> description = new LinkedHashMap<>();
    description.put("text_columns", String.join(",", columns));
    description.put("text_embeddings", model.name());
    description.put("text_dimension", String.valueOf(model.dimension()));
    description.put("text_max_tokens", String.valueOf(tokens));
    return new Stages(stages, columns, OUTPUT_COLUMN, model.dimension(), description);
  }

  /**
   * Checks that every text column is there and holds strings, before any Spark job: names the
   * table, the column and its type.
   */
  public static void checkColumns(StructType schema, List<String> columns, String what) {
    List<String> available = List.of(schema.fieldNames());
    List<String> missing = columns.stream().filter(c -> !available.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(what, missing, available);
    }
    for (String column : columns) {
      DataType type = schema.apply(column).dataType();
      if (!type.equals(DataTypes.StringType)) {
        throw Errors.badInput(
            "text column '"
                + column
                + "' of "
                + what
                + " has type "
                + type.simpleString()
                + ", not string",
            "list only string columns under text.columns (cast others in `kiln features`)");
      }
    }
  }
}
