package kiln.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * Keeps credentials written into URIs ({@code http://user:password@host}, {@code
 * s3a://KEY:SECRET@bucket}) out of what Kiln prints and records: messages, run tags, lineage.
 */
public final class Secrets {
  // scheme://user:password@ -> scheme://user:***@ (the user name stays: it says whose access)
  private static final Pattern USERINFO_PASSWORD =
      Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://[^/?#@\\s:]*):[^/?#@\\s]*@");
  public static final String MASK = "***";

  private Secrets() {}

  /** Text with the password part of every URI's user info replaced by {@value #MASK}. */
  public static String redact(String text) {
    if (text == null || text.indexOf('@') < 0) {
      return text;
    }
    return USERINFO_PASSWORD.matcher(text).replaceAll("$1:" + MASK + "@");
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
