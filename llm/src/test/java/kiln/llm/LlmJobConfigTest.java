package kiln.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LLM job config: defaults pinned, every YAML key mapped, mistakes named with file and line.
 */
class LlmJobConfigTest {

  @Test
  void defaultsAreTheDocumentedOnes(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        """
        input: /data/tickets
        key: id
        text: body
        prompt: {name: triage, version: 2}
        engine: {type: openai, model: gpt-4o-mini, baseUrl: "http://127.0.0.1:8000/v1/"}
        output: /data/triage
        """);
    LlmJobConfig config = LlmJobConfig.read(file);
    assertThat(config.variable()).isEqualTo("text");
    assertThat(config.maxErrorRate()).isEqualTo(0.01);
    assertThat(config.pii().entities()).containsExactly(PiiEntity.values());
    assertThat(config.deduplicate()).isTrue();
    assertThat(config.cache()).isNull();
    assertThat(config.commitEvery()).isEqualTo(10_000);
    assertThat(config.blockLeaks()).isFalse();
    assertThat(config.jsonSchema()).isNull();
    assertThat(config.outputSchema()).isEmpty();
    assertThat(config.prompt()).isEqualTo(new PromptRef("triage", "2", null));
    EngineConfig engine = config.engine();
    assertThat(engine.baseUrl()).isEqualTo("http://127.0.0.1:8000/v1");
    assertThat(engine.temperature()).isEqualTo(0.0);
    assertThat(engine.maxTokens()).isEqualTo(256);
    assertThat(engine.seed()).isNull();
    assertThat(engine.apiKeyEnv()).isNull();
    assertThat(engine.timeoutSeconds()).isEqualTo(60);
    assertThat(engine.maxAttempts()).isEqualTo(5);
    assertThat(engine.backoffMillis()).isEqualTo(500);
    assertThat(engine.concurrency()).isEqualTo(4);
    assertThat(engine.slots()).isNull();
    assertThat(config.inputRef().isLatest()).isTrue();
  }

  @Test
  void theBuilderGivesTheYamlsJobWithTheSameDefaultsAndValidation(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        """
        input: /data/tickets
        key: id
        text: body
        prompt: {name: triage, version: 2}
        engine: {type: openai, model: gpt-4o-mini, baseUrl: "http://127.0.0.1:8000/v1/"}
        output: /data/triage
        """);
    LlmJobConfig read = LlmJobConfig.read(file);
    LlmJobConfig built =
        LlmJobConfig.builder()
            .input("/data/tickets")
            .key("id")
            .text("body")
            .prompt(new PromptRef("triage", "2", null))
            .engine(read.engine())
            .output("/data/triage")
            .build();
    assertThat(built).isEqualTo(read);
    // a copy that differs in one component keeps every other
    LlmJobConfig priced = built.toBuilder().price(new LlmPrice(0.1, 0.2, null, null)).build();
    assertThat(priced.price()).isEqualTo(new LlmPrice(0.1, 0.2, null, "USD"));
    assertThat(priced.toBuilder().price(null).build()).isEqualTo(read);
    assertThatThrownBy(() -> built.toBuilder().maxErrorRate(2.0).build())
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("maxErrorRate must be between 0 and 1, got 2.0");
    assertThatThrownBy(() -> LlmJobConfig.builder().key("id").build())
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("input is missing");
  }

  @Test
  void yamlMapsEveryKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        """
        input: /data/tickets@3
        key: ticket_id
        text: body
        variable: ticket
        prompt: {name: triage, alias: champion}
        engine:
          type: openai
          model: llama-3.1-8b
          temperature: 0.7
          maxTokens: 64
          seed: 7
          baseUrl: https://llm.example.com/v1
          apiKeyEnv: LLM_KEY
          timeoutSeconds: 30
          maxAttempts: 3
          backoffMillis: 100
          concurrency: 16
        output: /data/triage
        maxErrorRate: 0.05
        pii:
          entities: [PHONE_NUMBER, EMAIL_ADDRESS]
          operators: {PHONE_NUMBER: {type: mask, keep: 2}}
          regions: [US]
        deduplicate: false
        cache: /data/llm-cache
        commitEvery: 500
        blockLeaks: true
        """);
    LlmJobConfig config = LlmJobConfig.read(file);
    assertThat(config.inputRef().version()).isEqualTo(3L);
    assertThat(config.key()).isEqualTo("ticket_id");
    assertThat(config.text()).isEqualTo("body");
    assertThat(config.variable()).isEqualTo("ticket");
    assertThat(config.prompt()).isEqualTo(new PromptRef("triage", null, "champion"));
    assertThat(config.engine())
        .isEqualTo(
            EngineConfig.builder()
                .type(EngineType.OPENAI)
                .model("llama-3.1-8b")
                .temperature(0.7)
                .maxTokens(64)
                .seed(7L)
                .baseUrl("https://llm.example.com/v1")
                .apiKeyEnv("LLM_KEY")
                .timeoutSeconds(30)
                .maxAttempts(3)
                .backoffMillis(100)
                .concurrency(16)
                .build());
    assertThat(config.output()).isEqualTo("/data/triage");
    assertThat(config.maxErrorRate()).isEqualTo(0.05);
    assertThat(config.pii().entities())
        .containsExactly(PiiEntity.EMAIL_ADDRESS, PiiEntity.PHONE_NUMBER);
    assertThat(config.pii().operator(PiiEntity.PHONE_NUMBER))
        .isEqualTo(new PiiOperator(PiiOperator.Type.MASK, 2, "*", null));
    assertThat(config.pii().regions()).containsExactly("US");
    assertThat(config.deduplicate()).isFalse();
    assertThat(config.cache()).isEqualTo("/data/llm-cache");
    assertThat(config.commitEvery()).isEqualTo(500);
    assertThat(config.blockLeaks()).isTrue();
  }

  @Test
  void theLocalEngineMapsItsKeysAndDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        """
        input: /data/t
        key: id
        text: body
        prompt: {name: p, version: 1}
        engine: {type: local, modelPath: /models/tiny.gguf}
        output: /data/o
        """);
    EngineConfig engine = LlmJobConfig.read(file).engine();
    assertThat(engine.model()).isEqualTo("tiny.gguf");
    assertThat(engine.contextSize()).isEqualTo(2048);
    assertThat(engine.slots()).isEqualTo(1);
    assertThat(engine.nGpuLayers()).isZero();
    assertThat(engine.runtime()).isEqualTo("auto");
    assertThat(engine.parameters()).doesNotContainKey("runtime");
    assertThat(engine.concurrency()).isNull();
    Files.writeString(
        file,
        Files.readString(file)
            .replace(
                "modelPath: /models/tiny.gguf",
                "modelPath: /models/tiny.gguf, runtime: Spark-NLP"));
    EngineConfig sparkNlp = LlmJobConfig.read(file).engine();
    assertThat(sparkNlp.runtime()).isEqualTo("spark-nlp");
    assertThat(sparkNlp.parameters()).containsEntry("runtime", "spark-nlp");
    assertThat(
            EngineConfig.builder()
                .type(EngineType.LOCAL)
                .model("m")
                .temperature(0.0)
                .maxTokens(8)
                .seed(1L)
                .modelPath("/m.gguf")
                .contextSize(512)
                .slots(4)
                .nGpuLayers(99)
                .build())
        .extracting(EngineConfig::contextSize, EngineConfig::slots, EngineConfig::nGpuLayers)
        .containsExactly(512, 4, 99);
  }

  @Test
  void mistakesNameTheKeyTheValueAndTheFix(@TempDir Path dir) throws Exception {
    String base = "input: /t\nkey: id\ntext: body\noutput: /o\n";
    Path unknown = dir.resolve("unknown.yaml");
    Files.writeString(
        unknown,
        base
            + "prompt: {name: p, version: 1}\nengine: {type: openai, model: m, baseUrl: 'http://h/v1'}\nmax_error_rate: 0.1\n");
    assertThatThrownBy(() -> LlmJobConfig.read(unknown))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(unknown + ":7:1: unknown key 'max_error_rate'")
        .hasMessageContaining("maxErrorRate");
    Path both = dir.resolve("both.yaml");
    Files.writeString(
        both,
        base
            + "prompt: {name: p, version: 1, alias: prod}\nengine: {type: openai, model: m, baseUrl: 'http://h/v1'}\n");
    assertThatThrownBy(() -> LlmJobConfig.read(both))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("needs exactly one of version and alias, it has both (1, prod)");
    Path wrongEngineKey = dir.resolve("slots.yaml");
    Files.writeString(
        wrongEngineKey,
        base
            + "prompt: {name: p, version: 1}\nengine: {type: openai, model: m, baseUrl: 'http://h/v1', slots: 2}\n");
    assertThatThrownBy(() -> LlmJobConfig.read(wrongEngineKey))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine.slots does not apply to the openai engine");
    Files.writeString(
        wrongEngineKey,
        base
            + "prompt: {name: p, version: 1}\n"
            + "engine: {type: openai, model: m, baseUrl: 'http://h/v1', runtime: kiln}\n");
    assertThatThrownBy(() -> LlmJobConfig.read(wrongEngineKey))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine.runtime does not apply to the openai engine");
    Path key = dir.resolve("key.yaml");
    Files.writeString(
        key,
        base
            + "prompt: {name: p, version: 1}\nengine: {type: openai, model: m, baseUrl: 'http://h/v1', apiKeyEnv: 'sk-abc'}\n");
    assertThatThrownBy(() -> LlmJobConfig.read(key))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("is not an environment variable name");
    Path rate = dir.resolve("rate.yaml");
    Files.writeString(
        rate,
        base
            + "prompt: {name: p, version: 1}\nengine: {type: openai, model: m, baseUrl: 'http://h/v1'}\nmaxErrorRate: 2\n");
    assertThatThrownBy(() -> LlmJobConfig.read(rate))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("maxErrorRate must be between 0 and 1, got 2.0");
    Path noEngine = dir.resolve("engine.yaml");
    Files.writeString(noEngine, base + "prompt: {name: p, version: 1}\n");
    assertThatThrownBy(() -> LlmJobConfig.read(noEngine))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine is missing");
    assertThatThrownBy(() -> EngineConfig.builder().type(EngineType.LOCAL).build())
        .hasMessageContaining("engine.modelPath is missing");
  }

  @Test
  void promptReferencesParseBothForms() {
    assertThat(PromptRef.parse("triage/3")).isEqualTo(new PromptRef("triage", "3", null));
    assertThat(PromptRef.parse("prompts:/triage@champion"))
        .isEqualTo(new PromptRef("triage", null, "champion"));
    assertThat(PromptRef.parse("triage/3").toString()).isEqualTo("prompts:/triage/3");
    assertThatThrownBy(() -> PromptRef.parse("triage")).isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> PromptRef.parse("triage/x"))
        .hasMessageContaining("not a positive whole number");
    assertThat(List.of(PiiEntity.values())).hasSize(7);
  }

  @Test
  void aJsonSchemaIsReadFromYamlAndOneThatIsNoSchemaIsRefused(@TempDir Path dir) throws Exception {
    String head =
        """
        input: /data/tickets
        key: id
        text: body
        prompt: {name: triage, version: 2}
        engine: {type: openai, model: gpt-4o-mini, baseUrl: "http://127.0.0.1:8000/v1/"}
        output: /data/triage
        """;
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        head
            + """
            jsonSchema:
              type: object
              properties: {label: {enum: [spam, ham]}}
              required: [label]
            """);
    LlmJobConfig config = LlmJobConfig.read(file);
    assertThat(config.outputSchema()).isPresent();
    assertThat(config.outputSchema().get().check("{\"label\": \"ham\"}")).isEmpty();
    assertThat(config.outputSchema().get().check("{\"label\": \"eggs\"}")).isPresent();

    Files.writeString(file, head + "jsonSchema: [label]\n");
    assertThatThrownBy(() -> LlmJobConfig.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("jsonSchema must be a JSON schema object, got array");
    Files.writeString(file, head + "jsonSchema: {type: objekt}\n");
    assertThatThrownBy(() -> LlmJobConfig.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("jsonSchema is not a valid JSON schema");
  }

  @Test
  void aPriceIsCheckedAgainstItsEngineAndANegativeOneIsBadInput(@TempDir Path dir)
      throws Exception {
    String base =
        """
        input: /data/tickets
        key: id
        text: body
        prompt: {name: triage, version: 2}
        output: /data/triage
        """;
    String openai =
        "engine: {type: openai, model: gpt-4o-mini, baseUrl: \"http://127.0.0.1:8000/v1\"}\n";
    String local = "engine: {type: local, modelPath: /models/tiny.gguf}\n";
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file, base + openai + "price: {promptPer1k: 0.15, completionPer1k: 0.6, currency: EUR}\n");
    LlmJobConfig config = LlmJobConfig.read(file);
    assertThat(config.price()).isEqualTo(new LlmPrice(0.15, 0.6, null, "EUR"));
    Files.writeString(file, base + local + "price: {perHour: 1.2}\n");
    assertThat(LlmJobConfig.read(file).price()).isEqualTo(new LlmPrice(null, null, 1.2, "USD"));
    assertThat(LlmJobConfig.read(file).price().currency()).isEqualTo("USD");

    for (String[] bad :
        new String[][] {
          {
            openai + "price: {promptPer1k: -0.1, completionPer1k: 0.6}",
            "price.promptPer1k must be a price of 0 or more, got -0.1"
          },
          {local + "price: {perHour: -2}", "price.perHour must be a price of 0 or more, got -2.0"},
          {openai + "price: {promptPer1k: 0.1}", "price.completionPer1k is missing"},
          {openai + "price: {perHour: 2}", "price.perHour does not apply to the openai engine"},
          {
            local + "price: {promptPer1k: 0.1, completionPer1k: 0.1}",
            "price.promptPer1k does not apply to the local engine"
          },
          {local + "price: {}", "price.perHour is missing"},
          {local + "price: {perHour: 1, perToken: 2}", "perToken"},
        }) {
      Files.writeString(file, base + bad[0] + "\n");
      assertThatThrownBy(() -> LlmJobConfig.read(file), bad[0])
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(bad[1]);
    }
  }
}
