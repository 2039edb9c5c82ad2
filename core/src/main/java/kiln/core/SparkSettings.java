package kiln.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to build the SparkSession. Every field may be null, meaning "not set at this level"; {@link
 * KilnSettings#resolve} layers the levels and {@link KilnSettings#defaults} fills what is left.
 */
public record SparkSettings(
    SparkProfile profile, String master, Boolean ui, Map<String, String> conf) {
  public SparkSettings {
    if (master != null && master.isBlank()) {
      throw Errors.badInput(
          "spark master is blank; give a master URL such as local[*] or spark://host:7077",
          "give --master a URL, or leave it out (and spark.master out of the settings file)");
    }
    conf = conf == null ? null : Map.copyOf(conf);
  }

  static SparkSettings unset() {
    return new SparkSettings(null, null, null, null);
  }

  /** Fields of {@code higher} win where set; conf maps are merged key by key. */
  SparkSettings overriddenBy(SparkSettings higher) {
    if (higher == null) {
      return this;
    }
    Map<String, String> merged = new LinkedHashMap<>();
    if (conf != null) {
      merged.putAll(conf);
    }
    if (higher.conf != null) {
      merged.putAll(higher.conf);
    }
    return new SparkSettings(
        higher.profile != null ? higher.profile : profile,
        higher.master != null ? higher.master : master,
        higher.ui != null ? higher.ui : ui,
        conf == null && higher.conf == null ? null : merged);
  }
}
