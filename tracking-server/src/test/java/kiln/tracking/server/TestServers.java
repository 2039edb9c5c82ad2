package kiln.tracking.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.mlflow.tracking.MlflowClient;

/** Starts servers for tests: loopback, a free port, a store in the given temporary directory. */
final class TestServers {
  private TestServers() {}

  static TrackingServer start(Path store) {
    return start(TrackingServer.builder().storeDirectory(store));
  }

  static TrackingServer start(TrackingServer.Builder builder) {
    try {
      return builder.host("127.0.0.1").port(0).threads(8).build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static MlflowClient client(TrackingServer server) {
    return new MlflowClient(server.uri().toString());
  }
}
