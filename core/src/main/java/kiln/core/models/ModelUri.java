package kiln.core.models;

import kiln.core.Errors;

/**
 * A registered model as MLflow writes it: {@code models:/NAME@ALIAS} or {@code
 * models:/NAME/VERSION}.
 */
public record ModelUri(String name, String alias, String version) {
  private static final String PREFIX = "models:/";

  public ModelUri {
    if ((alias == null) == (version == null)) {
      throw Errors.badInput(
          "a model URI has an alias or a version, not both or neither: alias "
              + alias
              + ", version "
              + version,
          "write models:/NAME@ALIAS or models:/NAME/VERSION");
    }
  }

  public static ModelUri parse(String text) {
    if (text == null || !text.startsWith(PREFIX) || text.length() == PREFIX.length()) {
      throw malformed(text, "it does not start with models:/NAME");
    }
    String rest = text.substring(PREFIX.length());
    int at = rest.lastIndexOf('@');
    int slash = rest.indexOf('/');
    if (at > 0 && slash < 0) {
      String alias = rest.substring(at + 1);
      if (alias.isEmpty()) {
        throw malformed(text, "the alias after '@' is empty");
      }
      return new ModelUri(rest.substring(0, at), alias, null);
    }
    if (slash > 0 && at < 0 && rest.indexOf('/', slash + 1) < 0) {
      String version = rest.substring(slash + 1);
      if (!version.matches("[1-9][0-9]*")) {
        throw malformed(text, "version '" + version + "' is not a positive number");
      }
      return new ModelUri(rest.substring(0, slash), null, version);
    }
    throw malformed(text, "give either @ALIAS or /VERSION after the name");
  }

  private static RuntimeException malformed(String text, String why) {
    return Errors.badInput(
        "malformed model URI '" + text + "': " + why,
        "write models:/NAME@ALIAS (e.g. models:/flight-delays@champion) or models:/NAME/VERSION (e.g. models:/flight-delays/3)");
  }

  @Override
  public String toString() {
    return PREFIX + name + (alias != null ? "@" + alias : "/" + version);
  }
}
