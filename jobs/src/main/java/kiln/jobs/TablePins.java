package kiln.jobs;

import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import kiln.core.DatasetRef;
import kiln.core.KilnException;
import kiln.core.tracking.Tracking;
import kiln.lineage.RunLineage;

/**
 * Which registered, non-archived model versions pin which versions of a table: read from the tags a
 * version carries (training's {@code kiln.feature_table}/{@code kiln.data_table} with their
 * versions, and the triad's {@code kiln.input.ROLE}/{@code kiln.output.ROLE} as {@code TABLE@V}).
 */
final class TablePins {
  private TablePins() {}

  static final String FEATURE_TABLE = "kiln.feature_table";
  static final String FEATURE_VERSION = "kiln.feature_version";
  static final String DATA_TABLE = "kiln.data_table";
  static final String DATA_VERSION = "kiln.data_version";

  /** A model version that pins {@code tableVersion} of the table, in the roles it records. */
  record Pin(
      String model,
      String modelVersion,
      List<String> aliases,
      long tableVersion,
      List<String> roles) {
    Pin {
      Objects.requireNonNull(model, "model is null");
      Objects.requireNonNull(modelVersion, "modelVersion is null");
      aliases = List.copyOf(aliases);
      roles = List.copyOf(roles);
    }

    String uri() {
      return "models:/" + model + "/" + modelVersion;
    }

    @Override
    public String toString() {
      return uri()
          + (aliases.isEmpty() ? "" : " (" + String.join(", ", aliases) + ")")
          + " pins version "
          + tableVersion
          + " as "
          + String.join(", ", roles);
    }
  }

  /** Every pin on {@code table}, by model name then version; archived versions are left out. */
  static List<Pin> find(Tracking tracking, String table) {
    String wanted = normalize(table);
    List<Pin> pins = new ArrayList<>();
    for (String name : tracking.registeredModels()) {
      Map<String, List<String>> aliasesByVersion = new TreeMap<>();
      tracking
          .aliases(name)
          .forEach(
              (alias, version) ->
                  aliasesByVersion.computeIfAbsent(version, v -> new ArrayList<>()).add(alias));
      for (Tracking.ModelVersion version : tracking.modelVersions(name)) {
        if (version.archived()) {
          continue;
        }
        // a version may pin the same table version in several roles, or several versions of it
        Map<Long, List<String>> roles = new LinkedHashMap<>();
        Map<String, String> tags = version.tags();
        pinned(tags.get(FEATURE_TABLE), tags.get(FEATURE_VERSION), wanted)
            .ifPresent(v -> roles.computeIfAbsent(v, k -> new ArrayList<>()).add("feature table"));
        pinned(tags.get(DATA_TABLE), tags.get(DATA_VERSION), wanted)
            .ifPresent(v -> roles.computeIfAbsent(v, k -> new ArrayList<>()).add("data table"));
        tags.forEach(
            (key, value) -> {
              String role =
                  key.startsWith(RunLineage.INPUT_PREFIX)
                      ? "input " + key.substring(RunLineage.INPUT_PREFIX.length())
                      : key.startsWith(RunLineage.OUTPUT_PREFIX)
                          ? "output " + key.substring(RunLineage.OUTPUT_PREFIX.length())
                          : null;
              if (role == null) {
                return;
              }
              DatasetRef ref;
              try {
                ref = DatasetRef.parse(value);
              } catch (KilnException e) {
                return; // not a table reference Kiln wrote
              }
              if (ref.version() != null && normalize(ref.table()).equals(wanted)) {
                List<String> list = roles.computeIfAbsent(ref.version(), k -> new ArrayList<>());
                if (!list.contains(role)) {
                  list.add(role);
                }
              }
            });
        roles.forEach(
            (tableVersion, list) ->
                pins.add(
                    new Pin(
                        name,
                        version.version(),
                        aliasesByVersion.getOrDefault(version.version(), List.of()),
                        tableVersion,
                        list)));
      }
    }
    return pins;
  }

  private static java.util.Optional<Long> pinned(String table, String version, String wanted) {
    if (table == null || version == null || !normalize(table).equals(wanted)) {
      return java.util.Optional.empty();
    }
    try {
      return java.util.Optional.of(Long.parseLong(version));
    } catch (NumberFormatException e) {
      return java.util.Optional.empty(); // "null": the model recorded no version of it
    }
  }

  /**
   * One spelling per table: a local path made absolute, {@code file:} URIs as paths, no trailing
   * slash.
   */
  static String normalize(String table) {
    String text = table.strip();
    if (text.startsWith("file://")) {
      text = text.substring("file://".length());
    } else if (text.startsWith("file:")) {
      text = text.substring("file:".length());
    }
    if (!text.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*")) {
      text = Paths.get(text).toAbsolutePath().normalize().toString();
    }
    while (text.length() > 1 && text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return text;
  }
}
