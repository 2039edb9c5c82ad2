package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.johnsnowlabs.nlp.DocumentAssembler;
import com.johnsnowlabs.nlp.annotators.seq2seq.AutoGGUFModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.testing.SharedSpark;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import kiln.llm.LlmPipeline;
import kiln.llm.PiiConfig;
import kiln.llm.PromptTemplate;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local engine on Spark NLP's AutoGGUFModel. Its native binding (jsl-llamacpp) is not served
 * here, so the annotator can be built and configured but never run: a forced detection (the test
 * seam) builds the pipeline without loading the model (no native call), and the test checks the
 * stage and every parameter set on it; three stand-in classes of the binding's (test sources, a
 * stated fake, no native code) let Spark ML reflect over the annotator. Kiln's stages around it run
 * for real on Kiln's tokenizer (the tiny GGUF through Kiln's llama.cpp).
 */
@ExtendWith(SharedSpark.class)
class AutoGgufStagesTest {
  @TempDir static Path dir;
  static Path model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = dir.resolve("tiny.gguf");
    TinyGguf.write(model, 7);
  }

  private AutoCloseable forced;

  @AfterEach
  void unforce() throws Exception {
    if (forced != null) {
      forced.close();
    }
  }

  private static EngineConfig local(String runtime, int slots, int nGpuLayers) {
    return EngineConfig.builder()
        .type(EngineType.LOCAL)
        .temperature(0.3)
        .maxTokens(24)
        .seed(7L)
        .modelPath(model.toString())
        .contextSize(1024)
        .slots(slots)
        .nGpuLayers(nGpuLayers)
        .runtime(runtime)
        .build();
  }

  private static Pipeline pipeline(EngineConfig engine, OutputSchema schema) {
    return LlmPipeline.of(
        "body",
        PiiConfig.defaults(),
        new PromptTemplate("Triage: {{text}}"),
        "text",
        engine,
        schema);
  }

  /** The names of the params explicitly set on a stage (defaults left out). */
  private static List<String> set(PipelineStage stage) {
    return Arrays.stream(stage.params()).filter(stage::isSet).map(Param::name).sorted().toList();
  }

  @Test
  void whenTheBindingIsPresentTheLlmStageIsAutoGgufModelConfiguredFromTheEngine(SparkSession spark)
      throws Exception {
    forced = SparkNlpGguf.force(new SparkNlpGguf.Detection(true, "forced by the test"));
    OutputSchema schema =
        OutputSchema.of(
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(
                    "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"a\",\"b\"]}}}"));
    PipelineStage[] stages = pipeline(local("auto", 3, 12), schema).getStages();
    assertThat(Arrays.stream(stages).map(s -> s.getClass().getSimpleName()).toList())
        .endsWith(
            "PromptRenderer",
            "GgufLimits",
            "DocumentAssembler",
            "AutoGGUFModel",
            "GgufCompletions");
    DocumentAssembler document = (DocumentAssembler) stages[stages.length - 3];
    assertThat(document.getInputCol()).isEqualTo(LlmPipeline.PROMPT);
    assertThat(document.getOutputCol()).isEqualTo(AutoGgufStages.DOCUMENT);

    AutoGGUFModel gguf = (AutoGGUFModel) stages[stages.length - 2];
    assertThat(gguf.getInputCols()).containsExactly(AutoGgufStages.DOCUMENT);
    assertThat(gguf.getOutputCol()).isEqualTo(AutoGgufStages.COMPLETIONS);
    assertThat(gguf.getNPredict()).isEqualTo(24);
    assertThat(gguf.getTemperature()).isEqualTo(0.3f);
    assertThat(gguf.getSeed()).isEqualTo(7);
    // slots: AutoGGUFModel 5.5.3 decodes each batch with nParallel = batchSize
    assertThat(gguf.getBatchSize()).isEqualTo(3);
    assertThat(gguf.getNCtx()).isEqualTo(1024);
    assertThat(gguf.getNGpuLayers()).as("no GPU on this machine: no layer offloaded").isZero();
    assertThat(gguf.getUseChatTemplate()).isFalse();
    assertThat(gguf.getCachePrompt()).isFalse();
    assertThat(gguf.getDefragmentationThreshold()).isEqualTo(0.1f);
    assertThat(gguf.getGrammar()).isEqualTo(LocalEngines.grammar(schema)).contains("root ::=");
    // nothing else is set on it: every other parameter is the model's own
    assertThat(set(gguf))
        .containsExactly(
            "batchSize",
            "cachePrompt",
            "defragmentationThreshold",
            "grammar",
            "inputCols",
            "nCtx",
            "nGpuLayers",
            "nPredict",
            "outputCol",
            "seed",
            "temperature",
            "useChatTemplate");

    // with a GPU the engine's layers are offloaded; without a schema no grammar is set
    AutoGGUFModel onGpu =
        AutoGgufStages.configure(new AutoGGUFModel(), local("auto", 1, 12), null, 1);
    assertThat(onGpu.getNGpuLayers()).isEqualTo(12);
    assertThat(onGpu.getBatchSize()).isEqualTo(1);
    assertThat(set(onGpu)).doesNotContain("grammar");

    // runtime kiln keeps Kiln's LlmStage even where AutoGGUFModel could run
    PipelineStage[] kiln = pipeline(local("kiln", 1, 0), null).getStages();
    assertThat(kiln[kiln.length - 1]).isInstanceOf(LlmStage.class);
  }

  @Test
  void runtimeSparkNlpWithoutTheBindingIsBadInputNamingTheFixAndAutoFallsBackToKilns() {
    // the real detection: JSL's binding is absent here
    assertThat(SparkNlpGguf.detect().available()).isFalse();
    assertThatThrownBy(() -> pipeline(local("spark-nlp", 1, 0), null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine.runtime is spark-nlp, but Spark NLP's AutoGGUFModel cannot")
        .hasMessageContaining("jsl-llamacpp-cpu_2.12");
    PipelineStage[] auto = pipeline(local("auto", 1, 0), null).getStages();
    assertThat(auto[auto.length - 1]).isInstanceOf(LlmStage.class);
    assertThatThrownBy(() -> local("gpu", 1, 0))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine.runtime 'gpu' is not one of auto, spark-nlp, kiln");
  }

  @Test
  void kilnsStagesAroundAutoGgufModelCountTokensRefuseLongPromptsAndMapItsAnnotations(
      SparkSession spark) {
    EngineConfig engine =
        EngineConfig.builder()
            .type(EngineType.LOCAL)
            .temperature(0.0)
            .maxTokens(24)
            .modelPath(model.toString())
            .contextSize(128)
            .slots(2)
            .runtime("auto")
            .build();
    StructType schema =
        new StructType().add("id", DataTypes.IntegerType).add("prompt", DataTypes.StringType);
    Dataset<Row> prompts =
        spark.createDataFrame(
            List.of(
                RowFactory.create(1, "classify this mail"),
                RowFactory.create(2, "another mail"),
                RowFactory.create(3, "word ".repeat(200)),
                RowFactory.create(4, null)),
            schema);
    List<Row> checked =
        new GgufLimits()
            .setInputCol("prompt")
            .setEngine(engine)
            .transform(prompts)
            .orderBy("id")
            .collectAsList();
    int fits = checked.get(0).getAs(LlmStage.PROMPT_TOKENS);
    assertThat(fits)
        .isEqualTo(
            LocalEngines.tokenizer(model.toString()).encode("classify this mail").length + 1);
    assertThat(checked.get(0).<String>getAs(LlmStage.ERROR)).isNull();
    assertThat(checked.get(2).<String>getAs(LlmStage.ERROR))
        .contains("75% of a slot's context: 128 / 2 slots");
    assertThat(checked.get(3).<String>getAs(LlmStage.ERROR)).isEqualTo(Completion.NO_TEXT);

    // AutoGGUFModel's output as Spark NLP 5.5.3 writes it: one DOCUMENT annotation per prompt,
    // its metadata carrying llamacpp_exception when the batch failed
    StructType annotation =
        new StructType()
            .add("annotatorType", DataTypes.StringType)
            .add("begin", DataTypes.IntegerType)
            .add("end", DataTypes.IntegerType)
            .add("result", DataTypes.StringType)
            .add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))
            .add("embeddings", DataTypes.createArrayType(DataTypes.FloatType));
    StructType answered =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("prompt", DataTypes.StringType)
            .add(LlmStage.PROMPT_TOKENS, DataTypes.IntegerType)
            .add(LlmStage.ERROR, DataTypes.StringType)
            .add(AutoGgufStages.DOCUMENT, DataTypes.StringType)
            .add(AutoGgufStages.COMPLETIONS, DataTypes.createArrayType(annotation));
    String text = "spam spam";
    Dataset<Row> completions =
        spark.createDataFrame(
            List.of(
                RowFactory.create(
                    1,
                    "classify this mail",
                    fits,
                    null,
                    "doc",
                    List.of(
                        RowFactory.create(
                            "document",
                            0,
                            text.length() - 1,
                            text,
                            Map.of("sentence", "0"),
                            null))),
                RowFactory.create(
                    2,
                    "another mail",
                    4,
                    null,
                    "doc",
                    List.of(
                        RowFactory.create(
                            "document", 0, -1, "", Map.of("llamacpp_exception", "KV full"), null))),
                RowFactory.create(5, "lost", 3, null, "doc", List.of())),
            answered);
    Dataset<Row> mapped =
        new GgufCompletions()
            .setInputCol(AutoGgufStages.COMPLETIONS)
            .setDocumentCol(AutoGgufStages.DOCUMENT)
            .setEngine(engine)
            .transform(completions)
            .orderBy("id");
    assertThat(mapped.columns())
        .containsExactly(
            "id",
            "prompt",
            LlmStage.COMPLETION,
            LlmStage.PROMPT_TOKENS,
            LlmStage.COMPLETION_TOKENS,
            LlmStage.FINISH_REASON,
            LlmStage.LATENCY_MS,
            LlmStage.ATTEMPTS,
            LlmStage.ERROR);
    List<Row> rows = mapped.collectAsList();
    assertThat(rows.get(0).<String>getAs(LlmStage.COMPLETION)).isEqualTo(text);
    assertThat(rows.get(0).<Integer>getAs(LlmStage.PROMPT_TOKENS)).isEqualTo(fits);
    // counted by Kiln's tokenizer: AutoGGUFModel reports no counts
    assertThat(rows.get(0).<Integer>getAs(LlmStage.COMPLETION_TOKENS))
        .isEqualTo(LocalEngines.tokenizer(model.toString()).encode(text).length);
    assertThat(rows.get(0).<String>getAs(LlmStage.FINISH_REASON)).isEqualTo("stop");
    assertThat(rows.get(0).<Integer>getAs(LlmStage.ATTEMPTS)).isEqualTo(1);
    assertThat(rows.get(0).<String>getAs(LlmStage.ERROR)).isNull();
    assertThat(rows.get(1).<String>getAs(LlmStage.ERROR)).isEqualTo("llama.cpp failed: KV full");
    assertThat(rows.get(1).<String>getAs(LlmStage.COMPLETION)).isNull();
    assertThat(rows.get(2).<String>getAs(LlmStage.ERROR))
        .isEqualTo("AutoGGUFModel gave no completion");
  }
}
