package kiln.tracking.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * HTTP basic authentication against an auth file. One user a line, {@code username:password} or
 * {@code username:sha256:<hex digest of the password>}; blank lines and lines starting with # are
 * ignored. Passwords are compared as SHA-256 digests in constant time.
 */
final class BasicAuth {
  private static final String SHA256_PREFIX = "sha256:";

  private final Map<String, byte[]> digests;

  private BasicAuth(Map<String, byte[]> digests) {
    this.digests = digests;
  }

  static BasicAuth fromFile(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, byte[]> digests = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || colon == line.length() - 1) {
        throw new IllegalArgumentException(
            "Auth file "
                + file
                + " line "
                + (i + 1)
                + " is not 'username:password' or 'username:sha256:<hex>'.");
      }
      String user = line.substring(0, colon);
      String secret = line.substring(colon + 1);
      byte[] digest;
      if (secret.startsWith(SHA256_PREFIX)) {
        try {
          digest = HexFormat.of().parseHex(secret.substring(SHA256_PREFIX.length()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "Auth file " + file + " line " + (i + 1) + ": the sha256 digest is not hexadecimal.",
              e);
        }
        if (digest.length != 32) {
          throw new IllegalArgumentException(
              "Auth file "
                  + file
                  + " line "
                  + (i + 1)
                  + ": a sha256 digest has 64 hexadecimal digits.");
        }
      } else {
        digest = sha256(secret);
      }
      digests.put(user, digest);
    }
    if (digests.isEmpty()) {
      throw new IllegalArgumentException(
          "Auth file " + file + " names no user; add a line 'username:password'.");
    }
    return new BasicAuth(digests);
  }

  boolean accepts(String authorizationHeader) {
    if (authorizationHeader == null
        || !authorizationHeader.regionMatches(true, 0, "Basic ", 0, 6)) {
      return false;
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(authorizationHeader.substring(6).strip()),
              StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return false;
    }
    byte[] expected = digests.get(decoded.substring(0, colon));
    byte[] given = sha256(decoded.substring(colon + 1));
    // compare even for an unknown user so that timing does not reveal which users exist
    return MessageDigest.isEqual(expected == null ? new byte[32] : expected, given)
        && expected != null;
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
