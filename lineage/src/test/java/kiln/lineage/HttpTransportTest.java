package kiln.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP transport against a real endpoint on loopback. */
class HttpTransportTest {

  /** A Marquez-like receiver that answers 503 while {@code down}, then keeps what it is sent. */
  private static final class Receiver implements AutoCloseable {
    final List<String> received = Collections.synchronizedList(new ArrayList<>());
    final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
    final AtomicBoolean down = new AtomicBoolean(true);
    final AtomicInteger refused = new AtomicInteger();
    final HttpServer server;

    Receiver() throws Exception {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext(
          "/api/v1/lineage",
          exchange -> {
            String body =
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            authorizations.add(
                String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            int status;
            if (!exchange.getRequestMethod().equals("POST")) {
              status = 405;
            } else if (down.get()) {
              refused.incrementAndGet();
              status = 503;
            } else {
              received.add(body);
              status = 201;
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  private static HttpTransport.Settings fast(String url) {
    return fast(url, Duration.ZERO);
  }

  private static HttpTransport.Settings fast(String url, Duration cooldown) {
    HttpTransport.Settings defaults = HttpTransport.Settings.of(url, null, "secret");
    return new HttpTransport.Settings(
        defaults.endpoint(),
        defaults.apiKey(),
        Duration.ofSeconds(2),
        1,
        Duration.ofMillis(10),
        cooldown);
  }

  @Test
  void anEndpointThatJustFailedIsNotTriedAgainForEachEventOfTheJob(@TempDir Path dir)
      throws Exception {
    try (Receiver receiver = new Receiver()) {
      HttpTransport transport =
          new HttpTransport(fast(receiver.url(), Duration.ofMinutes(5)), dir, n -> {});
      transport.emit("{\"n\":1}");
      int tried = receiver.refused.get();
      assertThat(tried).isEqualTo(2);
      transport.emit("{\"n\":2}");
      assertThat(receiver.refused.get()).isEqualTo(tried);
      assertThat(Files.readAllLines(transport.spool())).containsExactly("{\"n\":1}", "{\"n\":2}");
    }
  }

  @Test
  void anEndpointThatFailsThenAcceptsGetsEveryEventOnceInOrder(@TempDir Path dir) throws Exception {
    try (Receiver receiver = new Receiver()) {
      List<String> notices = new ArrayList<>();
      HttpTransport transport = new HttpTransport(fast(receiver.url()), dir, notices::add);
      transport.emit("{\"n\":1}");
      transport.emit("{\"n\":2}");
      assertThat(receiver.received).isEmpty();
      // each event was tried twice (one retry) and spooled
      assertThat(receiver.refused.get()).isGreaterThanOrEqualTo(4);
      assertThat(Files.readAllLines(transport.spool())).containsExactly("{\"n\":1}", "{\"n\":2}");
      assertThat(notices)
          .anySatisfy(n -> assertThat(n).contains("2 event(s) spooled in " + transport.spool()));

      receiver.down.set(false);
      transport.emit("{\"n\":3}");
      assertThat(receiver.received).containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
      assertThat(Files.readAllLines(transport.spool())).isEmpty();
      assertThat(receiver.authorizations).containsOnly("Bearer secret");

      transport.emit("{\"n\":4}");
      assertThat(receiver.received)
          .containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}");
    }
  }

  @Test
  void anEndpointThatIsNotThereNeverFailsTheJobAndASecondTransportReplaysTheSpool(@TempDir Path dir)
      throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    Lineage lineage =
        Lineage.open(dir, Map.of("OPENLINEAGE_URL", "http://127.0.0.1:" + closed), n -> {});
    RecordedRun mlflow = new RecordedRun();
    lineage.run(mlflow, "ingest", Map.of("kiln.job", "ingest"), null, null).finish();
    assertThat(mlflow.status).isEqualTo("FINISHED");
    Path spool = dir.resolve("lineage").resolve(HttpTransport.SPOOL);
    List<String> spooled = Files.readAllLines(spool);
    assertThat(spooled).hasSize(2);
    // the file transport wrote them too
    assertThat(Files.readAllLines(dir.resolve("lineage").resolve(FileTransport.FILE_NAME)))
        .isEqualTo(spooled);

    try (Receiver receiver = new Receiver()) {
      receiver.down.set(false);
      // the next command, with the endpoint back, sends the spool before its own events
      Lineage next = Lineage.open(dir, Map.of("OPENLINEAGE_URL", receiver.url()), n -> {});
      next.run(new RecordedRun(), "ingest", Map.of("kiln.job", "ingest"), null, null).finish();
      assertThat(receiver.received).hasSize(4);
      assertThat(receiver.received.subList(0, 2)).isEqualTo(spooled);
      assertThat(Files.readAllLines(spool)).isEmpty();
    }
  }

  @Test
  void anEventTheEndpointRefusesAsMalformedIsKeptAsideAndDoesNotBlockTheOthers(@TempDir Path dir)
      throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.down.set(false);
      receiver.server.removeContext("/api/v1/lineage");
      receiver.server.createContext(
          "/api/v1/lineage",
          exchange -> {
            String body =
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            boolean bad = body.contains("bad");
            if (!bad) {
              receiver.received.add(body);
            }
            exchange.sendResponseHeaders(bad ? 422 : 200, -1);
            exchange.close();
          });
      HttpTransport transport = new HttpTransport(fast(receiver.url()), dir, n -> {});
      transport.emit("{\"bad\":true}");
      transport.emit("{\"n\":2}");
      assertThat(receiver.received).containsExactly("{\"n\":2}");
      assertThat(Files.readAllLines(dir.resolve(HttpTransport.REJECTED)))
          .containsExactly("{\"bad\":true}");
    }
  }
}
