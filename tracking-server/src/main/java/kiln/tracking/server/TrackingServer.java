package kiln.tracking.server;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An embedded server speaking MLflow's REST API 2.0 (tracking, model registry, mlflow-artifacts).
 * Its store directory holds {@code mlflow.db} in MLflow 2.17's SQL schema and the artifact tree
 * {@code mlartifacts/<experiment>/<run>/artifacts/...}, so a real MLflow opens the same directory
 * with {@code mlflow server --backend-store-uri sqlite:///<store>/mlflow.db --artifacts-destination
 * <store>/mlartifacts}.
 *
 * <pre>{@code
 * try (TrackingServer server = TrackingServer.builder().storeDirectory(dir).port(0).build().start()) {
 *     new MlflowClient(server.uri().toString()).createExperiment("demo");
 * }
 * }</pre>
 */
public final class TrackingServer implements AutoCloseable {
  public static final String DATABASE_FILE = "mlflow.db";
  public static final String ARTIFACTS_DIRECTORY = "mlartifacts";

  static {
    // Without TCP_NODELAY the JDK server sends headers and body in separate small segments and
    // every response waits for the client's delayed ACK (about 40 ms). Read once, when the JDK's
    // server classes load, so it has to be set before the first HttpServer is created.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final Builder config;
  private HttpServer server;
  private ExecutorService executor;
  private Database database;
  private RequestGuard guard;
  private HttpApi api;

  private TrackingServer(Builder config) {
    this.config = config;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Opens (or creates) the store and starts serving; returns this server for chaining. */
  public synchronized TrackingServer start() throws IOException {
    if (server != null) {
      throw new IllegalStateException("The tracking server is already started at " + uri());
    }
    if (config.authFile == null && !config.allowUnauthenticatedRemote && !isLoopback(config.host)) {
      throw new IllegalStateException(
          "Refusing to serve on "
              + config.host
              + ", beyond loopback, without authentication: give an auth file, bind to"
              + " 127.0.0.1, or allow unauthenticated remote access explicitly.");
    }
    RequestGuard guard =
        new RequestGuard(
            config.allowedHosts != null
                ? withLoopbackNames(config.allowedHosts)
                : RequestGuard.defaultAllowedHosts(config.host),
            config.corsOrigins);
    Files.createDirectories(config.storeDirectory);
    BasicAuth auth = config.authFile == null ? null : BasicAuth.fromFile(config.authFile);
    database = new Database(config.storeDirectory.resolve(DATABASE_FILE));
    try {
      Schema.initialize(database, System.currentTimeMillis());
      ArtifactStore artifacts =
          new ArtifactStore(config.storeDirectory.resolve(ARTIFACTS_DIRECTORY));
      HttpApi api =
          new HttpApi(
              new ExperimentStore(database, System::currentTimeMillis),
              new RunStore(database, System::currentTimeMillis),
              new RunDataStore(database),
              new RegisteredModelStore(database, System::currentTimeMillis),
              new ModelVersionStore(database, System::currentTimeMillis),
              artifacts,
              auth,
              guard,
              config.maxRequestBytes,
              config.maxArtifactBytes);
      server = HttpServer.create(new InetSocketAddress(config.host, config.port), 128);
      server.createContext("/", api);
      AtomicInteger threads = new AtomicInteger();
      executor =
          Executors.newFixedThreadPool(
              config.threads,
              task -> {
                Thread thread = new Thread(task, "kiln-tracking-" + threads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
              });
      server.setExecutor(executor);
      server.start();
      this.guard = guard;
      this.api = api;
      return this;
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The base URI to give MLflow clients on this machine, such as {@code http://127.0.0.1:5000}. */
  public URI uri() {
    if (server == null) {
      throw new IllegalStateException("The tracking server is not started; call start() first.");
    }
    // a wildcard bind is reached from this machine through loopback (see boundAddress())
    String host =
        RequestGuard.isWildcard(config.host)
            ? "127.0.0.1"
            : config.host.contains(":") && !config.host.startsWith("[")
                ? "[" + config.host + "]"
                : config.host;
    return URI.create("http://" + host + ":" + server.getAddress().getPort());
  }

  /**
   * The address the server actually listens on (the wildcard 0.0.0.0 for every interface), with the
   * port the system chose for port 0.
   */
  public InetSocketAddress boundAddress() {
    if (server == null) {
      throw new IllegalStateException("The tracking server is not started; call start() first.");
    }
    return server.getAddress();
  }

  /** True when the server listens on every interface (0.0.0.0 or ::). */
  public boolean listensOnEveryInterface() {
    return boundAddress().getAddress().isAnyLocalAddress();
  }

  /** The Host header names (and name:port pairs) the server answers to besides loopback IPs. */
  public List<String> allowedHosts() {
    if (guard == null) {
      throw new IllegalStateException("The tracking server is not started; call start() first.");
    }
    return guard.allowedHosts();
  }

  /** The browser origins allowed to call the API across origins; empty by default. */
  public List<String> corsOrigins() {
    return List.copyOf(config.corsOrigins);
  }

  /**
   * True when {@code host} keeps the server on this machine: "localhost", a loopback IP literal, or
   * a name that resolves to loopback addresses only. The wildcard 0.0.0.0 and unresolvable names
   * are not.
   */
  public static boolean isLoopback(String host) {
    String h = RequestGuard.normalizeHost(host);
    if (h.equals("localhost") || RequestGuard.isLoopbackLiteral(h)) {
      return true;
    }
    if (RequestGuard.isWildcard(h) || h.isEmpty()) {
      return false;
    }
    try {
      InetAddress[] addresses = InetAddress.getAllByName(h);
      for (InetAddress address : addresses) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return addresses.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static List<String> withLoopbackNames(List<String> hosts) {
    List<String> all = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
    all.addAll(hosts);
    return all;
  }

  /** The API's routes and their request prototypes (tests cover every one). */
  Map<String, org.mlflow_project.google.protobuf.Message> endpoints() {
    return api.endpoints();
  }

  public int port() {
    return uri().getPort();
  }

  public Path storeDirectory() {
    return config.storeDirectory;
  }

  public Path databaseFile() {
    return config.storeDirectory.resolve(DATABASE_FILE);
  }

  public Path artifactRoot() {
    return config.storeDirectory.resolve(ARTIFACTS_DIRECTORY);
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
    if (executor != null) {
      executor.shutdown();
      try {
        executor.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      executor = null;
    }
    if (database != null) {
      database.close();
      database = null;
    }
  }

  /**
   * Settings of a server; every one has a default but the store directory's is the working
   * directory's "kiln-tracking".
   */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 5000;
    private Path storeDirectory = Path.of("kiln-tracking");
    private Path authFile;
    private long maxRequestBytes = 32L * 1024 * 1024;
    private long maxArtifactBytes = 2L * 1024 * 1024 * 1024;
    private int threads = 16;
    private List<String> allowedHosts;
    private List<String> corsOrigins = List.of();
    private boolean allowUnauthenticatedRemote;

    private Builder() {}

    /**
     * The Host headers to answer (against DNS rebinding): names, {@code name:port}, {@code
     * *.domain} or {@code *}; the loopback names always. Null (the default) means the loopback
     * names and the bound host, or for 0.0.0.0 the machine's addresses and name.
     */
    public Builder allowedHosts(List<String> allowedHosts) {
      this.allowedHosts = allowedHosts == null ? null : List.copyOf(allowedHosts);
      return this;
    }

    /**
     * Browser origins ({@code scheme://host[:port]}, or {@code *}) allowed to call the API across
     * origins; none by default, and any other origin's request is refused with 403.
     */
    public Builder corsOrigins(List<String> corsOrigins) {
      this.corsOrigins = List.copyOf(Objects.requireNonNull(corsOrigins, "corsOrigins is null"));
      return this;
    }

    /** Allows binding beyond loopback without an auth file; without it {@link #start()} refuses. */
    public Builder allowUnauthenticatedRemote(boolean allow) {
      this.allowUnauthenticatedRemote = allow;
      return this;
    }

    /** The address to bind; 127.0.0.1 by default so that nothing is exposed unless asked. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host is null");
      return this;
    }

    /** The port; 0 picks a free one (read it back with {@link TrackingServer#uri()}). */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
      }
      this.port = port;
      return this;
    }

    public Builder storeDirectory(Path storeDirectory) {
      this.storeDirectory = Objects.requireNonNull(storeDirectory, "storeDirectory is null");
      return this;
    }

    /** Turns on HTTP basic authentication; see the auth file format in {@code BasicAuth}. */
    public Builder authFile(Path authFile) {
      this.authFile = authFile;
      return this;
    }

    public Builder maxRequestBytes(long maxRequestBytes) {
      if (maxRequestBytes < 1024) {
        throw new IllegalArgumentException(
            "maxRequestBytes must be at least 1024, got " + maxRequestBytes);
      }
      this.maxRequestBytes = maxRequestBytes;
      return this;
    }

    public Builder maxArtifactBytes(long maxArtifactBytes) {
      if (maxArtifactBytes < 1) {
        throw new IllegalArgumentException(
            "maxArtifactBytes must be positive, got " + maxArtifactBytes);
      }
      this.maxArtifactBytes = maxArtifactBytes;
      return this;
    }

    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be positive, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    public TrackingServer build() {
      Builder copy = new Builder();
      copy.host = host;
      copy.port = port;
      copy.storeDirectory = storeDirectory.toAbsolutePath();
      copy.authFile = authFile;
      copy.maxRequestBytes = maxRequestBytes;
      copy.maxArtifactBytes = maxArtifactBytes;
      copy.threads = threads;
      copy.allowedHosts = allowedHosts;
      copy.corsOrigins = corsOrigins;
      copy.allowUnauthenticatedRemote = allowUnauthenticatedRemote;
      return new TrackingServer(copy);
    }
  }
}
