package kiln.text.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.LocalFiles;
import kiln.core.testing.SharedSpark;
import kiln.text.EmbeddingModel;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text stages saved by an earlier Kiln (src/test/resources/saved-stages, written by {@link
 * #writeTheFixtures} with the stages as they were before they shared their params, at 5fb546f) load
 * with their params: a text model saved then must still score. Re-write them with {@code mvn -o -pl
 * text -am test -Dtest=SavedStagesTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dkiln.writeSavedStages=$PWD/text/src/test/resources/saved-stages} (the ONNX model's directory is
 * removed afterwards: the test writes stand-ins for it, since loading reads them without opening
 * them).
 */
@ExtendWith(SharedSpark.class)
class SavedStagesTest {
  private static final Path FIXTURES = Path.of("src/test/resources/saved-stages");

  private static List<String> paramNames(org.apache.spark.ml.param.Params stage) {
    return Stream.of(stage.params()).map(Param::name).sorted().toList();
  }

  @Test
  void anEmbeddingVectorSavedBeforeKeepsItsUidAndParams(SparkSession spark) {
    EmbeddingVector stage =
        EmbeddingVector.read().load(FIXTURES.resolve("embedding-vector").toString());

    assertThat(stage.uid()).isEqualTo("kilnEmbeddingVector_saved");
    assertThat(paramNames(stage)).containsExactly("dimension", "dropCols", "inputCol", "outputCol");
    assertThat(stage.getOrDefault(stage.inputCol())).isEqualTo("sentence_embeddings");
    assertThat(stage.getOrDefault(stage.outputCol())).isEqualTo("kiln_text_embedding");
    assertThat(stage.getDimension()).isEqualTo(384);
    assertThat(stage.getOrDefault(stage.dropCols())).containsExactly("kiln_text", "document");
  }

  @Test
  void anOnnxSentenceEmbeddingsSavedBeforeKeepsItsUidAndParams(
      SparkSession spark, @TempDir Path tmp) throws IOException {
    OnnxSentenceEmbeddings stage =
        OnnxSentenceEmbeddings.read().load(withStandInModel(tmp).toString());

    assertThat(stage.uid()).isEqualTo("kilnOnnxSentenceEmbeddings_saved");
    assertThat(paramNames(stage))
        .containsExactly(
            "batchSize",
            "caseSensitive",
            "dimension",
            "dropCols",
            "inputCol",
            "maxTokens",
            "outputCol");
    assertThat(stage.getOrDefault(stage.inputCol())).isEqualTo("kiln_text_document");
    assertThat(stage.getOrDefault(stage.outputCol())).isEqualTo("kiln_text_embedding");
    assertThat(stage.getOrDefault(stage.dimension())).isEqualTo(384);
    assertThat(stage.getOrDefault(stage.maxTokens())).isEqualTo(128);
    assertThat(stage.getOrDefault(stage.batchSize())).isEqualTo(1);
    assertThat(stage.getOrDefault(stage.caseSensitive())).isEqualTo(false);
    assertThat(stage.getOrDefault(stage.dropCols()))
        .containsExactly("kiln_text", "kiln_text_document");
  }

  /**
   * A copy of the saved ONNX stage's metadata (the fixture) with stand-ins for its 23 MB model and
   * vocabulary: loading a stage reads their bytes without opening them, so any bytes do.
   */
  private static Path withStandInModel(Path tmp) throws IOException {
    Path stage = tmp.resolve("onnx-sentence-embeddings");
    Path metadata = stage.resolve("metadata");
    Files.createDirectories(metadata);
    try (Stream<Path> files = Files.list(FIXTURES.resolve("onnx-sentence-embeddings/metadata"))) {
      for (Path file : files.toList()) {
        Files.copy(file, metadata.resolve(file.getFileName()));
      }
    }
    Path model = Files.createDirectories(stage.resolve(OnnxSentenceEmbeddings.MODEL_DIRECTORY));
    Files.writeString(
        model.resolve(OnnxSentenceEmbeddings.ONNX_FILE),
        "a stand-in: loading a stage reads the model's bytes without opening them\n",
        StandardCharsets.UTF_8);
    Files.writeString(
        model.resolve(OnnxSentenceEmbeddings.VOCABULARY_FILE),
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n",
        StandardCharsets.UTF_8);
    return stage;
  }

  /** Writes the fixtures with this build's stages (see the class comment). */
  @Test
  @EnabledIfSystemProperty(named = "kiln.writeSavedStages", matches = ".+")
  void writeTheFixtures(SparkSession spark) throws IOException {
    Path target = Path.of(System.getProperty("kiln.writeSavedStages"));
    new EmbeddingVector("kilnEmbeddingVector_saved")
        .setInputCol("sentence_embeddings")
        .setOutputCol("kiln_text_embedding")
        .setDimension(384)
        .setDropCols(List.of("kiln_text", "document"))
        .write()
        .overwrite()
        .save(target.resolve("embedding-vector").toString());
    Path onnx = target.resolve("onnx-sentence-embeddings");
    new OnnxSentenceEmbeddings("kilnOnnxSentenceEmbeddings_saved")
        .setModel(EmbeddingModel.resolve(EmbeddingModel.DEFAULT, null).directory())
        .setInputCol("kiln_text_document")
        .setOutputCol("kiln_text_embedding")
        .setDimension(384)
        .setMaxTokens(128)
        .setCaseSensitive(false)
        .setDropCols(List.of("kiln_text", "kiln_text_document"))
        .write()
        .overwrite()
        .save(onnx.toString());
    // the model directory stays out of git (no model bytes in the repository, not even a
    // stand-in): the test writes its stand-ins beside a copy of the metadata
    LocalFiles.deleteTree(onnx.resolve(OnnxSentenceEmbeddings.MODEL_DIRECTORY));
  }
}
