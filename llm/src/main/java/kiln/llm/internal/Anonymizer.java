package kiln.llm.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import kiln.core.Errors;
import kiln.llm.PiiConfig;
import kiln.llm.PiiEntity;
import kiln.llm.PiiOperator;

/**
 * Applies a config's operators to the entities found. The hash operator's salts are read from the
 * environment where this runs (driver or executor) and live only in this object, which is never
 * serialized or printed.
 */
public final class Anonymizer {
  private final PiiConfig config;
  private final Map<PiiEntity, byte[]> salts = new EnumMap<>(PiiEntity.class);

  private Anonymizer(PiiConfig config, Map<String, String> env) {
    this.config = config;
    for (PiiEntity e : config.entities()) {
      PiiOperator op = config.operator(e);
      if (op.type() == PiiOperator.Type.HASH) {
        String salt = env.get(op.saltEnv());
        if (salt == null || salt.isEmpty()) {
          // the driver checked it; an executor without the variable must not fall back to no salt
          throw Errors.environment(
              "environment variable " + op.saltEnv() + " (saltEnv of " + e + ") is not set here",
              "set it on every executor, e.g. spark.executorEnv." + op.saltEnv());
        }
        salts.put(e, salt.getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  public static Anonymizer of(PiiConfig config, Map<String, String> env) {
    return new Anonymizer(config, env);
  }

  /** Replace only, whatever the config: for counting, where nothing secret is needed. */
  public static Anonymizer replacing() {
    return new Anonymizer(PiiConfig.defaults(), Map.of());
  }

  /** What {@code value}, found as {@code entity}, becomes. */
  public String apply(PiiEntity entity, String value) {
    PiiOperator op = config.operator(entity);
    return switch (op.type()) {
      case REPLACE -> entity.placeholder();
      case MASK -> mask(value, op.keep(), op.maskChar());
      case HASH -> "<" + entity.name() + ":" + hash(salts.get(entity), value) + ">";
    };
  }

  /** Every letter and digit but the last {@code keep} masked; separators stay. */
  static String mask(String value, int keep, String maskChar) {
    StringBuilder out = new StringBuilder(value.length());
    int kept = 0;
    for (int i = value.length() - 1; i >= 0; i--) {
      char c = value.charAt(i);
      if (Character.isLetterOrDigit(c)) {
        if (kept < keep) {
          out.append(c);
          kept++;
        } else {
          out.append(new StringBuilder(maskChar).reverse());
        }
      } else {
        out.append(c);
      }
    }
    return out.reverse().toString();
  }

  /** The first 16 hex digits (64 bits) of SHA-256(salt, 0x00, value). */
  static String hash(byte[] salt, String value) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(salt);
      sha.update((byte) 0);
      sha.update(value.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }
}
