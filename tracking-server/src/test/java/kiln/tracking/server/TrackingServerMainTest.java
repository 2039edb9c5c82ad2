package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrackingServerMainTest {
    @TempDir
    Path store;

    private static int run(ByteArrayOutputStream err, String... args) {
        return TrackingServer.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhy() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(run(err, "--port", "http")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--port must be a number, got 'http'").contains("Usage: kiln server");
        err.reset();
        assertThat(run(err, "--colour", "red")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unknown option --colour");
        err.reset();
        assertThat(run(err, "--store")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("needs a value");
        assertThat(run(err, "--help")).isZero();
    }

    @Test
    void defaultsBindLoopbackAndPortZeroPicksAFreePort() throws Exception {
        try (TrackingServer server = TrackingServer.builder().storeDirectory(store).port(0).build().start()) {
            assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
            assertThat(server.port()).isPositive();
            assertThat(server.databaseFile()).exists();
            assertThatThrownBy(server::start).hasMessageContaining("already started");
        }
        assertThatThrownBy(() -> TrackingServer.builder().port(70_000)).hasMessage("port must be between 0 and 65535, got 70000");
    }
}
