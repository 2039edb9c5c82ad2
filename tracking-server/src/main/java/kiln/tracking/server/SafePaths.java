package kiln.tracking.server;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Rejects the path forms behind MLflow's path-traversal CVEs before anything touches the disk:
 * {@code ..} segments, also once or twice percent-encoded, backslashes, absolute and drive-letter
 * paths, fragments and NUL bytes. Checking every decoding level means that a later layer which
 * decodes again cannot turn an accepted path into a traversal.
 */
final class SafePaths {
  private static final int DECODING_LEVELS = 4;
  static final int MAX_PATH_CHARS = 1024;
  static final int MAX_SEGMENTS = 64;
  static final int MAX_SEGMENT_BYTES = 255;

  private SafePaths() {}

  /**
   * Checks a relative artifact path (already percent-decoded once, as HTTP delivers it) and returns
   * it without a trailing slash; the empty string stands for the root.
   */
  static String relative(String path) {
    String current = path;
    for (int level = 0; level < DECODING_LEVELS; level++) {
      rejectUnsafe(path, current);
      String decoded = percentDecode(current);
      if (decoded == null || decoded.equals(current)) {
        break;
      }
      current = decoded;
    }
    String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    if (trimmed.contains("//")) {
      throw invalid(path);
    }
    // bounds the file system enforces anyway (as an I/O failure) or that would let one request
    // make thousands of nested directories
    String[] segments = trimmed.split("/", -1);
    if (trimmed.length() > MAX_PATH_CHARS || segments.length > MAX_SEGMENTS) {
      throw ApiException.invalidParameter(
          "Artifact path too long: "
              + trimmed.length()
              + " characters in "
              + segments.length
              + " segments; the limits are "
              + MAX_PATH_CHARS
              + " characters and "
              + MAX_SEGMENTS
              + " segments.");
    }
    for (String segment : segments) {
      if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
        throw ApiException.invalidParameter(
            "Artifact path segment '"
                + Validation.abbreviate(segment)
                + "' is longer than "
                + MAX_SEGMENT_BYTES
                + " bytes.");
      }
    }
    return trimmed;
  }

  /**
   * Whether the text, at any decoding level, contains a {@code ..} path segment or a backslash or a
   * fragment.
   */
  static boolean hasTraversal(String text) {
    String current = text;
    for (int level = 0; level < DECODING_LEVELS; level++) {
      if (current.indexOf('\\') >= 0
          || current.indexOf('#') >= 0
          || current.indexOf('\0') >= 0
          || hasDotDotSegment(current)) {
        return true;
      }
      String decoded = percentDecode(current);
      if (decoded == null || decoded.equals(current)) {
        return false;
      }
      current = decoded;
    }
    return true;
  }

  private static void rejectUnsafe(String original, String candidate) {
    if (candidate.indexOf('\\') >= 0
        || candidate.indexOf('\0') >= 0
        || candidate.indexOf('#') >= 0
        || candidate.startsWith("/")
        || candidate.startsWith("~")
        || candidate.matches("^[A-Za-z]:.*")
        || candidate.contains("://")
        || hasDotDotSegment(candidate)
        || hasDotSegment(candidate)) {
      throw invalid(original);
    }
  }

  private static boolean hasDotDotSegment(String path) {
    for (String segment : path.split("[/\\\\]", -1)) {
      if (segment.equals("..")) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasDotSegment(String path) {
    for (String segment : path.split("/", -1)) {
      if (segment.equals(".")) {
        return true;
      }
    }
    return false;
  }

  private static ApiException invalid(String path) {
    return ApiException.invalidParameter(
        "Invalid path: '"
            + Validation.abbreviate(path)
            + "'. Artifact paths must be relative, without '..' or '.' segments, backslashes, fragments"
            + " or encoded forms of them.");
  }

  /**
   * Percent-decodes (leaving '+' alone, as in a path); null when the text is not valid
   * percent-encoding.
   */
  static String percentDecode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    byte[] raw = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < raw.length; i++) {
      byte b = raw[i];
      if (b == '%') {
        if (i + 2 >= raw.length) {
          return null;
        }
        int high = Character.digit(raw[i + 1], 16);
        int low = Character.digit(raw[i + 2], 16);
        if (high < 0 || low < 0) {
          return null;
        }
        bytes.write(high * 16 + low);
        i += 2;
      } else {
        bytes.write(b);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  static String lowerScheme(String uri) {
    int colon = uri.indexOf(':');
    return colon < 0 ? "" : uri.substring(0, colon).toLowerCase(Locale.ROOT);
  }
}
