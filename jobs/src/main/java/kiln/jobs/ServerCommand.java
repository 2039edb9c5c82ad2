package kiln.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.tracking.server.TrackingServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description = {
      "Run Kiln's MLflow-compatible tracking and registry server until interrupted.",
      "Its store is the work directory's mlflow/ (where jobs' embedded server keeps their runs), in MLflow's own",
      "schema: `mlflow ui --backend-store-uri sqlite:///WORKDIR/mlflow/mlflow.db` opens it too."
    })
final class ServerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin WorkdirOptions workdirOptions;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      paramLabel = "HOST",
      description = "Address to bind (default 127.0.0.1).")
  String host;

  @Option(
      names = "--port",
      defaultValue = "5000",
      paramLabel = "PORT",
      description = "Port (default 5000; 0 picks a free one).")
  int port;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      description = "Database and artifacts (default WORKDIR/mlflow).")
  Path store;

  @Option(
      names = "--auth-file",
      paramLabel = "FILE",
      description = "HTTP basic auth users, one `user:password` or `user:sha256:HEX` a line.")
  Path authFile;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw Errors.badInput("--port " + port + " is not a port number", "give 0 to 65535");
    }
    if (authFile != null && !Files.isRegularFile(authFile)) {
      throw Errors.badInput(
          "--auth-file " + authFile + " does not exist",
          "give an existing file, or leave the option out");
    }
    KilnSettings settings = workdirOptions.settings(null);
    Path directory = store != null ? store : settings.trackingStore();
    TrackingServer.Builder builder =
        TrackingServer.builder().host(host).port(port).storeDirectory(directory);
    if (authFile != null) {
      builder.authFile(authFile);
    }
    TrackingServer server;
    try {
      server = builder.build().start();
    } catch (IllegalArgumentException e) {
      // the auth file's lines are the only input the server itself checks
      throw Errors.badInput(
          e.getMessage(),
          "write one `user:password` or `user:sha256:HEX` a line in --auth-file",
          e);
    } catch (IOException | UncheckedIOException | IllegalStateException e) {
      throw Errors.environment(
          "cannot serve "
              + directory.toAbsolutePath()
              + " on "
              + host
              + ":"
              + port
              + ": "
              + e.getMessage(),
          "choose another --port or stop what uses this one, and check that the store directory is writable",
          e);
    }
    Thread shutdown = new Thread(server::close, "kiln-server-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
    console.result(
        "Kiln tracking server at "
            + server.uri()
            + " (store "
            + server.storeDirectory()
            + (authFile != null ? ", basic auth on" : "")
            + "); Ctrl-C stops it.");
    try {
      // Ctrl-C runs the shutdown hook, which closes the server; an interrupt (a test, an embedding)
      // ends here
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      server.close();
      try {
        Runtime.getRuntime().removeShutdownHook(shutdown);
      } catch (IllegalStateException shuttingDown) {
        // the JVM is exiting and the hook closes the server
      }
    }
    return 0;
  }
}
