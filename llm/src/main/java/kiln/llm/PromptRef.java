package kiln.llm;

import kiln.core.Errors;

/**
 * A prompt in the registry: its name and either a version or an alias (exactly one).
 *
 * @param name the registered prompt's name
 * @param version a version number, e.g. {@code 3}
 * @param alias an alias, e.g. {@code champion}
 */
public record PromptRef(String name, String version, String alias) {
  public PromptRef {
    if (name == null || name.isBlank()) {
      throw Errors.badInput(
          "prompt.name is missing",
          "name the registered prompt, e.g. prompt: {name: ticket-triage, version: 1}");
    }
    if (!PromptTemplate.NAME.matcher(name).matches()) {
      throw Errors.badInput(
          "prompt name '" + name + "' has characters MLflow does not allow in prompt names",
          "use letters, digits, '_', '.' and '-' only");
    }
    if ((version == null) == (alias == null)) {
      throw Errors.badInput(
          "prompt "
              + name
              + " needs exactly one of version and alias"
              + (version == null
                  ? ", it has neither"
                  : ", it has both (" + version + ", " + alias + ")"),
          "write prompt: {name: "
              + name
              + ", version: 1} or prompt: {name: "
              + name
              + ", alias: champion}");
    }
    if (version != null && !version.matches("[1-9][0-9]*")) {
      throw Errors.badInput(
          "prompt version '" + version + "' of " + name + " is not a positive whole number",
          "give a version such as 1, or an alias instead");
    }
  }

  /** Parses {@code NAME/VERSION}, {@code NAME@ALIAS} or the {@code prompts:/} URI forms of both. */
  public static PromptRef parse(String text) {
    String rest = text.startsWith("prompts:/") ? text.substring("prompts:/".length()) : text;
    int at = rest.lastIndexOf('@');
    if (at > 0) {
      return new PromptRef(rest.substring(0, at), null, rest.substring(at + 1));
    }
    int slash = rest.lastIndexOf('/');
    if (slash > 0) {
      return new PromptRef(rest.substring(0, slash), rest.substring(slash + 1), null);
    }
    throw Errors.badInput(
        "prompt '" + text + "' names no version or alias", "write NAME/VERSION or NAME@ALIAS");
  }

  @Override
  public String toString() {
    return "prompts:/" + name + (version != null ? "/" + version : "@" + alias);
  }
}
