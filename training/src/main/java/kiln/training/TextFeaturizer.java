package kiln.training;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.ml.Transformer;
import org.apache.spark.sql.SparkSession;

/**
 * Turns a config's text section into fitted Spark ML stages that add one vector column. Training
 * knows no text library: the caller (the {@code kiln} command line) supplies the featurizer, and
 * the stages are saved as the first stages of the model's pipeline.
 */
@FunctionalInterface
public interface TextFeaturizer {

  /**
   * The stages for {@code text}; they read its columns and add {@code outputColumn}.
   *
   * @param description what to record with the run (model name, dimension, ...)
   */
  record Stages(
      List<Transformer> stages,
      String outputColumn,
      int dimension,
      Map<String, String> description) {
    public Stages {
      stages = List.copyOf(stages);
      Objects.requireNonNull(outputColumn, "outputColumn is null");
      if (stages.isEmpty() || dimension < 1) {
        throw new IllegalArgumentException(
            "a featurizer must give stages and a positive dimension");
      }
      description = description == null ? Map.of() : Map.copyOf(description);
    }
  }

  Stages stages(SparkSession spark, TextConfig text);
}
