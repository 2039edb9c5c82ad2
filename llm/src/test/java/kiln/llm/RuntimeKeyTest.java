package kiln.llm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import kiln.core.DatasetRef;
import kiln.llm.internal.SparkNlpGguf;
import org.junit.jupiter.api.Test;

/**
 * With {@code runtime: auto} the runtime that generates depends on the class path: the job's key
 * (resume) and the cache's key must say which one ran, and keep the keys of earlier runs where
 * Kiln's llama.cpp runs. No Spark: the keys are computed on the driver.
 */
class RuntimeKeyTest {
  private static EngineConfig local(String runtime) {
    return EngineConfig.builder()
        .type(EngineType.LOCAL)
        .temperature(0.0)
        .maxTokens(16)
        .modelPath("/models/tiny.gguf")
        .contextSize(2048)
        .slots(2)
        .nGpuLayers(0)
        .runtime(runtime)
        .build();
  }

  private static String jobKey(EngineConfig engine) {
    LlmJobConfig config =
        LlmJobConfig.builder()
            .input("/data/tickets")
            .key("id")
            .text("body")
            .prompt(new PromptRef("p", "1", null))
            .engine(engine)
            .output("/data/out")
            .build();
    return LlmJob.idempotencyKey(
        config,
        DatasetRef.atVersion("/data/tickets", 3),
        new Prompt("p", "1", new PromptTemplate("Classify: {{text}}")),
        "sha256:00");
  }

  private static String[] keys(EngineConfig engine, boolean bindingPresent) throws Exception {
    try (AutoCloseable forced =
        SparkNlpGguf.force(new SparkNlpGguf.Detection(bindingPresent, "forced by the test"))) {
      return new String[] {LlmJob.paramsSha256(engine, Optional.empty()), jobKey(engine)};
    }
  }

  @Test
  void autoKeysSayWhetherSparkNlpsAutoGgufModelRanAndKeepEarlierKeysOtherwise() throws Exception {
    EngineConfig auto = local("auto");
    String[] onKiln = keys(auto, false);
    String[] onSparkNlp = keys(auto, true);
    assertThat(onSparkNlp[0]).isNotEqualTo(onKiln[0]);
    assertThat(onSparkNlp[1]).isNotEqualTo(onKiln[1]);
    // auto on Kiln's llama.cpp: the keys every earlier run of the same config computed
    assertThat(LlmJob.ranOnSparkNlp(auto)).isEmpty();
    assertThat(onKiln[0]).isEqualTo(keys(auto, false)[0]);
    // a named runtime is in the engine's parameters already: the binding's presence adds nothing
    EngineConfig kiln = local("kiln");
    assertThat(keys(kiln, true)).containsExactly(keys(kiln, false));
    assertThat(keys(kiln, false)[0]).isNotEqualTo(onKiln[0]);
    // auto on Spark NLP generates what runtime: spark-nlp generates: the same keys, one cache
    assertThat(keys(local("spark-nlp"), true)).containsExactly(onSparkNlp);
  }
}
