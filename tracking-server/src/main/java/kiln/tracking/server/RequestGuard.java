package kiln.tracking.server;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The server's network exposure rules, checked before authentication and routing: the Host header
 * must name this server (against DNS rebinding, where a page on an attacker's domain whose name now
 * resolves to 127.0.0.1 calls the API), and a browser's cross-origin request is refused unless its
 * origin is listed (a text/plain POST needs no preflight, so without this any page could write
 * runs). Modelled on MLflow 3.5's server security middleware; Kiln's default for origins is
 * stricter (none, where MLflow allows any localhost origin).
 */
final class RequestGuard {
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final String ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE";
  private static final String ALLOWED_HEADERS = "Authorization, Content-Type";

  private final List<String> allowedHosts;
  private final Set<String> corsOrigins;

  RequestGuard(List<String> allowedHosts, List<String> corsOrigins) {
    this.allowedHosts = allowedHosts.stream().map(RequestGuard::normalizeHost).distinct().toList();
    Set<String> origins = new LinkedHashSet<>();
    corsOrigins.forEach(origin -> origins.add(normalizeOrigin(origin)));
    this.corsOrigins = Collections.unmodifiableSet(origins);
  }

  List<String> allowedHosts() {
    return allowedHosts;
  }

  Set<String> corsOrigins() {
    return corsOrigins;
  }

  /**
   * The Host headers a server bound to {@code bindHost} accepts when none are configured: the
   * loopback names, the bound host itself and, for a wildcard bind, the machine's own addresses and
   * name. An IP literal cannot be rebound, so none of these opens a hole.
   */
  static List<String> defaultAllowedHosts(String bindHost) {
    Set<String> hosts = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
    String bound = normalizeHost(bindHost);
    if (isWildcard(bound)) {
      try {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
          for (InetAddress address : Collections.list(nic.getInetAddresses())) {
            hosts.add(normalizeHost(address.getHostAddress()));
          }
        }
      } catch (SocketException e) {
        // no interface list: only the loopback names and an explicit --allowed-hosts
      }
      try {
        hosts.add(normalizeHost(InetAddress.getLocalHost().getHostName()));
      } catch (UnknownHostException e) {
        // the machine's own name does not resolve; clients use its addresses
      }
    } else {
      hosts.add(bound);
    }
    return List.copyOf(hosts);
  }

  static boolean isWildcard(String host) {
    String h = normalizeHost(host);
    return h.equals("0.0.0.0") || h.equals("::") || h.equals("0:0:0:0:0:0:0:0");
  }

  /**
   * Screens a request. Returns true when the exchange has been answered here (an allowed CORS
   * preflight); throws a 403 {@link ApiException} for a refused Host or origin; otherwise adds the
   * CORS response headers an allowed cross-origin request needs and returns false.
   */
  boolean screen(HttpExchange exchange) {
    Headers request = exchange.getRequestHeaders();
    String host = request.getFirst("Host");
    if (host == null || host.isBlank()) {
      throw ApiException.badRequest("The request has no Host header.");
    }
    if (!hostAllowed(host)) {
      throw new ApiException(
          ApiError.PERMISSION_DENIED,
          "The Host header '"
              + Validation.abbreviate(host)
              + "' is not one this server answers to (against DNS rebinding); start the server"
              + " with --allowed-hosts naming it to allow it.");
    }
    String origin = request.getFirst("Origin");
    boolean preflight =
        exchange.getRequestMethod().equals("OPTIONS")
            && request.getFirst("Access-Control-Request-Method") != null;
    if (origin == null) {
      return false;
    }
    boolean sameOrigin = normalizeOrigin(origin).equals(normalizeOrigin("http://" + host));
    boolean listed = corsOrigins.contains("*") || corsOrigins.contains(normalizeOrigin(origin));
    if (!listed && !(sameOrigin && !preflight)) {
      throw new ApiException(
          ApiError.PERMISSION_DENIED,
          "Cross-origin request from '"
              + Validation.abbreviate(origin)
              + "' refused; start the server with --cors-origins naming that origin to allow it.");
    }
    if (!listed) {
      return false;
    }
    Headers response = exchange.getResponseHeaders();
    response.set("Access-Control-Allow-Origin", origin);
    response.add("Vary", "Origin");
    if (preflight) {
      response.set("Access-Control-Allow-Methods", ALLOWED_METHODS);
      response.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      response.set("Access-Control-Max-Age", "600");
      return true;
    }
    return false;
  }

  boolean hostAllowed(String hostHeader) {
    String header = hostHeader.strip().toLowerCase(Locale.ROOT);
    String name = header;
    String port = null;
    if (header.startsWith("[")) {
      int close = header.indexOf(']');
      if (close < 0) {
        return false;
      }
      name = header.substring(1, close);
      if (header.length() > close + 1) {
        if (header.charAt(close + 1) != ':') {
          return false;
        }
        port = header.substring(close + 2);
      }
    } else {
      int colon = header.lastIndexOf(':');
      if (colon >= 0) {
        name = header.substring(0, colon);
        port = header.substring(colon + 1);
      }
    }
    if (port != null && !port.matches("\\d{1,5}")) {
      return false;
    }
    name = normalizeHost(name);
    if (isLoopbackLiteral(name)) {
      return true;
    }
    for (String allowed : allowedHosts) {
      if (matches(allowed, name, port)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String allowed, String name, String port) {
    if (allowed.equals("*")) {
      return true;
    }
    String allowedName = allowed;
    String allowedPort = null;
    // "name:port" pins the port; an IPv6 literal has more than one colon and no port
    int colon = allowed.lastIndexOf(':');
    if (colon > 0 && allowed.indexOf(':') == colon) {
      allowedName = allowed.substring(0, colon);
      allowedPort = allowed.substring(colon + 1);
    }
    if (allowedPort != null && !allowedPort.equals(port)) {
      return false;
    }
    if (allowedName.startsWith("*.")) {
      return name.endsWith(allowedName.substring(1));
    }
    return allowedName.equals(name);
  }

  /** A loopback IP literal (127.0.0.0/8 or ::1), recognised without any name lookup. */
  static boolean isLoopbackLiteral(String host) {
    String h = normalizeHost(host);
    if (!IPV4.matcher(h).matches() && !h.contains(":")) {
      return false;
    }
    try {
      // a literal is parsed, never looked up
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  static String normalizeHost(String host) {
    Objects.requireNonNull(host, "host is null");
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".") && h.length() > 1) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  static String normalizeOrigin(String origin) {
    String o = origin.strip().toLowerCase(Locale.ROOT);
    while (o.endsWith("/")) {
      o = o.substring(0, o.length() - 1);
    }
    if (o.startsWith("http://") && o.endsWith(":80")) {
      o = o.substring(0, o.length() - 3);
    } else if (o.startsWith("https://") && o.endsWith(":443")) {
      o = o.substring(0, o.length() - 4);
    }
    return o;
  }
}
