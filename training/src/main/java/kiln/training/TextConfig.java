package kiln.training;

import java.util.List;
import kiln.core.Errors;

/**
 * The text a model reads besides its numeric columns ({@code text:} in a training config): the
 * columns are joined into one text per row and embedded by a sentence-embedding model, whose vector
 * the classifier reads.
 *
 * @param columns the string columns (required, at least one)
 * @param embeddings a built-in model's name (default {@code all-minilm-l6-v2-q}) or a directory
 *     with {@code model.onnx} and {@code assets/vocab.txt}
 * @param dimension the vector length of a model given as a directory (built-in models know theirs)
 * @param maxTokens the word pieces a text is cut to (default: the model's sequence length)
 */
public record TextConfig(
    List<String> columns, String embeddings, Integer dimension, Integer maxTokens) {
  public static final String DEFAULT_EMBEDDINGS = "all-minilm-l6-v2-q";

  public TextConfig {
    if (columns == null || columns.isEmpty()) {
      throw Errors.badInput(
          "text.columns is missing or empty",
          "list the string columns to embed, e.g. text: {columns: [subject, body]}");
    }
    columns = List.copyOf(columns);
    if (columns.stream().distinct().count() != columns.size()) {
      throw Errors.badInput(
          "text.columns " + columns + " names a column twice", "list each text column once");
    }
    embeddings = embeddings == null || embeddings.isBlank() ? DEFAULT_EMBEDDINGS : embeddings;
    if (dimension != null && dimension < 1 || maxTokens != null && maxTokens < 1) {
      throw Errors.badInput(
          "text.dimension and text.maxTokens must be at least 1",
          "correct the training config (--config)");
    }
  }
}
