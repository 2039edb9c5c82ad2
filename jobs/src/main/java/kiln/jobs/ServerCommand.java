package kiln.jobs;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import kiln.core.Errors;
import kiln.tracking.server.TrackingServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "server", mixinStandardHelpOptions = true,
    description = {"Run Kiln's MLflow-compatible tracking and registry server until interrupted.",
        "Its SQLite store is in MLflow's own schema: `mlflow ui --backend-store-uri sqlite:///STORE/mlflow.db` opens it."})
final class ServerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default 127.0.0.1).")
  String host;

  @Option(names = "--port", defaultValue = "5000", description = "Port (default 5000; 0 picks a free one).")
  int port;

  @Option(names = "--store", defaultValue = ".kiln/mlflow", paramLabel = "DIR",
      description = "Database and artifacts (default .kiln/mlflow, where jobs' embedded server keeps them).")
  Path store;

  @Option(names = "--auth-file", paramLabel = "FILE",
      description = "HTTP basic auth users, one `user:password` or `user:sha256:HEX` a line.")
  Path authFile;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw Errors.badInput("--port " + port + " is not a port number", "give 0 to 65535");
    }
    if (authFile != null && !authFile.toFile().isFile()) {
      throw Errors.badInput("--auth-file " + authFile + " does not exist", "give an existing file, or leave the option out");
    }
    TrackingServer.Builder builder = TrackingServer.builder().host(host).port(port).storeDirectory(store);
    if (authFile != null) {
      builder.authFile(authFile);
    }
    TrackingServer server;
    try {
      server = builder.build().start();
    } catch (java.net.BindException e) {
      throw Errors.badInput("cannot listen on " + host + ":" + port + ": " + e.getMessage(),
          "choose another --port, or stop what uses this one");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }));
    Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
    console.result("Kiln tracking server at " + server.uri() + " (store " + store.toAbsolutePath()
        + (authFile != null ? ", basic auth on" : "") + "); Ctrl-C stops it.");
    stopped.await();
    return 0;
  }
}
