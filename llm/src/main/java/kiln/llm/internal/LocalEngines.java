package kiln.llm.internal;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import kiln.core.GpuProbe;
import kiln.llm.EngineConfig;

/**
 * The local engine: a GGUF model run by llama.cpp ({@code de.kherud:llama}), loaded once per
 * executor JVM and shared by its tasks; {@code slots} sequences decode in parallel. Limits are
 * enforced before a request: llama.cpp fails every in-flight request of a slot batch when one
 * prompt overflows its KV cache, so a row whose prompt and completion do not fit in 75% of a slot's
 * context fails alone, before it is sent (and a KV overflow that slips through is retried once).
 */
final class LocalEngines {
  /** Head room in a slot's context; a full slot fails all its batch-mates (STACK.md). */
  static final double CONTEXT_SHARE = 0.75;

  private static final Map<String, Loaded> MODELS = new ConcurrentHashMap<>();

  private LocalEngines() {}

  /** A model in this JVM, and the threads that keep its slots busy. */
  private record Loaded(LlamaModel model, ExecutorService slots) {}

  static Engine open(EngineConfig config) {
    String key =
        config.modelPath()
            + "|"
            + config.contextSize()
            + "|"
            + config.slots()
            + "|"
            + config.nGpuLayers();
    Loaded loaded = MODELS.computeIfAbsent(key, k -> load(config));
    return prompts -> complete(loaded, config, prompts);
  }

  private static Loaded load(EngineConfig config) {
    if (System.getProperty("de.kherud.llama.tmpdir") == null) {
      // the library deletes files named llama*/jllama* in its temp directory: executors sharing
      // /tmp
      // would delete each other's native libraries
      try {
        System.setProperty(
            "de.kherud.llama.tmpdir",
            java.nio.file.Files.createTempDirectory("kiln-llama-").toString());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(
            "cannot create a temp directory for llama.cpp's native library", e);
      }
    }
    ModelParameters parameters =
        new ModelParameters()
            .setModel(config.modelPath())
            .setCtxSize(config.contextSize())
            .setParallel(config.slots())
            .setDefragThold(0.1f)
            .setSeed(config.seed() == null ? 42 : config.seed())
            .disableLog();
    if (config.nGpuLayers() > 0 && !GpuProbe.system().gpus().isEmpty()) {
      // only with a GPU on this executor: a CPU build ignores it, a GPU build without a device must
      // not see it
      parameters.setGpuLayers(config.nGpuLayers());
    }
    LlamaModel model = new LlamaModel(parameters);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            config.slots(),
            r -> {
              Thread t = new Thread(r, "kiln-llama-slot");
              t.setDaemon(true);
              return t;
            });
    return new Loaded(model, pool);
  }

  private static List<Completion> complete(
      Loaded loaded, EngineConfig config, List<String> prompts) {
    List<Future<Completion>> futures = new ArrayList<>(prompts.size());
    for (String prompt : prompts) {
      futures.add(loaded.slots().submit(() -> one(loaded.model(), config, prompt)));
    }
    List<Completion> answers = new ArrayList<>(prompts.size());
    for (Future<Completion> f : futures) {
      try {
        answers.add(f.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for completions", e);
      } catch (ExecutionException e) {
        answers.add(Completion.failed("llama.cpp failed: " + e.getCause().getMessage(), 0, 1));
      }
    }
    return answers;
  }

  static Completion one(LlamaModel model, EngineConfig config, String prompt) {
    long start = System.nanoTime();
    if (prompt == null) {
      return Completion.failed(Completion.NO_TEXT, 0, 0);
    }
    // encode() adds no BOS token; the request will
    int promptTokens = model.encode(prompt).length + 1;
    int perSlot = config.contextSize() / config.slots();
    int budget = (int) (perSlot * CONTEXT_SHARE);
    if (promptTokens + config.maxTokens() > budget) {
      return Completion.failed(
          "the prompt has "
              + promptTokens
              + " tokens; with maxTokens "
              + config.maxTokens()
              + " it needs "
              + (promptTokens + config.maxTokens())
              + ", more than "
              + budget
              + " (75% of a slot's context: "
              + config.contextSize()
              + " / "
              + config.slots()
              + " slots)",
          millis(start),
          0);
    }
    InferenceParameters request =
        new InferenceParameters(prompt)
            .setNPredict(config.maxTokens())
            .setTemperature(config.temperature().floatValue())
            .setSeed(config.seed() == null ? 42 : config.seed().intValue())
            .setCachePrompt(false);
    if (Boolean.getBoolean("kiln.llm.ignoreEos")) {
      // random-weight test models stop at once otherwise
      request.setIgnoreEos(true);
    }
    for (int attempt = 1; ; attempt++) {
      try {
        String text = model.complete(request);
        int completionTokens = text.isEmpty() ? 0 : model.encode(text).length;
        return new Completion(
            text,
            promptTokens,
            completionTokens,
            completionTokens >= config.maxTokens() ? "length" : "stop",
            millis(start),
            attempt,
            null);
      } catch (RuntimeException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (attempt == 1 && message.contains("KV size")) {
          continue; // a batch-mate filled the cache: llama.cpp defragments, one retry
        }
        return Completion.failed("llama.cpp failed: " + message, millis(start), attempt);
      }
    }
  }

  private static long millis(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
