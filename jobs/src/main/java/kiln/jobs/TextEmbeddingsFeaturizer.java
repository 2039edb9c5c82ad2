package kiln.jobs;

import kiln.text.EmbeddingModel;
import kiln.text.SentenceEmbeddings;
import kiln.training.TextConfig;
import kiln.training.TextFeaturizer;
import org.apache.spark.sql.SparkSession;

/**
 * Composes training with text: a training config's text section becomes Spark NLP sentence
 * embeddings (kiln-text), the first stages of the trained model's pipeline.
 */
public final class TextEmbeddingsFeaturizer implements TextFeaturizer {
  @Override
  public Stages stages(SparkSession spark, TextConfig text) {
    EmbeddingModel model = EmbeddingModel.resolve(text.embeddings(), text.dimension());
    SentenceEmbeddings.Stages stages =
        SentenceEmbeddings.stages(spark, text.columns(), model, text.maxTokens());
    return new Stages(
        stages.stages(), stages.outputColumn(), stages.dimension(), stages.description());
  }
}
