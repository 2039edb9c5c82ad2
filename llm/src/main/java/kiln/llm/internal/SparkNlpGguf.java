package kiln.llm.internal;

/**
 * Whether Spark NLP's {@code AutoGGUFModel} can run in this JVM. Spark NLP 5.5.3 ships the
 * annotator, but it runs GGUF models through John Snow Labs' own llama.cpp binding ({@code
 * com.johnsnowlabs.nlp:jsl-llamacpp-cpu_2.12} or {@code -gpu}, which loads a native library);
 * without it the annotator fails with {@code NoClassDefFoundError} at its first use. So it is
 * detected, never assumed: the annotator's class is looked up, then the binding's class is
 * initialized (its static initializer loads the native library), each guarded so that nothing it
 * throws, a native {@link LinkageError} included, escapes. The result is computed once per JVM.
 */
public final class SparkNlpGguf {
  static final String ANNOTATOR = "com.johnsnowlabs.nlp.annotators.seq2seq.AutoGGUFModel";
  static final String BINDING = "com.johnsnowlabs.nlp.llama.LlamaModel";

  /**
   * @param available the annotator and its native binding both loaded
   * @param detail what was found, or why it is not usable (for the log and the run's params)
   */
  public record Detection(boolean available, String detail) {}

  private static volatile Detection cached;

  /** A test's forced detection (see {@link #force}); null: the real one. */
  private static volatile Detection forced;

  private SparkNlpGguf() {}

  /**
   * Whether a local engine runs on Spark NLP's AutoGGUFModel: {@code runtime: kiln} never, {@code
   * spark-nlp} always (bad input when the binding is absent: nothing runs), {@code auto} when the
   * binding is detected. Decided on the driver, before any row is read.
   */
  public static boolean use(kiln.llm.EngineConfig engine) {
    if (engine.type() != kiln.llm.EngineType.LOCAL
        || kiln.llm.EngineConfig.RUNTIME_KILN.equals(engine.runtime())) {
      return false;
    }
    Detection d = detect();
    if (kiln.llm.EngineConfig.RUNTIME_SPARK_NLP.equals(engine.runtime()) && !d.available()) {
      throw kiln.core.Errors.badInput(
          "engine.runtime is spark-nlp, but Spark NLP's AutoGGUFModel cannot run here: "
              + d.detail(),
          "put John Snow Labs' llama.cpp binding on the driver's and executors' class path"
              + " (com.johnsnowlabs.nlp:jsl-llamacpp-cpu_2.12, or -gpu_2.12, the version Spark NLP"
              + " 5.5.3 names), or write runtime: auto or kiln to run Kiln's llama.cpp");
    }
    return d.available();
  }

  /**
   * For tests only: this JVM's detection is {@code detection} until the returned handle is closed,
   * so that the AutoGGUFModel path can be built where its native binding is absent.
   */
  public static AutoCloseable force(Detection detection) {
    forced = detection;
    return () -> forced = null;
  }

  /** Whether a test forced the detection (then AutoGGUFModel is built but never loaded). */
  static boolean forced() {
    return forced != null;
  }

  /** The detection for this JVM's class path (computed on first use). */
  public static Detection detect() {
    Detection f = forced;
    if (f != null) {
      return f;
    }
    Detection d = cached;
    if (d == null) {
      d = detect(SparkNlpGguf.class.getClassLoader(), ANNOTATOR, BINDING);
      cached = d;
    }
    return d;
  }

  static Detection detect(ClassLoader loader, String annotator, String binding) {
    try {
      Class.forName(annotator, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return new Detection(
          false, "Spark NLP's AutoGGUFModel is not on the class path (" + annotator + ")");
    }
    try {
      Class.forName(binding, true, loader);
    } catch (ClassNotFoundException | NoClassDefFoundError e) {
      return new Detection(
          false,
          "AutoGGUFModel's llama.cpp binding "
              + binding
              + " is not on the class path (Maven: com.johnsnowlabs.nlp:jsl-llamacpp-cpu_2.12 or"
              + " -gpu_2.12)");
    } catch (LinkageError e) {
      // UnsatisfiedLinkError, ExceptionInInitializerError: the binding is there, its native
      // library is not usable on this machine
      return new Detection(
          false,
          "AutoGGUFModel's native llama.cpp library did not load: "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage());
    } catch (RuntimeException e) {
      return new Detection(
          false,
          "AutoGGUFModel's llama.cpp binding failed to initialize: "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage());
    }
    return new Detection(true, "Spark NLP's AutoGGUFModel and its native llama.cpp binding loaded");
  }
}
