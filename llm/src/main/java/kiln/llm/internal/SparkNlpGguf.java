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

  private SparkNlpGguf() {}

  /** The detection for this JVM's class path (computed on first use). */
  public static Detection detect() {
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
