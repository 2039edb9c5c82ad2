package kiln.llm;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiln.core.Errors;

/**
 * A prompt template with {@code {{variable}}} placeholders, as MLflow's Prompt Registry writes
 * them. Rendering is strict: every variable must be bound, and a binding the template does not use
 * is an error too (it is almost always a typo in the template or the config).
 */
public record PromptTemplate(String text) implements Serializable {
  /** The names MLflow allows for prompts and variables. */
  static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_.-]+");

  private static final Pattern VARIABLE = Pattern.compile("\\{\\{\\s*([^{}]*?)\\s*\\}\\}");

  public PromptTemplate {
    if (text == null || text.isBlank()) {
      throw Errors.badInput(
          "the prompt template is empty",
          "write the template's text, with {{variables}} for the inputs");
    }
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      if (!NAME.matcher(m.group(1)).matches()) {
        throw Errors.badInput(
            "prompt variable '{{" + m.group(1) + "}}' is not a valid name",
            "use letters, digits, '_', '.' and '-' only in {{variable}} names");
      }
    }
  }

  /** The variables, in order of first use. */
  public Set<String> variables() {
    Set<String> names = new LinkedHashSet<>();
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /**
   * Checks, before any token is spent, that the variables are exactly the bound ones; {@code what}
   * names the template in the message.
   */
  public void checkBindings(Collection<String> bound, String what) {
    Set<String> missing = new TreeSet<>(variables());
    missing.removeAll(bound);
    if (!missing.isEmpty()) {
      throw Errors.badInput(
          what
              + " uses variable"
              + (missing.size() == 1 ? " " : "s ")
              + braces(missing)
              + " that the job does not bind; it binds "
              + braces(bound),
          "bind them in the job config, or use another prompt version");
    }
    Set<String> unused = new TreeSet<>(bound);
    unused.removeAll(variables());
    if (!unused.isEmpty()) {
      throw Errors.badInput(
          what + " does not use " + braces(unused) + "; its variables are " + braces(variables()),
          "add the variable to the template (a new prompt version), or do not bind it");
    }
  }

  /** The template with every variable replaced; a missing value is an error. */
  public String render(Map<String, String> values) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder(text.length() + 256);
    while (m.find()) {
      String value = values.get(m.group(1));
      if (value == null) {
        throw Errors.badInput(
            "no value for prompt variable {{" + m.group(1) + "}}",
            "bind the variable in the job config");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The hex SHA-256 of a rendered prompt's UTF-8 bytes: the row's prompt hash in the output. */
  public static String sha256(String rendered) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(rendered.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  private static String braces(Collection<String> names) {
    return names.isEmpty()
        ? "nothing"
        : String.join(", ", names.stream().map(n -> "{{" + n + "}}").toList());
  }
}
