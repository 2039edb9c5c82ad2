package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Spark NLP's AutoGGUFModel is detected, never assumed, and the detection never throws: on this
 * machine (JSL's llama.cpp binding is not served here) it is absent; stand-in classes of this test
 * play a binding whose native library fails to load and one that loads (a stated fake: the real
 * binding cannot be installed here).
 */
class SparkNlpGgufTest {

  /** A binding whose static initializer fails as a missing native library does. */
  static final class NativeMissing {
    static {
      if (Boolean.TRUE) {
        throw new UnsatisfiedLinkError("no jllama in java.library.path");
      }
    }
  }

  /** A binding whose static initializer throws an exception. */
  static final class NativeBroken {
    static {
      if (Boolean.TRUE) {
        throw new IllegalStateException("unsupported CPU");
      }
    }
  }

  /** A binding that loads. */
  static final class NativeLoads {}

  @Test
  void onThisMachineTheAnnotatorIsThereItsNativeBindingIsNotAndNothingThrows() {
    SparkNlpGguf.Detection detection = SparkNlpGguf.detect();
    assertThat(detection.available()).isFalse();
    assertThat(detection.detail())
        .contains("com.johnsnowlabs.nlp.llama.LlamaModel is not on the class path")
        .contains("jsl-llamacpp-cpu_2.12");
    // the same answer again, from the cache
    assertThat(SparkNlpGguf.detect()).isEqualTo(detection);
  }

  @Test
  void aMissingAnnotatorAFailingNativeLibraryAndALoadedOneAreToldApart() {
    ClassLoader loader = getClass().getClassLoader();
    String annotator = SparkNlpGguf.ANNOTATOR;
    assertThat(
            SparkNlpGguf.detect(loader, "com.example.NoSuchAnnotator", NativeLoads.class.getName()))
        .isEqualTo(
            new SparkNlpGguf.Detection(
                false,
                "Spark NLP's AutoGGUFModel is not on the class path (com.example.NoSuchAnnotator)"));
    SparkNlpGguf.Detection missing =
        SparkNlpGguf.detect(loader, annotator, NativeMissing.class.getName());
    assertThat(missing.available()).isFalse();
    assertThat(missing.detail())
        .isEqualTo(
            "AutoGGUFModel's native llama.cpp library did not load: UnsatisfiedLinkError: no jllama"
                + " in java.library.path");
    SparkNlpGguf.Detection broken =
        SparkNlpGguf.detect(loader, annotator, NativeBroken.class.getName());
    assertThat(broken.available()).isFalse();
    assertThat(broken.detail()).startsWith("AutoGGUFModel's native llama.cpp library did not load");
    // a class whose initializer failed once fails again as NoClassDefFoundError: still no throw
    assertThat(SparkNlpGguf.detect(loader, annotator, NativeMissing.class.getName()).available())
        .isFalse();
    assertThat(SparkNlpGguf.detect(loader, annotator, NativeLoads.class.getName()).available())
        .isTrue();
  }
}
