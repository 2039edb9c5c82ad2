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
 */
public record ScoreConfig(ModelUri model, DatasetRef data, String output, ModelUri shadow) {
  public ScoreConfig {
    Objects.requireNonNull(model, "model is null");
    Objects.requireNonNull(data, "data is null");
    Objects.requireNonNull(output, "output is null");
  }

  public static ScoreConfig of(String model, String data, String output, String shadow) {
    return new ScoreConfig(
        ModelUri.parse(model),
        DatasetRef.parse(data),
        output,
        shadow == null ? null : ModelUri.parse(shadow));
  }
}
