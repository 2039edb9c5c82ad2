package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API key from a file (a mounted secret) beside the environment variable: read, sent, and never
 * in a message; a missing, unreadable or empty file is bad input naming the path and the fix.
 */
class ApiKeysTest {

  private static EngineConfig engine(String baseUrl, String env, String file) {
    return EngineConfig.builder()
        .type(EngineType.OPENAI)
        .model("test-model")
        .temperature(0.0)
        .maxTokens(8)
        .baseUrl(baseUrl)
        .apiKeyEnv(env)
        .timeoutSeconds(5)
        .maxAttempts(1)
        .backoffMillis(0)
        .concurrency(1)
        .apiKeyFile(file)
        .build();
  }

  @Test
  void theKeyComesFromTheFileAndReachesTheEndpoint(@TempDir Path dir) throws Exception {
    Path secret = dir.resolve("openai.key");
    Files.writeString(secret, "  sk-from-file\n");
    try (kiln.llm.FakeOpenAiAccess server = new kiln.llm.FakeOpenAiAccess()) {
      EngineConfig config = engine(server.baseUrl(), null, secret.toString());
      assertThat(ApiKeys.read(config, Map.of())).isEqualTo("sk-from-file");
      List<Completion> answers = Engines.open(config).complete(List.of("hello"));
      assertThat(answers.get(0).error()).isNull();
      assertThat(server.authorizations()).containsExactly("Bearer sk-from-file");
    }
    // the variable still works, and neither means no key
    assertThat(ApiKeys.read(engine("http://127.0.0.1:9/v1", "K", null), Map.of("K", "sk-env")))
        .isEqualTo("sk-env");
    assertThat(ApiKeys.read(engine("http://127.0.0.1:9/v1", null, null), Map.of())).isNull();
  }

  @Test
  void aKeyReadFromAnyVariableOrFileIsMaskedInWhatKilnPrintsFromThenOn(@TempDir Path dir)
      throws Exception {
    // a variable whose name says nothing of a secret, and a file: only reading them tells Kiln
    String fromEnv = "llm-env-Key-3c4d5e6f";
    String fromFile = "llm-file-Key-9a8b7c6d";
    Files.writeString(dir.resolve("key"), fromFile + "\n");
    assertThat(kiln.core.Secrets.redact("echoed " + fromEnv)).contains(fromEnv);
    ApiKeys.read(
        engine("http://127.0.0.1:9/v1", "MY_ENDPOINT", null), Map.of("MY_ENDPOINT", fromEnv));
    ApiKeys.read(engine("http://127.0.0.1:9/v1", null, dir.resolve("key").toString()), Map.of());
    assertThat(kiln.core.Secrets.redact("401: bad key " + fromEnv + ", then " + fromFile))
        .isEqualTo("401: bad key ***, then ***");
  }

  @Test
  void aMissingUnreadableOrEmptyKeyFileIsBadInputNamingThePathNeverTheKey(@TempDir Path dir)
      throws Exception {
    Path missing = dir.resolve("nowhere.key");
    assertThatThrownBy(
            () -> ApiKeys.read(engine("http://127.0.0.1:9/v1", null, missing.toString()), Map.of()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the API key file " + missing + " (engine.apiKeyFile) does not exist")
        .hasMessageContaining("write the endpoint's key into " + missing);
    // a directory cannot be read as a file
    assertThatThrownBy(
            () -> ApiKeys.read(engine("http://127.0.0.1:9/v1", null, dir.toString()), Map.of()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("cannot read the API key file " + dir)
        .hasMessageContaining("readable by the user running Kiln");
    Path empty = dir.resolve("empty.key");
    Files.writeString(empty, " \n");
    assertThatThrownBy(
            () -> ApiKeys.read(engine("http://127.0.0.1:9/v1", null, empty.toString()), Map.of()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the API key file " + empty + " (engine.apiKeyFile) is empty");
    assertThatThrownBy(() -> engine("http://127.0.0.1:9/v1", "K", empty.toString()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine.apiKeyEnv and engine.apiKeyFile are both set");
    assertThatThrownBy(
            () ->
                EngineConfig.builder()
                    .type(EngineType.LOCAL)
                    .modelPath("/m.gguf")
                    .apiKeyFile(empty.toString())
                    .build())
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("engine.apiKeyFile does not apply to the local engine");
  }
}
