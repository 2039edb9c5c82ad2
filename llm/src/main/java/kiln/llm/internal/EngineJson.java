package kiln.llm.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import kiln.llm.EngineConfig;

/**
 * The engine config as the JSON string param every LLM stage saves with the pipeline (no secrets:
 * the API key is read from its variable or file where it is used).
 */
final class EngineJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private EngineJson() {}

  static String write(EngineConfig config) {
    try {
      return JSON.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the engine config as JSON", e);
    }
  }

  static EngineConfig read(String json) {
    try {
      return JSON.readValue(json, EngineConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the saved engine config is not valid JSON", e);
    }
  }
}
