package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * bin/kiln pipes the JVM's stderr through bin/kiln-drop-chatter unless --verbose: XGBoost's native
 * per-round evaluation goes, Kiln's messages and Spark's progress bar stay, byte for byte.
 */
class DropChatterTest {
  private static final Path SCRIPT =
      Path.of("").toAbsolutePath().getParent().resolve("bin/kiln-drop-chatter");

  private static String filter(String input) throws Exception {
    Process process = new ProcessBuilder("perl", SCRIPT.toString()).start();
    try (OutputStream in = process.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    process.getInputStream().transferTo(out);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void dropsXgboostsNativeRoundLinesWithTheirBlankLinesAndKeepsEverythingElse() throws Exception {
    String input =
        "[kiln] training classifier 'delays' on features\n"
            + "\r[Stage 2:>     (0 + 2) / 4]\r\r[Stage 2:=====>   (2 + 2) / 4]\r"
            + "[06:49:14] Task 0 got rank 0\n"
            + "[06:41:32] [0]\ttrain-logloss:0.5198\teval-logloss:0.5244\n\n"
            + "[06:41:32] [1]\ttrain-rmse:0.5050\tvalidation-rmse:0.5143\n\n"
            + "[06:49:21] early stopping after 10 rounds away from the best iteration\n\n"
            + "[06:49:21] WARNING: a native warning stays\n"
            + "\n"
            + "Registered delays version 2\n"
            + "no newline at the end";

    assertThat(filter(input))
        .isEqualTo(
            "[kiln] training classifier 'delays' on features\n"
                + "\r[Stage 2:>     (0 + 2) / 4]\r\r[Stage 2:=====>   (2 + 2) / 4]\r"
                + "[06:49:21] WARNING: a native warning stays\n"
                + "\n"
                + "Registered delays version 2\n"
                + "no newline at the end");
  }
}
