package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kiln.tracking.server.TrackingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 7: real jobs in their own JVMs (so that the secrets are real environment
 * variables) with a tracking password, S3 keys in the environment and in the Spark conf, and an LLM
 * API key; then every place Kiln writes to is searched for the secret values: the processes' stdout
 * and stderr, every row of every table of the tracking store (params, tags, metrics, inputs), and
 * every file under the work directory, the tables and the artifact store (cost records with the
 * Spark conf Kiln keeps, lineage, spool, Delta logs). None may hold any of them.
 */
class SecretsTest {
  private static final String TRACKING_PASSWORD = "trk-Pw-5f1c9e0b7a";
  private static final String AWS_KEY_ID = "AKIAKILNSECRET0001";
  private static final String AWS_SECRET = "aws-Sk-8d2b6c4e1f9a3b7c";
  private static final String S3A_ACCESS = "AKIAKILNCONF0002";
  private static final String S3A_SECRET = "s3a-Sk-0e9d8c7b6a5f4e3d";
  private static final String LLM_KEY = "sk-llm-Key-7a6b5c4d3e2f";
  private static final String URI_PASSWORD = "uri-Pw-1b2c3d4e5f";
  private static final List<String> SECRETS =
      List.of(
          TRACKING_PASSWORD, AWS_KEY_ID, AWS_SECRET, S3A_ACCESS, S3A_SECRET, LLM_KEY, URI_PASSWORD);

  @TempDir Path dir;

  record Ran(List<String> command, int exitCode, String out, String err) {}

