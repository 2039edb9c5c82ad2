package kiln.llm;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.Errors;

/**
 * The engine of an LLM job and its parameters. Shared keys first, then the ones of each engine; a
 * key of the other engine is refused, so that a config never carries a setting that silently does
 * nothing.
 *
 * @param type {@code openai} or {@code local} (required)
 * @param model the model's name: sent as {@code model} to an OpenAI-compatible endpoint (required
 *     there); for {@code local} it defaults to the GGUF file's name
 * @param temperature sampling temperature (default 0: deterministic where the engine allows)
 * @param maxTokens the completion limit per row (default 256)
 * @param seed the sampling seed (default none; {@code local} uses 42)
 * @param baseUrl openai: the endpoint's base, up to and including {@code /v1} (required)
 * @param apiKeyEnv openai: the environment variable holding the API key (default none: no key
 *     sent); the key itself is never in a config, a log or an MLflow param
 * @param apiKeyFile openai: a file holding the API key instead (a mounted secret, e.g. {@code
 *     /run/secrets/openai}; surrounding whitespace ignored), readable on the driver and every
 *     executor; not both {@code apiKeyEnv} and {@code apiKeyFile}
 * @param timeoutSeconds openai: per request (default 60)
 * @param maxAttempts openai: attempts per row, retrying 429, 5xx and timeouts (default 5)
 * @param backoffMillis openai: the first retry's wait, doubled each time, with jitter (default 500)
 * @param concurrency openai: requests in flight per partition (default 4)
 * @param modelPath local: the GGUF file, readable from every executor (required)
 * @param contextSize local: the context in tokens, shared by the slots (default 2048)
 * @param slots local: sequences decoded in parallel (default 1)
 * @param nGpuLayers local: layers offloaded when the executor has a GPU (default 0; ignored without
 *     one)
 * @param runtime local: which llama.cpp runs the GGUF file: {@code auto} (default: Spark NLP's
 *     AutoGGUFModel when its native binding is detected, else Kiln's own), {@code spark-nlp}
 *     (AutoGGUFModel, bad input when its binding is absent) or {@code kiln} (Kiln's de.kherud
 *     binding, always)
 */
