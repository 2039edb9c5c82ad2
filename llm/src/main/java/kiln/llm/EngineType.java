package kiln.llm;

/** Where completions come from. */
public enum EngineType {
  /**
   * Any OpenAI-compatible {@code /v1/chat/completions} endpoint (vLLM, TGI, llama.cpp server,
   * Ollama, a provider).
   */
  OPENAI,
  /** A GGUF model run in the executor JVMs by llama.cpp. */
  LOCAL;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
