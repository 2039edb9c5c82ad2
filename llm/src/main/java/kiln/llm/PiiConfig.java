package kiln.llm;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import kiln.core.Errors;

/**
 * What is redacted and how: the entity types, an operator per type (replace when none is given) and
 * the regions whose national phone formats are recognised (numbers written with {@code +} and a
 * country code are recognised whatever the regions). In YAML either a list of entity types ({@code
 * pii: [EMAIL_ADDRESS, PHONE_NUMBER]}) or the full block.
 *
 * @param entities the types redacted (default all); an empty list redacts nothing
 * @param operators per type; a type without one is replaced with {@code <ENTITY_TYPE>}
 * @param regions ISO 3166 region codes for national phone formats (default US, GB)
 */
@JsonDeserialize(using = PiiConfig.Reader.class)
public record PiiConfig(
    List<PiiEntity> entities, Map<PiiEntity, PiiOperator> operators, List<String> regions)
    implements Serializable {

  /**
   * US and GB: their plans are strict enough for validation to reject numbers no one could have
   * (Germany's takes almost any grouping of 6-11 digits, so DE is an explicit choice).
   */
  public static final List<String> DEFAULT_REGIONS = List.of("US", "GB");

  public PiiConfig {
    entities =
        entities == null
            ? List.of(PiiEntity.values())
            : entities.stream().distinct().sorted().toList();
    Map<PiiEntity, PiiOperator> ops = new EnumMap<>(PiiEntity.class);
    if (operators != null) {
      for (Map.Entry<PiiEntity, PiiOperator> e : operators.entrySet()) {
        if (e.getKey() == null || e.getValue() == null) {
          throw Errors.badInput(
              "pii.operators has an empty entry",
              "write e.g. operators: {CREDIT_CARD: {type: mask}}");
        }
        if (!entities.contains(e.getKey())) {
          throw Errors.badInput(
              "pii.operators names "
                  + e.getKey()
                  + ", which is not among the redacted entities "
                  + entities,
              "add " + e.getKey() + " to pii.entities or remove its operator");
        }
        ops.put(e.getKey(), e.getValue());
      }
    }
    List<String> normalised = new ArrayList<>();
    Set<String> supported = PhoneNumberUtil.getInstance().getSupportedRegions();
    for (String r : regions == null ? DEFAULT_REGIONS : regions) {
      String code = r == null ? "" : r.trim().toUpperCase(Locale.ROOT);
      // Presidio writes UK; libphonenumber and ISO 3166 write GB
      code = code.equals("UK") ? "GB" : code;
      if (!supported.contains(code)) {
        throw Errors.badInput(
            "pii.regions: '" + r + "' is not a region libphonenumber knows",
            "use ISO 3166 codes such as US, GB, DE, FR, IN (" + supported.size() + " are known)");
      }
      if (!normalised.contains(code)) {
        normalised.add(code);
      }
    }
    operators = java.util.Collections.unmodifiableMap(ops);
    regions = List.copyOf(normalised);
  }

  /** The block form's keys; unknown ones are refused like any config key. */
  private record Block(
      List<PiiEntity> entities, Map<PiiEntity, PiiOperator> operators, List<String> regions) {}

  /** Reads either form: a list of types, or the block. */
  static final class Reader extends StdDeserializer<PiiConfig> {
    private static final long serialVersionUID = 1L;

    Reader() {
      super(PiiConfig.class);
    }

    @Override
    public PiiConfig deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() == JsonToken.START_ARRAY) {
        List<PiiEntity> list =
            ctxt.readValue(
                p, ctxt.getTypeFactory().constructCollectionType(List.class, PiiEntity.class));
        return of(list);
      }
      Block block = ctxt.readValue(p, Block.class);
      return new PiiConfig(block.entities(), block.operators(), block.regions());
    }
  }

  /** {@code pii: [TYPE, ...]}: those types, replaced, default regions. */
  public static PiiConfig of(List<PiiEntity> entities) {
    return new PiiConfig(entities == null ? List.of() : entities, null, null);
  }

  public static PiiConfig defaults() {
    return new PiiConfig(null, null, null);
  }

  /** The operator of a type: its own, or replace. */
  public PiiOperator operator(PiiEntity entity) {
    return operators.getOrDefault(entity, PiiOperator.replace());
  }

  /**
   * Every salt variable the operators need is set: checked on the driver before any row is read
   * (the executors read it again; on a cluster it must be passed as spark.executorEnv.NAME).
   */
  public void checkSecrets(Map<String, String> env) {
    for (PiiOperator op : operators.values()) {
      if (op.type() == PiiOperator.Type.HASH) {
        String salt = env.get(op.saltEnv());
        if (salt == null || salt.isEmpty()) {
          throw Errors.badInput(
              "environment variable " + op.saltEnv() + " (the hash operator's saltEnv) is not set",
              "export it with a secret salt (on a cluster, also as spark.executorEnv."
                  + op.saltEnv()
                  + ")");
        }
      }
    }
  }

  /** For MLflow params and idempotency keys: no secret, only variable names. */
  public String describe() {
    Map<String, String> ops = new LinkedHashMap<>();
    for (PiiEntity e : entities) {
      ops.put(e.name(), operator(e).describe());
    }
    return ops + " regions " + new TreeSet<>(regions);
  }
}
