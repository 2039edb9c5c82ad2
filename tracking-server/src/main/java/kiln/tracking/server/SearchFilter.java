package kiln.tracking.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses MLflow's search syntax: {@code metrics.loss < 0.1 AND params.model = 'xgb'} into clauses,
 * and {@code order_by} entries such as {@code metrics.loss DESC}.
 */
final class SearchFilter {
  enum Kind {
    METRIC,
    PARAM,
    TAG,
    ATTRIBUTE,
    DATASET
  }

  record Identifier(Kind kind, String key) {}

  /** One comparison; the value is a String, a Double, or a List of String for IN. */
  record Clause(Identifier identifier, String comparator, Object value) {
    Kind kind() {
      return identifier.kind();
    }

    String key() {
      return identifier.key();
    }

    String stringValue() {
      if (!(value instanceof String text)) {
        throw ApiException.invalidParameter(
            "Expected a quoted string value for " + describe() + " but got " + value + ".");
      }
      return text;
    }

    double numberValue() {
      if (!(value instanceof Double number)) {
        throw ApiException.invalidParameter(
            "Expected a numeric value for " + describe() + " but got '" + value + "'.");
      }
      return number;
    }

    @SuppressWarnings("unchecked")
    List<String> listValue() {
      if (!(value instanceof List<?>)) {
        throw ApiException.invalidParameter(
            "Expected a parenthesised list after " + comparator + " for " + describe() + ".");
      }
      return (List<String>) value;
    }

    String describe() {
      return identifier.kind().name().toLowerCase(Locale.ROOT) + " '" + identifier.key() + "'";
    }
  }

  record Order(Identifier identifier, boolean ascending) {}

  private final String text;
  private int position;

  private SearchFilter(String text) {
    this.text = text;
  }

  static List<Clause> parse(String filter) {
    if (filter == null || filter.isBlank()) {
      return List.of();
    }
    SearchFilter parser = new SearchFilter(filter);
    List<Clause> clauses = new ArrayList<>();
    do {
      clauses.add(parser.clause());
    } while (parser.keyword("AND"));
    parser.skipSpaces();
    if (parser.position < filter.length()) {
      throw parser.error("expected AND or the end of the filter (MLflow supports only AND)");
    }
    return clauses;
  }

  static Order parseOrder(String orderBy) {
    SearchFilter parser = new SearchFilter(orderBy);
    Identifier identifier = parser.identifier();
    boolean ascending = true;
    if (parser.keyword("DESC")) {
      ascending = false;
    } else {
      parser.keyword("ASC");
    }
    parser.skipSpaces();
    if (parser.position < orderBy.length()) {
      throw ApiException.invalidParameter(
          "Invalid order_by clause '" + orderBy + "': expected '<identifier> [ASC|DESC]'.");
    }
    return new Order(identifier, ascending);
  }

  private Clause clause() {
    Identifier identifier = identifier();
    String comparator = comparator();
    Object value;
    if (comparator.equals("IN") || comparator.equals("NOT IN")) {
      value = list();
    } else {
      value = value();
    }
    return new Clause(identifier, comparator, value);
  }

