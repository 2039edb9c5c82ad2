package kiln.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class ErrorsTest {
  @Test
  void aWriteRefusedByTheDataIsBadInput() {
    KilnException error =
        Errors.writeFailed(
            "/t",
            "the table stays at version 0",
            new RuntimeException("Job aborted", new RuntimeException("row 900 is bad")));
    assertThat(error).isInstanceOf(BadInputException.class);
    assertThat(error.getMessage()).contains("row 900 is bad");
  }

  @Test
  void aWriteThatStorageFailedIsAnEnvironmentErrorThatARetryMayMend() {
    KilnException error =
        Errors.writeFailed(
            "s3a://b/t",
            "no table was created",
            new RuntimeException("Job aborted", new IOException("Connection reset by peer")));
    assertThat(error).isInstanceOf(EnvironmentException.class);
    assertThat(error.getMessage())
        .contains("Connection reset by peer")
        .contains("run the job again");
  }

  @Test
  void aLostExecutorIsAnEnvironmentError() {
    KilnException error =
        Errors.writeFailed(
            "/t",
            "no table was created",
            new RuntimeException(
                "Job aborted due to stage failure: ExecutorLostFailure (executor 1 exited)"));
    assertThat(error).isInstanceOf(EnvironmentException.class);
  }

  @Test
  void aWriterThatLostTheRaceToAnotherIsAnEnvironmentErrorThatARetryMends() {
    KilnException error =
        Errors.writeFailed(
            "/t",
            "no table was created",
            new RuntimeException(
                "wrapped",
                new io.delta.exceptions.ConcurrentAppendException("Files were added by another")));
    assertThat(error).isInstanceOf(EnvironmentException.class);
    assertThat(error.getMessage())
        .contains("another job committed to /t")
        .contains("ConcurrentAppendException")
        .contains("run the job again");
  }
}
