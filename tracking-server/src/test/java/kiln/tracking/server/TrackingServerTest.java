package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's builder and lifecycle; its command line is `kiln server` (jobs' ServerCommandTest).
 */
class TrackingServerTest {
  @TempDir Path store;

  @Test
  void defaultsBindLoopbackAndPortZeroPicksAFreePort() throws Exception {
    try (TrackingServer server =
        TrackingServer.builder().storeDirectory(store).port(0).build().start()) {
      assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
      assertThat(server.port()).isPositive();
      assertThat(server.databaseFile()).exists();
      assertThatThrownBy(server::start).hasMessageContaining("already started");
    }
    assertThatThrownBy(() -> TrackingServer.builder().port(70_000))
        .hasMessage("port must be between 0 and 65535, got 70000");
  }
}