  /** `kiln ARGS` in a JVM of its own, with the test's classpath and these variables set. */
  private Ran kiln(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      // the test JVM's module and Spark flags; a smaller heap than the test JVM's
      if (!flag.startsWith("-Xmx") && !flag.startsWith("-javaagent")) {
        command.add(flag);
      }
    }
    command.add("-Xmx1g");
    command.add("-cp");
    command.add(
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    command.add("kiln.jobs.Kiln");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    builder.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process process = builder.start();
    if (!process.waitFor(300, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("kiln " + String.join(" ", args) + " did not end in 300 s");
    }
    return new Ran(
        List.of(args), process.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void noSecretReachesLogsParamsTagsErrorsOrAnythingKilnWrites() throws Exception {
    Path users = dir.resolve("users");
    Files.writeString(users, "alice:" + TRACKING_PASSWORD + "\n");
    List<String> llmAuthorizations = new CopyOnWriteArrayList<>();
    HttpServer llm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    llm.createContext(
        "/v1/chat/completions",
        exchange -> {
          llmAuthorizations.add(
              String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
          exchange.getRequestBody().readAllBytes();
          byte[] body =
              ("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"ham\"},"
                      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,"
                      + "\"completion_tokens\":1}}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    llm.start();
    Path store = dir.resolve("mlflow");
    Path workdir = dir.resolve("work");
    List<Ran> runs = new ArrayList<>();
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(store)
            .authFile(users)
            .build()
            .start()) {
      Path settings = dir.resolve("kiln.yaml");
      Files.writeString(
          settings,
          "workdir: "
              + workdir
              + "\ntracking:\n  uri: "
              + server.uri()
              + "\nspark:\n  master: local[1]\n  conf:\n"
              + "    spark.hadoop.fs.s3a.access.key: "
              + S3A_ACCESS
              + "\n    spark.hadoop.fs.s3a.secret.key: "
              + S3A_SECRET
              + "\n    spark.ui.enabled: 'false'\n    spark.sql.shuffle.partitions: '2'\n");
      Map<String, String> env = new LinkedHashMap<>();
      env.put("MLFLOW_TRACKING_USERNAME", "alice");
      env.put("MLFLOW_TRACKING_PASSWORD", TRACKING_PASSWORD);
      env.put("AWS_ACCESS_KEY_ID", AWS_KEY_ID);
      env.put("AWS_SECRET_ACCESS_KEY", AWS_SECRET);
      env.put("OPENAI_API_KEY", LLM_KEY);

      Path csv = dir.resolve("mails.csv");
      Files.writeString(csv, "id,body\n1,hello there\n2,lunch at noon\n3,win money now\n");
      Path schema = dir.resolve("schema.yaml");
      Files.writeString(
          schema, "columns:\n  - {name: id, type: int}\n  - {name: body, type: string}\n");
      String table = dir.resolve("tables/mails").toString();
      Ran ingest =
          kiln(
              env,
              "ingest",
              "--settings",
              settings.toString(),
              "--source",
              csv.toString(),
              "--format",
              "csv",
              "--output",
              table,
              "--schema",
              schema.toString(),
              "--json");
      runs.add(ingest);
      assertThat(ingest.exitCode()).as(ingest.err()).isZero();

      Path template = dir.resolve("prompt.txt");
      Files.writeString(template, "Spam or ham?\n\n{{text}}");
      Ran register =
          kiln(
              env,
              "llm",
              "prompts",
              "register",
              "--settings",
              settings.toString(),
              "--name",
              "spam",
              "--template",
              template.toString());
      runs.add(register);
      assertThat(register.exitCode()).as(register.err()).isZero();
      Path job = dir.resolve("llm.yaml");
      Files.writeString(
          job,
          "input: "
              + table
              + "\nkey: id\ntext: body\nprompt: {name: spam, version: 1}\n"
              + "engine: {type: openai, model: tiny, apiKeyEnv: OPENAI_API_KEY, baseUrl: 'http://127.0.0.1:"
              + llm.getAddress().getPort()
              + "/v1', maxAttempts: 1}\noutput: "
              + dir.resolve("tables/labels")
              + "\n");
      Ran inference =
          kiln(env, "llm", "run", "--settings", settings.toString(), "--config", job.toString());
      runs.add(inference);
      assertThat(inference.exitCode()).as(inference.err()).isZero();
      // the key did reach the one place it is for
      assertThat(llmAuthorizations).isNotEmpty().allMatch(("Bearer " + LLM_KEY)::equals);

      // a job whose tracking URI carries a password and whose server is gone: the retries'
      // warnings, the spool file and the replay hint must not repeat the password
      int closed;
      try (ServerSocket socket = new ServerSocket(0)) {
        closed = socket.getLocalPort();
      }
      Ran unreachable =
          kiln(
              env,
              "ingest",
              "--settings",
              settings.toString(),
              "--tracking-uri",
              "http://alice:" + URI_PASSWORD + "@127.0.0.1:" + closed,
              "--source",
              csv.toString(),
              "--format",
              "csv",
              "--output",
              dir.resolve("tables/again").toString(),
              "--schema",
              schema.toString());
      runs.add(unreachable);
      assertThat(unreachable.exitCode()).as(unreachable.err()).isZero();
      assertThat(unreachable.err()).contains("spooled").contains("http://alice:***@127.0.0.1:");

      // the runs were really tracked, with credentials
      assertThat(count(server.databaseFile(), "SELECT COUNT(*) FROM runs"))
          .isGreaterThanOrEqualTo(2);
    } finally {
      llm.stop(0);
    }

    List<String> leaks = new ArrayList<>();
    for (Ran ran : runs) {
      System.out.println(
          "[secrets] stderr of kiln "
              + kiln.core.Secrets.redact(String.valueOf(ran.command()))
              + ":\n"
              + ran.err());
      search("stdout of kiln " + ran.command(), ran.out(), leaks);
      search("stderr of kiln " + ran.command(), ran.err(), leaks);
    }
    for (Map.Entry<String, String> row : storeRows(store.resolve("mlflow.db")).entrySet()) {
      search("tracking store " + row.getKey(), row.getValue(), leaks);
    }
    int files = 0;
    for (Path root : List.of(workdir, store, dir.resolve("tables"))) {
      if (!Files.exists(root)) {
        continue;
      }
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path file : walk.filter(Files::isRegularFile).toList()) {
          if (file.toString().endsWith(".db") || Files.size(file) > 64L * 1024 * 1024) {
            continue; // the store was read row by row above
          }
          files++;
          search(
              file.toString(),
              new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1),
              leaks);
        }
      }
    }
    System.out.printf(
        "[secrets] searched %d process outputs, the tracking store and %d files for %d secrets%n",
        runs.size() * 2, files, SECRETS.size());
    assertThat(files).isGreaterThan(10);
    assertThat(leaks).as("places holding a secret").isEmpty();
  }

  @Test
  void aPasswordInTheTrackingUriAuthenticatesAndIsNeitherPrintedNorRecorded() throws Exception {
    Path users = dir.resolve("users");
    Files.writeString(users, "alice:" + URI_PASSWORD + "\n");
    List<String> notices = new CopyOnWriteArrayList<>();
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .authFile(users)
            .build()
            .start()) {
      String uri = "http://alice:" + URI_PASSWORD + "@127.0.0.1:" + server.port();
      try (kiln.core.tracking.MlflowTracking tracking =
          kiln.core.tracking.MlflowTracking.connect(
              uri, Map.of(), dir.resolve("spool"), notices::add)) {
        assertThat(tracking.uri()).isEqualTo("http://127.0.0.1:" + server.port());
        kiln.core.tracking.TrackedRun run =
            tracking.startRun("kiln", "with-uri-password", Map.of());
        run.logParams(Map.of("p", "1"));
        run.fail(new IllegalStateException("cannot reach " + uri));
      }
      assertThat(count(server.databaseFile(), "SELECT COUNT(*) FROM runs")).isEqualTo(1);
      List<String> leaks = new ArrayList<>();
      for (Map.Entry<String, String> row : storeRows(server.databaseFile()).entrySet()) {
        search("tracking store " + row.getKey(), row.getValue(), leaks);
      }
      notices.forEach(notice -> search("notice", notice, leaks));
      assertThat(leaks).isEmpty();
      assertThat(
              count(
                  server.databaseFile(),
                  "SELECT COUNT(*) FROM tags WHERE key = 'kiln.error' AND value LIKE"
                      + " '%alice:***@127.0.0.1%'"))
          .isEqualTo(1);
    }
    assertThat(kiln.core.Secrets.redact("s3a://AKIA1:" + AWS_SECRET + "@bucket/p and http://h:1/x"))
        .isEqualTo("s3a://AKIA1:***@bucket/p and http://h:1/x");
  }

  /**
   * {@code --verbose} prints the failure's stack trace, which holds the message of every cause:
   * here a tracking server that refuses the request and echoes the credentials it was sent (and
   * others, as a misbehaving server or library might). The trace and the error line mask every
   * secret the process was given: the tracking token, the S3 keys of the environment and of the
   * Spark conf, the LLM API key, a password in a URI.
   */
  @Test
  void verboseStackTracesMaskEverySecretTheProcessWasGiven() throws Exception {
    String token = "trk-Token-6e5d4c3b2a19";
    HttpServer echo = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    echo.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          byte[] body =
              ("{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"refused "
                      + exchange.getRequestHeaders().getFirst("Authorization")
                      + " with "
                      + String.join(
                          ", ", SECRETS.stream().filter(v -> !v.equals(URI_PASSWORD)).toList())
                      + " from http://alice:"
                      + URI_PASSWORD
                      + "@127.0.0.1\"}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(400, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    echo.start();
    try {
      Path settings = dir.resolve("kiln.yaml");
      Files.writeString(
          settings,
          "workdir: "
              + dir.resolve("work")
              + "\nspark:\n  conf:\n    spark.hadoop.fs.s3a.access.key: "
              + S3A_ACCESS
              + "\n    spark.hadoop.fs.s3a.secret.key: "
              + S3A_SECRET
              + "\n");
      Map<String, String> env = new LinkedHashMap<>();
      env.put("MLFLOW_TRACKING_TOKEN", token);
      env.put("MLFLOW_TRACKING_PASSWORD", TRACKING_PASSWORD);
      env.put("AWS_ACCESS_KEY_ID", AWS_KEY_ID);
      env.put("AWS_SECRET_ACCESS_KEY", AWS_SECRET);
      env.put("OPENAI_API_KEY", LLM_KEY);
      Ran failed =
          kiln(
              env,
              "--verbose",
              "llm",
              "prompts",
              "list",
              "--settings",
              settings.toString(),
              "--tracking-uri",
              "http://127.0.0.1:" + echo.getAddress().getPort());
      System.out.println("[secrets] stderr of kiln --verbose llm prompts list:\n" + failed.err());
      assertThat(failed.exitCode()).as(failed.err()).isEqualTo(3);
      // the server's message is there, masked, and so is the stack trace
      assertThat(failed.err())
          .contains("kiln: error: cannot list the registered models at ")
          .contains("refused Bearer *** with ***, ***, ***, ***, ***, *** from")
          .contains("http://alice:***@127.0.0.1")
          .contains("\tat kiln.");
      List<String> leaks = new ArrayList<>();
      search("stdout of kiln --verbose", failed.out(), leaks);
      search("stderr of kiln --verbose", failed.err(), leaks);
      if (failed.err().contains(token)) {
        leaks.add("stderr of kiln --verbose: the tracking token");
      }
      assertThat(leaks).as("places holding a secret").isEmpty();
    } finally {
      echo.stop(0);
    }
  }

  private static void search(String where, String text, List<String> leaks) {
    for (String secret : SECRETS) {
      int at = text.indexOf(secret);
      if (at >= 0) {
        leaks.add(
            where
                + ": "
                + text.substring(Math.max(0, at - 80), Math.min(text.length(), at + 40))
                    .replace('\n', ' '));
      }
    }
  }

  private static long count(Path db, String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /** Every row of every table as text, keyed by table and row number. */
  private static Map<String, String> storeRows(Path db) throws Exception {
    Map<String, String> rows = new LinkedHashMap<>();
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement statement = connection.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet names =
          statement.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
        while (names.next()) {
          tables.add(names.getString(1));
        }
      }
      for (String table : tables) {
        try (ResultSet result = statement.executeQuery("SELECT * FROM " + table)) {
          int columns = result.getMetaData().getColumnCount();
          int n = 0;
          while (result.next()) {
            StringBuilder row = new StringBuilder();
            for (int i = 1; i <= columns; i++) {
              row.append(result.getString(i)).append('|');
            }
            rows.put(table + " row " + n++, row.toString());
          }
        }
      }
    }
    return rows;
  }
}
