package kiln.llm.internal;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
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
    return open(config, java.util.Optional.empty());
  }

  /**
   * With a schema, every request's decoding is constrained by the llama.cpp grammar derived from it
   * (llama.cpp's own JSON-schema-to-grammar converter): the model can only emit JSON the grammar
   * accepts, and a completion cut off by {@code maxTokens} is the one way left to miss the schema.
   */
  static Engine open(EngineConfig config, java.util.Optional<OutputSchema> schema) {
    String key =
        config.modelPath()
            + "|"
            + config.contextSize()
            + "|"
            + config.slots()
            + "|"
            + config.nGpuLayers();
    Loaded loaded = MODELS.computeIfAbsent(key, k -> load(config));
    String grammar = schema.map(LocalEngines::grammar).orElse(null);
    return prompts -> complete(loaded, config, grammar, prompts);
  }

  /**
   * Gives this JVM its own directory for llama.cpp's native library before the library is first
   * loaded (by a model or by the grammar converter): the library deletes files named llama* and
   * jllama* in its temp directory, so JVMs sharing /tmp would delete each other's.
   */
  private static synchronized void ownTmpdir() {
    if (System.getProperty("de.kherud.llama.tmpdir") == null) {
      try {
        System.setProperty(
            "de.kherud.llama.tmpdir",
            java.nio.file.Files.createTempDirectory("kiln-llama-").toString());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(
            "cannot create a temp directory for llama.cpp's native library", e);
      }
    }
  }

  private static Loaded load(EngineConfig config) {
    ownTmpdir();
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

  private static final Map<String, String> GRAMMARS = new ConcurrentHashMap<>();

  /**
   * The GBNF grammar of a JSON schema, by llama.cpp's converter (loads the native library); a
   * schema it cannot convert is bad input, found on the driver before any row is sent.
   */
  public static String grammar(OutputSchema schema) {
    return GRAMMARS.computeIfAbsent(
        schema.text(),
        text -> {
          ownTmpdir();
          try {
            return LlamaModel.jsonSchemaToGrammar(text);
          } catch (RuntimeException e) {
            throw kiln.core.Errors.badInput(
                "llama.cpp cannot turn jsonSchema into a grammar: " + e.getMessage(),
                "use the schema features llama.cpp's json-schema-to-grammar supports (types,"
                    + " properties, required, enum, const, items, min/maxItems, patterns)");
          }
        });
  }

  private static List<Completion> complete(
      Loaded loaded, EngineConfig config, String grammar, List<String> prompts) {
    List<Future<Completion>> futures = new ArrayList<>(prompts.size());
    for (String prompt : prompts) {
      futures.add(loaded.slots().submit(() -> one(loaded.model(), config, grammar, prompt)));
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

  static Completion one(LlamaModel model, EngineConfig config, String grammar, String prompt) {
    long start = System.nanoTime();
    if (prompt == null) {
      return Completion.failed(Completion.NO_TEXT, 0, 0);
    }
    int promptTokens = promptTokens(model, prompt);
    String tooLong = tooLong(promptTokens, config);
    if (tooLong != null) {
      return Completion.failed(tooLong, millis(start), 0);
    }
    InferenceParameters request =
        new InferenceParameters(prompt)
            .setNPredict(config.maxTokens())
            .setTemperature(config.temperature().floatValue())
            .setSeed(config.seed() == null ? 42 : config.seed().intValue())
            .setCachePrompt(false);
    if (grammar != null) {
      // never with ignoreEos: once the grammar is complete only end-of-generation is allowed
      request.setGrammar(grammar);
    } else if (Boolean.getBoolean("kiln.llm.ignoreEos")) {
      // random-weight test models stop at once otherwise
      request.setIgnoreEos(true);
    }
    for (int attempt = 1; ; attempt++) {
      try {
        Generated generated = generate(model, request);
        return new Completion(
            generated.text(),
            promptTokens,
            generated.tokens(),
            generated.tokens() >= config.maxTokens() ? "length" : "stop",
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

  /** A prompt's tokens as the request counts them: encode() adds no BOS token, the request will. */
  static int promptTokens(LlamaModel model, String prompt) {
    return model.encode(prompt).length + 1;
  }

  /**
   * Why a prompt of {@code promptTokens} must not be sent (null when it fits): with {@code
   * maxTokens} it needs more than 75% of a slot's context, and llama.cpp would fail every request
   * of the slot batch with it.
   */
  static String tooLong(int promptTokens, EngineConfig config) {
    int perSlot = config.contextSize() / config.slots();
    int budget = (int) (perSlot * CONTEXT_SHARE);
    if (promptTokens + config.maxTokens() <= budget) {
      return null;
    }
    return "the prompt has "
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
        + " slots)";
  }

  private static final Map<String, LlamaModel> TOKENIZERS = new ConcurrentHashMap<>();

  /**
   * Kiln's tokenizer for a GGUF file: the file loaded by Kiln's llama.cpp binding with a small
   * context, once per JVM, used only to encode (the counts Kiln's local engine reports). The
   * AutoGGUFModel path counts with it, since AutoGGUFModel reports no token counts.
   */
  static LlamaModel tokenizer(String modelPath) {
    return TOKENIZERS.computeIfAbsent(
        modelPath,
        path -> {
          ownTmpdir();
          return new LlamaModel(
              new ModelParameters().setModel(path).setCtxSize(64).setParallel(1).disableLog());
        });
  }

  /**
   * {@code text}'s tokens by the GGUF file's own tokenizer (the one the local engine counts prompts
   * with, without the begin-of-sequence token a prompt gets).
   */
  static int textTokens(String modelPath, String text) {
    return text.isEmpty() ? 0 : tokenizer(modelPath).encode(text).length;
  }

  /** A completion's text and the number of tokens llama.cpp generated for it. */
  record Generated(String text, int tokens) {}

  /**
   * Streams the completion and counts the tokens llama.cpp generated, since {@code complete()}
   * reports no counts and re-encoding the text can count more tokens than were generated (and more
   * than {@code maxTokens}). llama.cpp's server loop sends one partial result per generated token
   * (the end-of-generation token included, with empty text), then a final result with no text: the
   * count is the results before the final one. A token that ends inside a multi-byte character is
   * held back and sent with the next one, so such a token is not counted: the count never exceeds
   * what was generated, nor {@code maxTokens}.
   */
  static Generated generate(LlamaModel model, InferenceParameters request) {
    StringBuilder text = new StringBuilder();
    int results = 0;
    for (LlamaOutput output : model.generate(request)) {
      text.append(output.text);
      results++;
    }
    return new Generated(text.toString(), Math.max(0, results - 1));
  }

  private static long millis(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
