package kiln.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kiln.core.BadInputException;
import kiln.core.NotFoundException;
import kiln.core.testing.SharedSpark;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class SentenceEmbeddingsTest {
  /** Ten texts of different lengths, so that padding would show if texts were batched. */
  static final List<String> TEXTS =
      List.of(
          "Cheap meds online, no prescription needed!!!",
          "Hi Bob, the meeting moved to Thursday at 3pm.",
          "Congratulations, you have WON a free cruise. Click here to claim your prize now.",
          "The build failed again on the integration server; can you look at the logs?",
          "ok",
          "Re: patch for the kernel scheduler. I tested it on two machines and the latency"
              + " dropped by about ten percent under load, but one benchmark got slower.",
          "Lowest mortgage rates in years - refinance today",
          "Lunch?",
          "Attached is the quarterly report. Numbers are up in every region except the north,"
              + " where two stores closed in March.",
          "Make $$$ from home working just 2 hours a day");

  static Dataset<Row> frame(SparkSession spark, List<String> texts) {
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      rows.add(RowFactory.create(i, texts.get(i)));
    }
    return spark.createDataFrame(rows, schema).repartition(2);
  }

  static PipelineModel pipeline(SentenceEmbeddings.Stages stages) {
    return new PipelineModel("kilnTextTest", stages.stages().toArray(new Transformer[0]));
  }

  static double cosine(float[] a, double[] b) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void everyVectorMatchesTheSameModelRunDirectlyByLangchain4j(SparkSession spark) {
    EmbeddingModel model = EmbeddingModel.resolve(EmbeddingModel.DEFAULT, null);
    SentenceEmbeddings.Stages stages =
        SentenceEmbeddings.stages(spark, List.of("text"), model, null);
    List<Row> rows =
        pipeline(stages)
            .transform(frame(spark, TEXTS))
            .select("id", SentenceEmbeddings.OUTPUT_COLUMN)
            .collectAsList();

    AllMiniLmL6V2QuantizedEmbeddingModel reference = new AllMiniLmL6V2QuantizedEmbeddingModel();
    assertThat(rows).hasSize(TEXTS.size());
    double lowest = 1;
    for (Row row : rows) {
      String text = TEXTS.get(row.getInt(0));
      double[] kiln = ((Vector) row.get(1)).toArray();
      float[] direct = reference.embed(text).content().vector();
      assertThat(kiln).hasSize(384);
      assertThat(cosine(direct, kiln)).as("cosine for '%s'", text).isGreaterThanOrEqualTo(0.999);
      lowest = Math.min(lowest, cosine(direct, kiln));
    }
    System.err.printf("lowest cosine of %d rows to langchain4j: %.6f%n", rows.size(), lowest);
  }

  @Test
  void theStagesSaveAndLoadInsideAPipelineModelAndGiveTheSameVectors(
      SparkSession spark, @TempDir Path dir) throws Exception {
    EmbeddingModel model = EmbeddingModel.resolve(EmbeddingModel.DEFAULT, null);
    SentenceEmbeddings.Stages stages = SentenceEmbeddings.stages(spark, List.of("text"), model, 64);
    PipelineModel fitted = pipeline(stages);
    fitted.write().overwrite().save(dir.resolve("model").toString());
    PipelineModel loaded = PipelineModel.load(dir.resolve("model").toString());

    Dataset<Row> input = frame(spark, TEXTS.subList(0, 4));
    List<Row> before = fitted.transform(input).orderBy("id").collectAsList();
    List<Row> after = loaded.transform(input).orderBy("id").collectAsList();

    assertThat(after.get(0).schema().fieldNames())
        .containsExactly("id", "text", SentenceEmbeddings.OUTPUT_COLUMN);
    for (int i = 0; i < before.size(); i++) {
      assertThat(((Vector) after.get(i).get(2)).toArray())
          .containsExactly(((Vector) before.get(i).get(2)).toArray());
    }
  }

  @Test
  void aRowWithoutTextGetsTheZeroVectorAndTheOthersStillTheirs(SparkSession spark) {
    EmbeddingModel model = EmbeddingModel.resolve(EmbeddingModel.DEFAULT, null);
    SentenceEmbeddings.Stages stages =
        SentenceEmbeddings.stages(spark, List.of("text"), model, null);
    List<String> texts = new ArrayList<>();
    texts.add(null);
    texts.add("");
    texts.add("Lunch?");
    List<Row> rows = pipeline(stages).transform(frame(spark, texts)).orderBy("id").collectAsList();

    assertThat(((Vector) rows.get(0).get(2)).numNonzeros()).isZero();
    assertThat(((Vector) rows.get(0).get(2)).size()).isEqualTo(384);
    assertThat(((Vector) rows.get(1).get(2)).numNonzeros()).isZero();
    assertThat(((Vector) rows.get(2).get(2)).numNonzeros()).isGreaterThan(300);
  }

  @Test
  void anEmbeddingsDirectoryWithoutItsVocabularyIsRefusedWithTheFileNamed(@TempDir Path dir)
      throws Exception {
    Files.write(dir.resolve(EmbeddingModel.ONNX_FILE), new byte[] {1, 2, 3});

    assertThatThrownBy(() -> EmbeddingModel.resolve(dir.toString(), 384))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("has no assets/vocab.txt")
        .hasMessageContaining("fix:");
    assertThatThrownBy(() -> EmbeddingModel.resolve(dir.resolve("nowhere").toString(), 384))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("all-minilm-l6-v2-q");
  }

  @Test
  void maxTokensBeyondTheModelsSequenceLengthIsRefused(SparkSession spark) {
    EmbeddingModel model = EmbeddingModel.resolve(EmbeddingModel.DEFAULT, null);

    assertThatThrownBy(() -> SentenceEmbeddings.stages(spark, List.of("text"), model, 1000))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("maxTokens 1000 is outside 1..256");
  }
}
