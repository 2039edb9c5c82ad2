package kiln.jobs.tracking;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loopback HTTP/1.1 proxy in front of a real server that loses one exchange: the first request
 * whose {@code METHOD path} starts with a given prefix is either forwarded and its answer dropped
 * (the server carried it out; the client sees the connection close with no answer, as when a
 * network or a proxy fails after the server committed), or dropped before it reaches the server.
 * Every other exchange goes through unchanged, one per connection ({@code Connection: close} both
 * ways; requests carry a Content-Length, as java.net.http's do). Records every request line it saw.
 */
final class LossyProxy implements AutoCloseable {
  /** What the proxy loses of the first matching exchange. */
  enum Loss {
    ANSWER,
    REQUEST
  }

  /** Hop-by-hop headers (HTTP/2 upgrade, keep-alive) not passed on: each side gets close. */
  private static final Set<String> HOP =
      Set.of("connection", "keep-alive", "upgrade", "http2-settings");

  private final URI upstream;
  private final String prefix;
  private final Loss loss;
  private final ServerSocket socket;
  private final AtomicBoolean lost = new AtomicBoolean();
  private final List<String> requests = new ArrayList<>();

  private LossyProxy(URI upstream, String prefix, Loss loss) throws IOException {
    this.upstream = upstream;
    this.prefix = prefix;
    this.loss = loss;
    this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::serve, "lossy-proxy");
    accept.setDaemon(true);
    accept.start();
  }

  static LossyProxy start(URI upstream, String prefix, Loss loss) throws IOException {
    return new LossyProxy(upstream, prefix, loss);
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + socket.getLocalPort());
  }

  /** The request lines ({@code METHOD path}, no query) seen so far, in order. */
  synchronized List<String> requests() {
    return List.copyOf(requests);
  }

  private void serve() {
    while (!socket.isClosed()) {
      try {
        Socket client = socket.accept();
        Thread exchange = new Thread(() -> exchange(client), "lossy-proxy-exchange");
        exchange.setDaemon(true);
        exchange.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void exchange(Socket client) {
    try (client) {
      InputStream in = client.getInputStream();
      String head = head(in);
      if (head == null) {
        return;
      }
      String[] lines = head.split("\r\n");
      String[] requestLine = lines[0].split(" ");
      String line = requestLine[0] + " " + requestLine[1].replaceFirst("\\?.*", "");
      synchronized (this) {
        requests.add(line);
      }
      long length = 0;
      StringBuilder forwarded = new StringBuilder(lines[0]).append("\r\n");
      for (int i = 1; i < lines.length; i++) {
        String name = lines[i].substring(0, Math.max(0, lines[i].indexOf(':'))).trim();
        if (name.equalsIgnoreCase("content-length")) {
          length = Long.parseLong(lines[i].substring(lines[i].indexOf(':') + 1).trim());
        }
        if (!HOP.contains(name.toLowerCase(Locale.ROOT))) {
          forwarded.append(lines[i]).append("\r\n");
        }
      }
      forwarded.append("Connection: close\r\n\r\n");
      byte[] body = in.readNBytes((int) length);
      boolean lose = line.startsWith(prefix) && lost.compareAndSet(false, true);
      if (lose && loss == Loss.REQUEST) {
        return; // closed with no answer, and the server never saw it
      }
      byte[] answer;
      try (Socket server = new Socket(upstream.getHost(), upstream.getPort())) {
        OutputStream out = server.getOutputStream();
        out.write(forwarded.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        answer = server.getInputStream().readAllBytes();
      }
      if (lose) {
        return; // the server carried it out; its answer is lost
      }
      client.getOutputStream().write(closing(answer));
      client.getOutputStream().flush();
    } catch (IOException e) {
      // the client went away: nothing to answer
    }
  }

  /** The request's head up to the blank line, or null if the connection closed first. */
  private static String head(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    int b;
    while (matched < 4 && (b = in.read()) >= 0) {
      head.write(b);
      matched = b == end[matched] ? matched + 1 : b == '\r' ? 1 : 0;
    }
    return matched < 4 ? null : head.toString(StandardCharsets.ISO_8859_1).stripTrailing();
  }

  /** The server's answer with {@code Connection: close}: the client opens a new connection. */
  private static byte[] closing(byte[] answer) {
    String text = new String(answer, StandardCharsets.ISO_8859_1);
    int split = text.indexOf("\r\n\r\n");
    StringBuilder head = new StringBuilder();
    for (String line : text.substring(0, split).split("\r\n")) {
      String name = line.substring(0, Math.max(0, line.indexOf(':'))).trim();
      if (!name.equalsIgnoreCase("connection")) {
        head.append(line).append("\r\n");
      }
    }
    head.append("Connection: close\r\n\r\n");
    return (head + text.substring(split + 4)).getBytes(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
