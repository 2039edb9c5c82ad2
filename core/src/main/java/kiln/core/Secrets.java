package kiln.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of what Kiln prints and records: messages, run tags, lineage, and the stack
 * traces {@code --verbose} prints. Two kinds: those written into URIs ({@code
 * http://user:password@host}, {@code s3a://KEY:SECRET@bucket}), masked wherever a URI is; and the
 * secret values this process was given ({@link #remember}: the tracking token and password, S3 keys
 * from the environment or the Spark conf, an LLM API key), masked wherever they appear, since a
 * library or a server may echo them in an exception's message.
 */
public final class Secrets {
  // scheme://user:password@ -> scheme://user:***@ (the user name stays: it says whose access)
  private static final Pattern USERINFO_PASSWORD =
      Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://[^/?#@\\s:]*):[^/?#@\\s]*@");
  public static final String MASK = "***";

  /**
   * Names of variables and settings that hold a secret: AWS_SECRET_ACCESS_KEY, fs.s3a.secret.key.
   */
  private static final Pattern SECRET_NAME =
      Pattern.compile(
          "(?i).*(password|passwd|secret|token|api[._-]?key|access[._-]?key|credential).*");

  /**
   * Shorter values are not masked: a short "secret" (a test's "x", a flag's "true") would mask
   * every occurrence of common text, and is no real credential.
   */
  static final int MIN_LENGTH = 6;

  /** The secret values this process holds, longest first (so a value inside another is not cut). */
  private static final java.util.concurrent.CopyOnWriteArrayList<String> KNOWN =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private Secrets() {}

  /**
   * Text with URI passwords and every {@link #remember remembered} value replaced by {@value
   * #MASK}.
   */
  public static String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String secret : KNOWN) {
      if (out.contains(secret)) {
        out = out.replace(secret, MASK);
      }
    }
    if (out.indexOf('@') < 0) {
      return out;
    }
    return USERINFO_PASSWORD.matcher(out).replaceAll("$1:" + MASK + "@");
  }

  /**
   * Masks {@code value} in everything {@link #redact} sees from now on (nothing if blank or short).
   */
  public static void remember(String value) {
    if (value == null) {
      return;
    }
    String secret = value.strip();
    if (secret.length() < MIN_LENGTH || KNOWN.contains(secret)) {
      return;
    }
    synchronized (KNOWN) {
      if (!KNOWN.contains(secret)) {
        java.util.List<String> all = new java.util.ArrayList<>(KNOWN);
        all.add(secret);
        all.sort(java.util.Comparator.comparingInt(String::length).reversed());
        KNOWN.clear();
        KNOWN.addAll(all);
      }
    }
  }

  /**
   * Remembers the values whose names say they are secret ({@code MLFLOW_TRACKING_TOKEN}, {@code
   * MLFLOW_TRACKING_PASSWORD}, {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_ACCESS_KEY_ID}, {@code
   * OPENAI_API_KEY}, {@code spark.hadoop.fs.s3a.secret.key}, ...): environment variables or Spark
   * settings.
   */
  public static void rememberNamed(java.util.Map<String, String> values) {
    if (values == null) {
      return;
    }
    values.forEach(
        (name, value) -> {
          if (name != null && SECRET_NAME.matcher(name).matches()) {
            remember(value);
          }
        });
  }

  /** The URI without its user info, for sending requests once credentials are taken from it. */
  public static URI withoutUserInfo(URI uri) {
    if (uri.getRawUserInfo() == null) {
      return uri;
    }
    try {
      return new URI(
          uri.getScheme(),
          null,
          uri.getHost(),
          uri.getPort(),
          uri.getPath(),
          uri.getQuery(),
          uri.getFragment());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("a parsed URI rebuilds without its user info", e);
    }
  }
}
