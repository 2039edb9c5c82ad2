package kiln.llm;

import java.nio.file.Files;
import java.nio.file.Path;
import kiln.core.Errors;
import kiln.llm.internal.Engines;

/**
 * Token counts by a GGUF model's own tokenizer, the one {@code kiln llm run}'s local engine counts
 * with (Kiln's llama.cpp binding; the model is loaded once per JVM with a small context and only
 * encodes). For measures of texts in tokens the model would read, e.g. prompt drift.
 */
public final class GgufTokenizer {
  private GgufTokenizer() {}

  /** On the driver: the file exists and is a GGUF file (its magic), else bad input. */
  public static void check(String modelPath) {
    Path file = Path.of(modelPath);
    byte[] magic = new byte[4];
    try (var in = Files.newInputStream(file)) {
      if (in.readNBytes(magic, 0, 4) == 4
          && magic[0] == 'G'
          && magic[1] == 'G'
          && magic[2] == 'U'
          && magic[3] == 'F') {
        return;
      }
    } catch (java.io.IOException e) {
      throw Errors.badInput(
          "the tokenizer's model " + modelPath + " cannot be read: " + Errors.rootMessage(e),
          "give the GGUF file of the job's local engine (its engine.modelPath)");
    }
    throw Errors.badInput(
        "the tokenizer's model " + modelPath + " is not a GGUF file",
        "give the GGUF file of the job's local engine (its engine.modelPath)");
  }

  /** {@code text}'s tokens (0 for the empty text), without a begin-of-sequence token. */
  public static int count(String modelPath, String text) {
    return Engines.tokens(modelPath, text);
  }
}
