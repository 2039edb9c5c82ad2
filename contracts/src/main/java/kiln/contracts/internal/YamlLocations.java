package kiln.contracts.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each key and list item of a YAML text stands, by JSON pointer: a schema violation is
 * reported at the line and column of the key it is about.
 */
public final class YamlLocations {
  private static final YAMLFactory YAML = new YAMLFactory();

  private final Map<String, String> lineAndColumn;

  private YamlLocations(Map<String, String> lineAndColumn) {
    this.lineAndColumn = lineAndColumn;
  }

  /** The locations in a text that has been parsed once already (so it is valid YAML). */
  public static YamlLocations of(String text) {
    Map<String, String> found = new HashMap<>();
    try (JsonParser parser = YAML.createParser(text)) {
      for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
        // a key's own token comes first; an item's first token is where the item starts
        if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
          continue;
        }
        String pointer = parser.getParsingContext().pathAsPointer().toString();
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
          pointer =
              parser.getParsingContext().getParent() == null
                  ? ""
                  : parser.getParsingContext().getParent().pathAsPointer().toString();
        }
        JsonLocation location = parser.currentTokenLocation();
        found.putIfAbsent(pointer, location.getLineNr() + ":" + location.getColumnNr());
      }
    } catch (IOException e) {
      // the text was parsed before; without locations the messages still name the path
    }
    return new YamlLocations(found);
  }

  /** {@code line:column} of the pointer, or of its nearest enclosing key that has one. */
  public String at(String pointer) {
    for (String p = pointer; ; p = p.substring(0, p.lastIndexOf('/'))) {
      String found = lineAndColumn.get(p);
      if (found != null) {
        return found;
      }
      if (p.isEmpty()) {
        return "1:1";
      }
    }
  }

  /** A pointer as people read it: {@code schema[0].properties[2].quality[0]}. */
  public static String readable(String pointer) {
    StringBuilder path = new StringBuilder();
    for (String part : pointer.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      String key = part.replace("~1", "/").replace("~0", "~");
      if (key.chars().allMatch(Character::isDigit)) {
        path.append('[').append(key).append(']');
      } else {
        path.append(path.length() == 0 ? "" : ".").append(key);
      }
    }
    return path.toString();
  }
}
