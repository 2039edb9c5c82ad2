package kiln.llm.internal;

import kiln.llm.EngineConfig;
import kiln.llm.EngineType;

/** Opens the engine a config names, on an executor. */
public final class Engines {
  private Engines() {}

  public static Engine open(EngineConfig config) {
    if (config.type() == EngineType.OPENAI) {
      String key = config.apiKeyEnv() == null ? null : System.getenv(config.apiKeyEnv());
      return new OpenAiEngine(config, key);
    }
    return LocalEngines.open(config);
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
