package kiln.llm.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import kiln.core.Errors;
import kiln.core.Secrets;
import kiln.llm.EngineConfig;

/**
 * The API key of an {@code openai} engine, from its environment variable or its file. The key is
 * returned, never printed: every message names where the key was looked for, not what it is.
 */
public final class ApiKeys {
  private ApiKeys() {}

  /**
   * The key, or null when the engine sends none; bad input (exit 2) when the variable is unset or
   * the file is missing, unreadable or empty.
   */
  public static String read(EngineConfig engine, Map<String, String> env) {
    if (engine.apiKeyEnv() != null) {
      String value = env.get(engine.apiKeyEnv());
      if (value == null || value.isBlank()) {
        throw Errors.badInput(
            "environment variable " + engine.apiKeyEnv() + " (engine.apiKeyEnv) is not set",
            "export it with the endpoint's API key (on a cluster, also as spark.executorEnv."
                + engine.apiKeyEnv()
                + ")");
      }
      // whatever the variable's name, its value is masked in every error Kiln prints
      Secrets.remember(value);
      return value;
    }
    if (engine.apiKeyFile() != null) {
      Path file = Path.of(engine.apiKeyFile());
      String value;
      try {
        value = Files.readString(file, StandardCharsets.UTF_8).strip();
      } catch (NoSuchFileException e) {
        throw Errors.badInput(
            "the API key file " + file + " (engine.apiKeyFile) does not exist",
            "write the endpoint's key into "
                + file
                + " (one line; chmod 600), on the driver and every executor, or set"
                + " engine.apiKeyEnv instead");
      } catch (IOException | SecurityException e) {
        // the exception's message names the file and the reason, never its content
        throw Errors.badInput(
            "cannot read the API key file "
                + file
                + " (engine.apiKeyFile): "
                + e.getClass().getSimpleName(),
            "make "
                + file
                + " readable by the user running Kiln (e.g. chmod 600 and chown to that user), or"
                + " set engine.apiKeyEnv instead");
      }
      if (value.isEmpty()) {
        throw Errors.badInput(
            "the API key file " + file + " (engine.apiKeyFile) is empty",
            "write the endpoint's key into " + file);
      }
      Secrets.remember(value);
      return value;
    }
    return null;
  }
}
