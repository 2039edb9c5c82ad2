package kiln.inference;

import java.util.Objects;
import kiln.core.DatasetRef;
import kiln.core.models.ModelUri;

/**
 * What {@code kiln score} does.
 *
 * @param model the model to score with, {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION}
 * @param data the rows to score, {@code TABLE[@VERSION]}
 * @param output the predictions table (Delta); each run appends a new version
 * @param shadow a second model scored on the same rows for comparison only (may be null)
 * @param where a Spark SQL condition: only the rows matching it are scored (null: every row), e.g.
 *     a scheduler's day
 */
public record ScoreConfig(
    ModelUri model, DatasetRef data, String output, ModelUri shadow, String where) {
  public ScoreConfig {
    Objects.requireNonNull(model, "model is null");
    Objects.requireNonNull(data, "data is null");
    Objects.requireNonNull(output, "output is null");
    if (where != null && where.isBlank()) {
      where = null;
    }
  }

  public ScoreConfig(ModelUri model, DatasetRef data, String output, ModelUri shadow) {
    this(model, data, output, shadow, null);
  }

  public static ScoreConfig of(String model, String data, String output, String shadow) {
    return new ScoreConfig(
        ModelUri.parse(model),
        DatasetRef.parse(data),
        output,
        shadow == null ? null : ModelUri.parse(shadow));
  }

  /** This config with only the rows matching {@code condition} scored. */
  public ScoreConfig where(String condition) {
    return new ScoreConfig(model, data, output, shadow, condition);
  }
}
