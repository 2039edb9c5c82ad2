package kiln.llm;

import java.io.Serializable;
import kiln.core.Errors;

/**
 * What an entity found in the text becomes (Presidio's anonymizer operators).
 *
 * @param type {@code replace} (default: {@code <ENTITY_TYPE>}), {@code mask} (every letter and
 *     digit but the last {@code keep} becomes {@code maskChar}; separators stay) or {@code hash}
 *     ({@code <ENTITY_TYPE:16 hex digits>} of a salted SHA-256, the same value for the same input
 *     and salt, so rows stay joinable)
 * @param keep mask: letters and digits kept at the end (default 4)
 * @param maskChar mask: the masking character (default {@code *})
 * @param saltEnv hash: the environment variable holding the salt (required); the salt itself is
 *     never in a config, a log or a param
 */
public record PiiOperator(Type type, Integer keep, String maskChar, String saltEnv)
    implements Serializable {

  public static final int DEFAULT_KEEP = 4;
  public static final String DEFAULT_MASK_CHAR = "*";

  /** The operators. */
  public enum Type {
    REPLACE,
    MASK,
    HASH;

    @com.fasterxml.jackson.annotation.JsonCreator
    public static Type parse(String value) {
      for (Type t : values()) {
        if (t.name().equalsIgnoreCase(value)) {
          return t;
        }
      }
      throw Errors.badInput(
          "PII operator '" + value + "' does not exist", "use one of replace, mask, hash");
    }

    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public PiiOperator {
    if (type == null) {
      throw Errors.badInput(
          "a PII operator has no type",
          "write e.g. {type: mask, keep: 4}, {type: hash, saltEnv: PII_SALT} or {type: replace}");
    }
    if (type != Type.MASK && (keep != null || maskChar != null)) {
      throw Errors.badInput(
          "keep and maskChar apply to the mask operator only, not " + type,
          "remove them, or write type: mask");
    }
    if (type != Type.HASH && saltEnv != null) {
      throw Errors.badInput(
          "saltEnv applies to the hash operator only, not " + type,
          "remove it, or write type: hash");
    }
    if (type == Type.MASK) {
      keep = keep == null ? DEFAULT_KEEP : keep;
      maskChar = maskChar == null ? DEFAULT_MASK_CHAR : maskChar;
      if (keep < 0 || keep > 64) {
        throw Errors.badInput(
            "mask keep must be between 0 and 64, got " + keep, "e.g. keep: 4 for the last four");
      }
      if (maskChar.codePointCount(0, maskChar.length()) != 1) {
        throw Errors.badInput(
            "maskChar must be one character, got '" + maskChar + "'", "e.g. maskChar: '*'");
      }
    }
    if (type == Type.HASH && (saltEnv == null || !saltEnv.matches("[A-Za-z_][A-Za-z0-9_]*"))) {
      throw Errors.badInput(
          saltEnv == null
              ? "the hash operator needs saltEnv"
              : "saltEnv '" + saltEnv + "' is not an environment variable name",
          "give the NAME of the environment variable holding the salt (e.g. saltEnv: KILN_PII_SALT),"
              + " never the salt itself");
    }
  }

  public static PiiOperator replace() {
    return new PiiOperator(Type.REPLACE, null, null, null);
  }

  /** For params and idempotency keys: no secret, only the variable's name. */
  public String describe() {
    return switch (type) {
      case REPLACE -> "replace";
      case MASK -> "mask(keep=" + keep + ",char=" + maskChar + ")";
      case HASH -> "hash(saltEnv=" + saltEnv + ")";
    };
  }
}
