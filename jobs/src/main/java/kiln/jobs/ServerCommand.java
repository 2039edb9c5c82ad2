package kiln.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
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
      description =
          "HTTP basic auth users, one `user:password` or `user:sha256:HEX` a line; needed to bind"
              + " beyond loopback.")
  Path authFile;

  @Option(
      names = "--allow-unauthenticated-remote",
      description =
          "Bind beyond loopback without --auth-file (anyone who reaches the port reads and"
              + " changes runs and models); a warning is printed.")
  boolean allowUnauthenticatedRemote;

  @Option(
      names = "--allowed-hosts",
      split = ",",
      paramLabel = "HOSTS",
      description =
          "Host headers to answer, against DNS rebinding: NAME, NAME:PORT, *.DOMAIN or *"
              + " (default: loopback names and the bound host; for 0.0.0.0 the machine's addresses"
              + " and name).")
  List<String> allowedHosts;

  @Option(
      names = "--cors-origins",
      split = ",",
      paramLabel = "ORIGINS",
      description =
          "Browser origins (scheme://host[:port], or *) allowed to call the API across origins"
              + " (default none: other origins get 403).")
  List<String> corsOrigins = new ArrayList<>();

  private static final Pattern HOST_PATTERN =
      Pattern.compile("\\*|(\\*\\.)?[A-Za-z0-9._-]+(:\\d{1,5})?|\\[?[0-9A-Fa-f:.]+\\]?");
  private static final Pattern ORIGIN_PATTERN =
      Pattern.compile("\\*|https?://[A-Za-z0-9._\\[\\]:-]+");

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "THIS-MACHINE";
    }
  }

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
    if (allowedHosts != null) {
      for (String allowed : allowedHosts) {
        if (!HOST_PATTERN.matcher(allowed.strip()).matches()) {
          throw Errors.badInput(
              "--allowed-hosts entry '" + allowed + "' is not a host name",
              "give NAME, NAME:PORT, *.DOMAIN or *, separated by commas");
        }
      }
    }
    for (String origin : corsOrigins) {
      if (!ORIGIN_PATTERN.matcher(origin.strip()).matches()) {
        throw Errors.badInput(
            "--cors-origins entry '" + origin + "' is not an origin",
            "give scheme://host[:port] as a browser sends it (such as https://notebook.example:8888)"
                + " or *, separated by commas");
      }
    }
    Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
    if (authFile == null && !TrackingServer.isLoopback(host)) {
      if (!allowUnauthenticatedRemote) {
        throw Errors.badInput(
            "--host "
                + host
                + " would expose the tracking server beyond this machine without authentication:"
                + " anyone who reaches the port could read and change runs and models",
            "give --auth-file FILE (one `user:password` a line), or bind to --host 127.0.0.1, or"
                + " pass --allow-unauthenticated-remote to accept the risk");
      }
      console.step(
          "WARNING: serving on "
              + host
              + " beyond loopback WITHOUT authentication (--allow-unauthenticated-remote): anyone"
              + " who reaches the port can read and change runs and models; give --auth-file to"
              + " require credentials.");
    }
    KilnSettings settings = workdirOptions.settings(null);
    Path directory = store != null ? store : settings.trackingStore();
    TrackingServer.Builder builder =
        TrackingServer.builder().host(host).port(port).storeDirectory(directory);
    if (authFile != null) {
      builder.authFile(authFile);
    }
    builder
        .allowUnauthenticatedRemote(allowUnauthenticatedRemote)
        .allowedHosts(
            allowedHosts == null ? null : allowedHosts.stream().map(String::strip).toList())
        .corsOrigins(corsOrigins.stream().map(String::strip).toList());
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
    String details =
        " (store "
            + server.storeDirectory()
            + (authFile != null ? ", basic auth on" : "")
            + "); Ctrl-C stops it.";
    if (server.listensOnEveryInterface()) {
      int boundPort = server.boundAddress().getPort();
      console.result(
          "Kiln tracking server listening on every interface ("
              + host
              + ":"
              + boundPort
              + "): "
              + server.uri()
              + " from this machine, http://"
              + hostName()
              + ":"
              + boundPort
              + " from others"
              + details);
    } else {
      console.result("Kiln tracking server at " + server.uri() + details);
    }
    console.step(
        "Host headers answered: loopback IPs, "
            + String.join(", ", server.allowedHosts())
            + "; cross-origin requests: "
            + (server.corsOrigins().isEmpty()
                ? "refused (list origins in --cors-origins)"
                : "from " + String.join(", ", server.corsOrigins()) + " only"));
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
