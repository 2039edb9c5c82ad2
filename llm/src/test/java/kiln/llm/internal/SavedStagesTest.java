package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.testing.SharedSpark;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * LLM stages saved by an earlier Kiln (src/test/resources/saved-stages, written by {@link
 * #writeTheFixtures} with the stages as they were before they shared their params, at 5fb546f) load
 * with their params: a run's saved pipeline must still load. Re-write them with {@code mvn -o -pl
 * llm -am test -Dtest=kiln.llm.internal.SavedStagesTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dkiln.writeSavedStages=$PWD/llm/src/test/resources/saved-stages}.
 */
@ExtendWith(SharedSpark.class)
class SavedStagesTest {
  private static final Path FIXTURES = Path.of("src/test/resources/saved-stages");

  /** An engine config with every kind of value set; loading never opens its model file. */
  static final EngineConfig ENGINE =
      EngineConfig.builder()
          .type(EngineType.LOCAL)
          .temperature(0.3)
          .maxTokens(24)
          .seed(7L)
          .modelPath("/models/saved.gguf")
          .contextSize(1024)
          .slots(2)
          .nGpuLayers(0)
          .runtime("auto")
          .build();

  private static List<String> paramNames(Params stage) {
    return Stream.of(stage.params()).map(Param::name).sorted().toList();
  }

  @Test
  void anLlmStageSavedBeforeKeepsItsUidAndParams(SparkSession spark) {
    LlmStage stage = LlmStage.read().load(FIXTURES.resolve("llm-stage").toString());

    assertThat(stage.uid()).isEqualTo("kilnLlmStage_saved");
    assertThat(paramNames(stage)).containsExactly("engine", "inputCol", "jsonSchema");
    assertThat(stage.getOrDefault(stage.inputCol())).isEqualTo("rendered");
    assertThat(stage.engineConfig()).isEqualTo(ENGINE);
    assertThat(stage.outputSchema().orElseThrow().text()).contains("\"label\"");
  }

  @Test
  void ggufLimitsSavedBeforeKeepsItsUidAndParams(SparkSession spark) {
    GgufLimits stage = GgufLimits.read().load(FIXTURES.resolve("gguf-limits").toString());

    assertThat(stage.uid()).isEqualTo("kilnGgufLimits_saved");
    assertThat(paramNames(stage)).containsExactly("engine", "inputCol");
    assertThat(stage.getOrDefault(stage.inputCol())).isEqualTo("prompt");
    assertThat(stage.engineConfig()).isEqualTo(ENGINE);
  }

  @Test
  void ggufCompletionsSavedBeforeKeepsItsUidAndParams(SparkSession spark) {
    GgufCompletions stage =
        GgufCompletions.read().load(FIXTURES.resolve("gguf-completions").toString());

    assertThat(stage.uid()).isEqualTo("kilnGgufCompletions_saved");
    assertThat(paramNames(stage)).containsExactly("documentCol", "engine", "inputCol");
    assertThat(stage.getOrDefault(stage.inputCol())).isEqualTo("completions");
    assertThat(stage.getOrDefault(stage.documentCol())).isEqualTo("prompt_document");
    assertThat(stage.engineConfig()).isEqualTo(ENGINE);
  }

  /** Writes the fixtures with this build's stages (see the class comment). */
  @Test
  @EnabledIfSystemProperty(named = "kiln.writeSavedStages", matches = ".+")
  void writeTheFixtures(SparkSession spark) throws Exception {
    Path target = Path.of(System.getProperty("kiln.writeSavedStages"));
    new LlmStage("kilnLlmStage_saved")
        .setInputCol("rendered")
        .setEngine(ENGINE)
        .setJsonSchema(
            OutputSchema.of(
                new ObjectMapper()
                    .readTree(
                        "{\"type\": \"object\", \"properties\": {\"label\": {\"type\":"
                            + " \"string\"}}, \"required\": [\"label\"]}")))
        .write()
        .overwrite()
        .save(target.resolve("llm-stage").toString());
    new GgufLimits("kilnGgufLimits_saved")
        .setEngine(ENGINE)
        .write()
        .overwrite()
        .save(target.resolve("gguf-limits").toString());
    new GgufCompletions("kilnGgufCompletions_saved")
        .setInputCol("completions")
        .setDocumentCol("prompt_document")
        .setEngine(ENGINE)
        .write()
        .overwrite()
        .save(target.resolve("gguf-completions").toString());
  }
}
