package kiln.tracking.server;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** MLflow's page tokens: base64 of {"offset": N}, so tokens from either server look alike. */
final class PageToken {
  private static final Pattern OFFSET =
      Pattern.compile("^\\{\\s*\"offset\"\\s*:\\s*(\\d{1,9})\\s*}$");

  private PageToken() {}

  static int offset(String token) {
    if (token == null || token.isEmpty()) {
      return 0;
    }
    try {
      String json = new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8);
      Matcher matcher = OFFSET.matcher(json);
      if (matcher.matches()) {
        return Integer.parseInt(matcher.group(1));
      }
    } catch (IllegalArgumentException e) {
      // falls through to the same message as a token that decodes to something else
    }
    throw ApiException.invalidParameter(
        "Invalid page token '"
            + Validation.abbreviate(token)
            + "': pass back the next_page_token of a previous response.");
  }

  static String forOffset(int offset) {
    return Base64.getEncoder()
        .encodeToString(("{\"offset\": " + offset + "}").getBytes(StandardCharsets.UTF_8));
  }

  static int maxResults(boolean present, long requested, int defaultValue, int limit) {
    if (!present) {
      return defaultValue;
    }
    if (requested <= 0 || requested > limit) {
      throw ApiException.invalidParameter(
          "Invalid value "
              + requested
              + " for parameter 'max_results': it must be"
              + " between 1 and "
              + limit
              + ".");
    }
    return (int) requested;
  }
}
