package kiln.core;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Collectors;

/**
 * Reads YAML files into validated records. Unknown keys are rejected; every error names the file,
 * the line and column, and the offending key or value.
 */
public final class YamlFiles {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
          .build();

  private YamlFiles() {}

  /** The mapper Kiln uses for YAML, for writing files that {@link #read} accepts. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  public static <T> T read(Path file, Class<T> type) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw Errors.notFound("file " + file + " does not exist", "check the path", e);
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot read " + file + ": " + e.getMessage(), "check the file's permissions", e);
    }
    return parse(text, file.toString(), type);
  }

  /** Parses YAML text; {@code source} names it in messages. */
  public static <T> T parse(String text, String source, Class<T> type) {
    try {
      T value = MAPPER.readValue(text, type);
      if (value == null) {
        throw Errors.badInput(source + " is empty", "write the " + describe(type) + " in it");
      }
      return value;
    } catch (UnrecognizedPropertyException e) {
      String valid =
          e.getKnownPropertyIds() == null
              ? ""
              : e.getKnownPropertyIds().stream()
                  .map(Object::toString)
                  .sorted(Comparator.naturalOrder())
                  .collect(Collectors.joining(", "));
      throw Errors.badInput(
          source + keyLocation(text, e) + "unknown key '" + e.getPropertyName() + "'" + path(e),
          "use one of the valid keys: " + valid);
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof BadInputException bad) {
        // the record said what is wrong and how to fix it; add where in the file
        throw Errors.at(where(source, e.getLocation()), bad);
      }
      throw Errors.badInput(
          where(source, e.getLocation()) + cause.getMessage(), "correct the value in " + source, e);
    } catch (InvalidFormatException e) {
      throw Errors.badInput(
          where(source, e.getLocation())
              + "value '"
              + e.getValue()
              + "'"
              + path(e)
              + " is not a valid "
              + e.getTargetType().getSimpleName()
              + enumValues(e.getTargetType()),
          "correct the value in " + source,
          e);
    } catch (MismatchedInputException e) {
      throw Errors.badInput(
          where(source, e.getLocation())
              + "wrong kind of value"
              + path(e)
              + ": "
              + e.getOriginalMessage(),
          "correct the value in " + source,
          e);
    } catch (JsonMappingException e) {
      java.util.Optional<String> syntax = yamlSyntaxError(source, e);
      if (syntax.isPresent()) {
        throw Errors.badInput(syntax.get(), "fix the YAML syntax in " + source, e);
      }
      throw Errors.badInput(
          where(source, e.getLocation()) + e.getOriginalMessage() + path(e),
          "correct " + source,
          e);
    } catch (JsonProcessingException e) {
      throw Errors.badInput(
          yamlSyntaxError(source, e)
              .orElse(
                  where(source, e.getLocation())
                      + "YAML syntax error: "
                      + firstLine(e.getOriginalMessage())),
          "fix the YAML syntax in " + source,
          e);
    }
  }

  private static String where(String source, JsonLocation location) {
    if (location == null || location.getLineNr() < 0) {
      return source + ": ";
    }
    return source + ":" + location.getLineNr() + ":" + location.getColumnNr() + ": ";
  }

  /**
   * Where the unknown key itself stands. Records are built through their constructor, so Jackson
   * has read the whole object before it complains; the key's own line is found in the text.
   */
  private static String keyLocation(String text, UnrecognizedPropertyException e) {
    java.util.regex.Matcher matcher =
        java.util.regex.Pattern.compile(
                "^([ \\t-]*)[\"']?"
                    + java.util.regex.Pattern.quote(e.getPropertyName())
                    + "[\"']?\\s*:",
                java.util.regex.Pattern.MULTILINE)
            .matcher(text);
    if (matcher.find()) {
      int line = 1;
      for (int i = 0; i < matcher.start(); i++) {
        if (text.charAt(i) == '\n') {
          line++;
        }
      }
      return ":" + line + ":" + (matcher.end(1) - matcher.start() + 1) + ": ";
    }
    JsonLocation location = e.getLocation();
    return location == null
        ? ": "
        : ":" + location.getLineNr() + ":" + location.getColumnNr() + ": ";
  }

  /** A YAML syntax error, at the mark where the problem is (SnakeYAML counts from 0). */
  private static java.util.Optional<String> yamlSyntaxError(String source, Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked
          && marked.getProblemMark() != null) {
        var mark = marked.getProblemMark();
        return java.util.Optional.of(
            source
                + ":"
                + (mark.getLine() + 1)
                + ":"
                + (mark.getColumn() + 1)
                + ": YAML syntax error: "
                + marked.getProblem());
      }
    }
    return java.util.Optional.empty();
  }

  private static String path(JsonMappingException e) {
    String path =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    return path.isEmpty() ? "" : " (at " + path + ")";
  }

  private static String enumValues(Class<?> type) {
    if (!type.isEnum()) {
      return "";
    }
    StringBuilder values = new StringBuilder("; valid values: ");
    Object[] constants = type.getEnumConstants();
    for (int i = 0; i < constants.length; i++) {
      values
          .append(i == 0 ? "" : ", ")
          .append(constants[i].toString().toLowerCase(java.util.Locale.ROOT));
    }
    return values.toString();
  }

  private static String describe(Class<?> type) {
    return type.getSimpleName();
  }

  private static String firstLine(String message) {
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
