package kiln.llm.internal;

import com.johnsnowlabs.nlp.DocumentAssembler;
import com.johnsnowlabs.nlp.annotators.seq2seq.AutoGGUFModel;
import java.util.List;
import kiln.core.GpuProbe;
import kiln.llm.EngineConfig;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.SparkSession;

/**
 * The LLM stages of a local engine on Spark NLP's AutoGGUFModel: Kiln's {@link GgufLimits} (prompt
 * tokens counted, too-long prompts refused before a request) → DocumentAssembler (the prompt as a
 * document) → AutoGGUFModel loaded from the job's GGUF file and configured from the engine's
 * parameters → Kiln's {@link GgufCompletions} (annotations to Kiln's output columns). Only built
 * when {@link SparkNlpGguf#use} says AutoGGUFModel runs here; every reference to it is in this
 * class, so that nothing loads it otherwise.
 */
public final class AutoGgufStages {
  /** The prompt as a Spark NLP document, AutoGGUFModel's input. */
  public static final String DOCUMENT = "llm_prompt_document";

  /** AutoGGUFModel's completion annotations. */
  public static final String COMPLETIONS = "llm_completions";

  private AutoGgufStages() {}

  /** The four stages for the prompts in {@code promptCol}. */
  public static List<PipelineStage> stages(
      EngineConfig engine, OutputSchema schema, String promptCol) {
    GgufLimits limits = new GgufLimits().setInputCol(promptCol).setEngine(engine);
    DocumentAssembler document = new DocumentAssembler();
    document.setInputCol(promptCol);
    document.setOutputCol(DOCUMENT);
    AutoGGUFModel model = configure(load(engine), engine, schema, GpuProbe.system().gpus().size());
    GgufCompletions completions =
        new GgufCompletions().setInputCol(COMPLETIONS).setDocumentCol(DOCUMENT).setEngine(engine);
    return List.of(limits, document, model, completions);
  }

  /**
   * AutoGGUFModel with the job's GGUF file: {@code loadSavedModel} (it copies the file, broadcasts
   * it and reads its metadata through the native binding). Under a test's forced detection ({@link
   * SparkNlpGguf#force}) an unloaded annotator, so that its configuration can be checked where the
   * binding is absent: no native call.
   */
  static AutoGGUFModel load(EngineConfig engine) {
    if (SparkNlpGguf.forced()) {
      return new AutoGGUFModel();
    }
    return AutoGGUFModel.loadSavedModel(engine.modelPath(), SparkSession.active());
  }

  /**
   * The engine's parameters on the annotator: maxTokens → nPredict, temperature, seed (42 when
   * unset, as Kiln's engine), slots → batchSize (AutoGGUFModel 5.5.3 decodes a batch with nParallel
   * = batchSize), contextSize → nCtx, the schema's llama.cpp grammar, nGpuLayers only when the
   * driver sees a GPU (else 0, also overriding the 1000 layers AutoGGUFModel sets itself with Spark
   * NLP's GPU jar), no chat template (Kiln sends its rendered prompt as is, like its own engine),
   * no prompt cache, and KV defragmentation at 0.1 like Kiln's engine.
   */
  static AutoGGUFModel configure(
      AutoGGUFModel model, EngineConfig engine, OutputSchema schema, int gpus) {
    model.setInputCols(new String[] {DOCUMENT});
    model.setOutputCol(COMPLETIONS);
    model.setNPredict(engine.maxTokens());
    model.setTemperature(engine.temperature().floatValue());
    model.setSeed(engine.seed() == null ? 42 : engine.seed().intValue());
    model.setBatchSize(engine.slots());
    model.setNCtx(engine.contextSize());
    model.setNGpuLayers(gpus > 0 ? engine.nGpuLayers() : 0);
    model.setUseChatTemplate(false);
    model.setCachePrompt(false);
    model.setDefragmentationThreshold(0.1f);
    if (schema != null) {
      model.setGrammar(LocalEngines.grammar(schema));
    } else if (Boolean.getBoolean("kiln.llm.ignoreEos")) {
      // random-weight test models stop at once otherwise (as with Kiln's engine)
      model.setIgnoreEos(true);
    }
    return model;
  }
}
