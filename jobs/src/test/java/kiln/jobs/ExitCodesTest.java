package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import kiln.core.Errors;
import kiln.core.tracking.TrackingException;
import org.junit.jupiter.api.Test;

/** The exit code comes from the error's cause type, in Kiln's handler only. */
class ExitCodesTest {
  @Test
  void aFailedCheckIsOne() {
    assertThat(Kiln.exitCode(Errors.checkFailed("contract broken: a.maximum", "fix the data")))
        .isEqualTo(1);
  }

  @Test
  void badInputNotFoundAndConflictAreTwo() {
    assertThat(Kiln.exitCode(Errors.badInput("--limit -1 is negative", "give 0 or more")))
        .isEqualTo(2);
    assertThat(Kiln.exitCode(Errors.notADeltaTable("/t"))).isEqualTo(2);
    assertThat(Kiln.exitCode(Errors.conflict(".kiln/demo exists", "pass --workdir"))).isEqualTo(2);
  }

  @Test
  void theEnvironmentATrackingOutageAndAnythingElseAreThree() {
    assertThat(Kiln.exitCode(Errors.environment("no GPU", "use the local profile"))).isEqualTo(3);
    assertThat(Kiln.exitCode(new TrackingException("unreachable", true, null))).isEqualTo(3);
    assertThat(Kiln.exitCode(new UncheckedIOException(new IOException("disk full")))).isEqualTo(3);
    assertThat(Kiln.exitCode(new IllegalStateException("a bug"))).isEqualTo(3);
  }

  @Test
  void aKilnErrorWrappedByALibraryKeepsItsCode() {
    assertThat(
            Kiln.exitCode(
                new RuntimeException("spark task failed", Errors.badInput("bad value", "fix it"))))
        .isEqualTo(2);
  }
}
