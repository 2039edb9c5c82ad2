package kiln.ingest;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/**
 * The schema file of {@code kiln ingest --schema FILE}: the columns to keep, their types,
 * nullability and date formats, and options for the reader (e.g. a CSV delimiter).
 *
 * <pre>
 * columns:
 *   - {name: date, type: timestamp, format: "yyyy/MM/dd HH:mm", nullable: false}
 *   - {name: delay, type: int}
 * options:
 *   delimiter: ";"
 * </pre>
 */
public record IngestSchema(
    @JsonProperty(value = "columns", required = true) List<ColumnSpec> columns,
    @JsonProperty("options") Map<String, String> options) {

  public IngestSchema {
    if (columns == null || columns.isEmpty()) {
      throw Errors.badInput(
          "the schema has no columns; list them under 'columns:'",
          "correct the schema file (--schema)");
    }
    columns = List.copyOf(columns);
    options = options == null ? Map.of() : Map.copyOf(options);
    Set<String> seen = new HashSet<>();
    for (ColumnSpec column : columns) {
      if (!seen.add(column.name().toLowerCase(java.util.Locale.ROOT))) {
        throw Errors.badInput(
            "column '" + column.name() + "' is declared twice",
            "correct the schema file (--schema)");
      }
    }
  }

  public static IngestSchema read(Path file) {
    return YamlFiles.read(file, IngestSchema.class);
  }
}