  private Identifier identifier() {
    skipSpaces();
    int start = position;
    while (position < text.length()
        && (Character.isLetterOrDigit(text.charAt(position)) || text.charAt(position) == '_')) {
      position++;
    }
    if (start == position) {
      throw error(
          "expected an identifier such as metrics.<key>, params.<key>, tags.<key> or attributes.<name>");
    }
    String first = text.substring(start, position);
    if (position >= text.length() || text.charAt(position) != '.') {
      // MLflow reads a bare identifier as an attribute; a quoted one cannot be bare.
      return new Identifier(Kind.ATTRIBUTE, first);
    }
    position++;
    Kind kind =
        switch (first.toLowerCase(Locale.ROOT)) {
          case "metric", "metrics" -> Kind.METRIC;
          case "param", "params", "parameter", "parameters" -> Kind.PARAM;
          case "tag", "tags" -> Kind.TAG;
          case "attribute", "attributes", "attr", "run" -> Kind.ATTRIBUTE;
          case "dataset", "datasets" -> Kind.DATASET;
          default ->
              throw ApiException.invalidParameter(
                  "Invalid entity type '"
                      + first
                      + "' in search expression. Valid values are metrics, params, tags, attributes, datasets.");
        };
    String key;
    if (position < text.length()
        && (text.charAt(position) == '`' || text.charAt(position) == '"')) {
      key = quoted(text.charAt(position));
    } else {
      int keyStart = position;
      while (position < text.length() && isKeyCharacter(text.charAt(position))) {
        position++;
      }
      key = text.substring(keyStart, position);
    }
    if (key.isEmpty()) {
      throw error("expected a key after '" + first + ".'");
    }
    return new Identifier(kind, key);
  }

  private static boolean isKeyCharacter(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '-' || c == '/' || c == ':';
  }

  private String comparator() {
    skipSpaces();
    for (String symbol : List.of("!=", "<=", ">=", "=", "<", ">")) {
      if (text.startsWith(symbol, position)) {
        position += symbol.length();
        return symbol;
      }
    }
    if (keyword("LIKE")) {
      return "LIKE";
    }
    if (keyword("ILIKE")) {
      return "ILIKE";
    }
    if (keyword("IN")) {
      return "IN";
    }
    if (keyword("NOT")) {
      if (keyword("IN")) {
        return "NOT IN";
      }
      throw error("expected IN after NOT");
    }
    throw error("expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)");
  }

  private Object value() {
    skipSpaces();
    if (position >= text.length()) {
      throw error("expected a value");
    }
    char c = text.charAt(position);
    if (c == '\'' || c == '"') {
      return quoted(c);
    }
    int start = position;
    while (position < text.length() && "+-.0123456789eE".indexOf(text.charAt(position)) >= 0) {
      position++;
    }
    String number = text.substring(start, position);
    try {
      return Double.parseDouble(number);
    } catch (NumberFormatException e) {
      position = start;
      throw error("expected a number or a quoted string");
    }
  }

  private List<String> list() {
    skipSpaces();
    if (position >= text.length() || text.charAt(position) != '(') {
      throw error("expected '(' to open a list");
    }
    position++;
    List<String> values = new ArrayList<>();
    while (true) {
      skipSpaces();
      char c = position < text.length() ? text.charAt(position) : 0;
      if (c != '\'' && c != '"') {
        throw error("expected a quoted string in the list");
      }
      values.add(quoted(c));
      skipSpaces();
      if (position < text.length() && text.charAt(position) == ',') {
        position++;
      } else if (position < text.length() && text.charAt(position) == ')') {
        position++;
        return values;
      } else {
        throw error("expected ',' or ')' in the list");
      }
    }
  }

  private String quoted(char quote) {
    int start = ++position;
    StringBuilder value = new StringBuilder();
    while (position < text.length()) {
      char c = text.charAt(position++);
      if (c == quote) {
        // SQL style: a doubled quote stands for one quote character
        if (position < text.length() && text.charAt(position) == quote) {
          value.append(quote);
          position++;
          continue;
        }
        return value.toString();
      }
      value.append(c);
    }
    position = start - 1;
    throw error("unterminated quoted string");
  }

  private boolean keyword(String word) {
    skipSpaces();
    int end = position + word.length();
    if (end <= text.length()
        && text.regionMatches(true, position, word, 0, word.length())
        && (end == text.length() || !Character.isLetterOrDigit(text.charAt(end)))) {
      position = end;
      return true;
    }
    return false;
  }

  private void skipSpaces() {
    while (position < text.length() && Character.isWhitespace(text.charAt(position))) {
      position++;
    }
  }

  private ApiException error(String expectation) {
    return ApiException.invalidParameter(
        "Invalid search filter '" + text + "' at position " + position + ": " + expectation + ".");
  }
}