public record EngineConfig(
    EngineType type,
    String model,
    Double temperature,
    Integer maxTokens,
    Long seed,
    String baseUrl,
    String apiKeyEnv,
    Integer timeoutSeconds,
    Integer maxAttempts,
    Integer backoffMillis,
    Integer concurrency,
    String modelPath,
    Integer contextSize,
    Integer slots,
    Integer nGpuLayers,
    String apiKeyFile,
    String runtime)
    implements Serializable {

  /** {@code runtime}: Spark NLP's AutoGGUFModel when its binding is detected, else Kiln's. */
  public static final String RUNTIME_AUTO = "auto";

  /** {@code runtime}: Spark NLP's AutoGGUFModel, which must be present. */
  public static final String RUNTIME_SPARK_NLP = "spark-nlp";

  /** {@code runtime}: Kiln's own llama.cpp binding (de.kherud:llama). */
  public static final String RUNTIME_KILN = "kiln";

  public static final double DEFAULT_TEMPERATURE = 0.0;
  public static final int DEFAULT_MAX_TOKENS = 256;
  public static final int DEFAULT_TIMEOUT_SECONDS = 60;
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  public static final int DEFAULT_BACKOFF_MILLIS = 500;
  public static final int DEFAULT_CONCURRENCY = 4;
  public static final int DEFAULT_CONTEXT_SIZE = 2048;
  public static final int DEFAULT_SLOTS = 1;

  /**
   * A builder: seventeen components are too many to pass by position. A component left unset is
   * null and takes the default the record's constructor gives it (see the record's parameters);
   * {@link Builder#build()} validates as reading the YAML does.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this engine's components, to build one that differs in a few. */
  public Builder toBuilder() {
    return new Builder()
        .type(type)
        .model(model)
        .temperature(temperature)
        .maxTokens(maxTokens)
        .seed(seed)
        .baseUrl(baseUrl)
        .apiKeyEnv(apiKeyEnv)
        .timeoutSeconds(timeoutSeconds)
        .maxAttempts(maxAttempts)
        .backoffMillis(backoffMillis)
        .concurrency(concurrency)
        .modelPath(modelPath)
        .contextSize(contextSize)
        .slots(slots)
        .nGpuLayers(nGpuLayers)
        .apiKeyFile(apiKeyFile)
        .runtime(runtime);
  }

  /** Builds an {@link EngineConfig}; null (unset) means the default. */
  public static final class Builder {
    private EngineType type;
    private String model;
    private Double temperature;
    private Integer maxTokens;
    private Long seed;
    private String baseUrl;
    private String apiKeyEnv;
    private Integer timeoutSeconds;
    private Integer maxAttempts;
    private Integer backoffMillis;
    private Integer concurrency;
    private String modelPath;
    private Integer contextSize;
    private Integer slots;
    private Integer nGpuLayers;
    private String apiKeyFile;
    private String runtime;

    private Builder() {}

    public Builder type(EngineType value) {
      type = value;
      return this;
    }

    public Builder model(String value) {
      model = value;
      return this;
    }

    public Builder temperature(Double value) {
      temperature = value;
      return this;
    }

    public Builder maxTokens(Integer value) {
      maxTokens = value;
      return this;
    }

    public Builder seed(Long value) {
      seed = value;
      return this;
    }

    public Builder baseUrl(String value) {
      baseUrl = value;
      return this;
    }

    public Builder apiKeyEnv(String value) {
      apiKeyEnv = value;
      return this;
    }

    public Builder timeoutSeconds(Integer value) {
      timeoutSeconds = value;
      return this;
    }

    public Builder maxAttempts(Integer value) {
      maxAttempts = value;
      return this;
    }

    public Builder backoffMillis(Integer value) {
      backoffMillis = value;
      return this;
    }

    public Builder concurrency(Integer value) {
      concurrency = value;
      return this;
    }

    public Builder modelPath(String value) {
      modelPath = value;
      return this;
    }

    public Builder contextSize(Integer value) {
      contextSize = value;
      return this;
    }

    public Builder slots(Integer value) {
      slots = value;
      return this;
    }

    public Builder nGpuLayers(Integer value) {
      nGpuLayers = value;
      return this;
    }

    public Builder apiKeyFile(String value) {
      apiKeyFile = value;
      return this;
    }

    public Builder runtime(String value) {
      runtime = value;
      return this;
    }

    public EngineConfig build() {
      return new EngineConfig(
          type,
          model,
          temperature,
          maxTokens,
          seed,
          baseUrl,
          apiKeyEnv,
          timeoutSeconds,
          maxAttempts,
          backoffMillis,
          concurrency,
          modelPath,
          contextSize,
          slots,
          nGpuLayers,
          apiKeyFile,
          runtime);
    }
  }

  /** Where the API key comes from, for messages (never the key): null when none is sent. */
  public String apiKeySource() {
    return apiKeyEnv != null
        ? apiKeyEnv
        : apiKeyFile != null ? "file " + apiKeyFile + " (engine.apiKeyFile)" : null;
  }

  public EngineConfig {
    if (type == null) {
      throw Errors.badInput(
          "engine.type is missing",
          "write engine: {type: openai, ...} or engine: {type: local, ...}");
    }
    temperature = temperature == null ? DEFAULT_TEMPERATURE : temperature;
    maxTokens = maxTokens == null ? DEFAULT_MAX_TOKENS : maxTokens;
    range("temperature", temperature, 0, 2);
    range("maxTokens", maxTokens, 1, 32_768);
    if (type == EngineType.OPENAI) {
      refuse(type, "modelPath", modelPath);
      refuse(type, "contextSize", contextSize);
      refuse(type, "slots", slots);
      refuse(type, "nGpuLayers", nGpuLayers);
      refuse(type, "runtime", runtime);
      if (model == null || model.isBlank()) {
        throw Errors.badInput(
            "engine.model is missing: an OpenAI-compatible endpoint needs the model's name",
            "write e.g. model: gpt-4o-mini, or the name your vLLM/TGI/Ollama server serves");
      }
      if (baseUrl == null || !(baseUrl.startsWith("http://") || baseUrl.startsWith("https://"))) {
        throw Errors.badInput(
            "engine.baseUrl "
                + (baseUrl == null ? "is missing" : "'" + baseUrl + "' is not an http(s) URL"),
            "give the endpoint's base up to /v1, e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1");
      }
      baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
      if (apiKeyEnv != null && apiKeyFile != null) {
        throw Errors.badInput(
            "engine.apiKeyEnv and engine.apiKeyFile are both set: the key must come from one place",
            "keep one of them");
      }
      if (apiKeyFile != null && apiKeyFile.isBlank()) {
        throw Errors.badInput(
            "engine.apiKeyFile is empty", "give the path of the file holding the API key");
      }
      if (apiKeyEnv != null && !apiKeyEnv.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw Errors.badInput(
            "engine.apiKeyEnv '" + apiKeyEnv + "' is not an environment variable name",
            "give the variable's NAME (e.g. OPENAI_API_KEY), never the key itself");
      }
      timeoutSeconds = timeoutSeconds == null ? DEFAULT_TIMEOUT_SECONDS : timeoutSeconds;
      maxAttempts = maxAttempts == null ? DEFAULT_MAX_ATTEMPTS : maxAttempts;
      backoffMillis = backoffMillis == null ? DEFAULT_BACKOFF_MILLIS : backoffMillis;
      concurrency = concurrency == null ? DEFAULT_CONCURRENCY : concurrency;
      range("timeoutSeconds", timeoutSeconds, 1, 3600);
      range("maxAttempts", maxAttempts, 1, 20);
      range("backoffMillis", backoffMillis, 0, 60_000);
      range("concurrency", concurrency, 1, 256);
    } else {
      refuse(type, "baseUrl", baseUrl);
      refuse(type, "apiKeyEnv", apiKeyEnv);
      refuse(type, "apiKeyFile", apiKeyFile);
      refuse(type, "timeoutSeconds", timeoutSeconds);
      refuse(type, "maxAttempts", maxAttempts);
      refuse(type, "backoffMillis", backoffMillis);
      refuse(type, "concurrency", concurrency);
      if (modelPath == null || modelPath.isBlank()) {
        throw Errors.badInput(
            "engine.modelPath is missing: the local engine runs a GGUF file",
            "give the path of a .gguf file every executor can read");
      }
      if (model == null || model.isBlank()) {
        String file = modelPath.replace('\\', '/');
        model = file.substring(file.lastIndexOf('/') + 1);
      }
      contextSize = contextSize == null ? DEFAULT_CONTEXT_SIZE : contextSize;
      slots = slots == null ? DEFAULT_SLOTS : slots;
      nGpuLayers = nGpuLayers == null ? 0 : nGpuLayers;
      range("contextSize", contextSize, 64, 1 << 20);
      range("slots", slots, 1, 64);
      range("nGpuLayers", nGpuLayers, 0, 10_000);
      runtime = runtime == null ? RUNTIME_AUTO : runtime.strip().toLowerCase(Locale.ROOT);
      if (!List.of(RUNTIME_AUTO, RUNTIME_SPARK_NLP, RUNTIME_KILN).contains(runtime)) {
        throw Errors.badInput(
            "engine.runtime '" + runtime + "' is not one of auto, spark-nlp, kiln",
            "write runtime: auto (Spark NLP's AutoGGUFModel when present, else Kiln's llama.cpp),"
                + " spark-nlp or kiln");
      }
    }
  }

  /**
   * The parameters that change completions, for MLflow params and the output's idempotency key (no
   * secrets).
   */
  public Map<String, String> parameters() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("engine", type.toString());
    p.put("model", model);
    p.put("temperature", String.valueOf(temperature));
    p.put("max_tokens", String.valueOf(maxTokens));
    if (seed != null) {
      p.put("seed", String.valueOf(seed));
    }
    if (type == EngineType.OPENAI) {
      p.put("base_url", baseUrl);
    } else {
      p.put("context_size", String.valueOf(contextSize));
      p.put("slots", String.valueOf(slots));
      if (!RUNTIME_AUTO.equals(runtime)) {
        // an explicit runtime is part of what was asked; auto keeps the keys of earlier runs
        p.put("runtime", runtime);
      }
    }
    return p;
  }

  private static void range(String key, Number value, double min, double max) {
    if (value.doubleValue() < min || value.doubleValue() > max) {
      throw Errors.badInput(
          "engine."
              + key
              + " must be between "
              + format(min)
              + " and "
              + format(max)
              + ", got "
              + value,
          "correct engine." + key);
    }
  }

  private static String format(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  private static void refuse(EngineType type, String key, Object value) {
    if (value != null) {
      throw Errors.badInput(
          "engine." + key + " does not apply to the " + type + " engine",
          "remove " + key + ", or change engine.type");
    }
  }
}
