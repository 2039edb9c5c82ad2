package kiln.llm.internal;

import java.util.Optional;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;

/** Opens the engine a config names, on an executor. */
public final class Engines {
  private Engines() {}

  public static Engine open(EngineConfig config) {
    return open(config, Optional.empty());
  }

  /**
   * The engine, asked for JSON that keeps to {@code schema} when there is one: llama.cpp decodes
   * under the schema's grammar; an OpenAI-compatible endpoint gets it as {@code response_format}.
   */
  public static Engine open(EngineConfig config, Optional<OutputSchema> schema) {
    if (config.type() == EngineType.OPENAI) {
      // on the executor: its own environment or its copy of the key file (the driver checked it)
      String key = ApiKeys.read(config, System.getenv());
      return new OpenAiEngine(config, key, schema.orElse(null));
    }
    return LocalEngines.open(config, schema);
  }

  /**
   * On the driver, before any row is sent: the local engine's grammar can be derived from the
   * schema (llama.cpp refuses some schema features).
   */
  public static void checkSchema(EngineConfig config, Optional<OutputSchema> schema) {
    if (config.type() == EngineType.LOCAL && schema.isPresent()) {
      LocalEngines.grammar(schema.get());
    }
  }

  /**
   * {@code text}'s tokens by the GGUF file's tokenizer, as the local engine counts them (the model
   * loaded once per JVM with a small context, used only to encode).
   */
  public static int tokens(String modelPath, String text) {
    return LocalEngines.textTokens(modelPath, text);
  }

  /** Rows completed together: enough to keep every request slot busy, few enough to stream. */
  static int batchSize(EngineConfig config) {
    return config.type() == EngineType.OPENAI ? config.concurrency() * 4 : config.slots() * 4;
  }

  /**
   * Ends a partition's engine (an HTTP pool); the local engine's model stays loaded for the JVM.
   */
  static void release(AutoCloseable engine) {
    try {
      engine.close();
    } catch (Exception e) {
      // nothing is lost: every row of the partition is already answered
    }
  }
}
