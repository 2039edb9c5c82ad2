package kiln.ingest;

import java.util.Map;
import java.util.Objects;
import kiln.core.Errors;
import kiln.core.WriteMode;

/**
 * What to ingest, where.
 *
 * @param source a file or directory, path or URI
 * @param schema the declared schema, or null to infer types
 * @param where an optional Spark SQL predicate on the source's columns; rows it excludes are not
 *     ingested
 * @param options reader options (e.g. {@code delimiter}); the schema file's options come first
 * @param idempotencyKey identifies this load; null derives one from the source files, table and
 *     settings
 */
public record IngestSpec(
    String source,
    SourceFormat format,
    String table,
    IngestSchema schema,
    WriteMode mode,
    String where,
    Map<String, String> options,
    String idempotencyKey) {

  public IngestSpec {
    Objects.requireNonNull(format, "format is null");
    Objects.requireNonNull(mode, "mode is null");
    if (source == null || source.isBlank()) {
      throw Errors.badInput("no source was given", "pass --source PATH_OR_URI");
    }
    if (table == null || table.isBlank()) {
      throw Errors.badInput(
          "no table was given", "pass --output PATH_OR_URI of the Delta table to write");
    }
    if (table.contains("@") && !table.contains("/")) {
      throw Errors.badInput(
          "--output " + table + " has a version; a write always makes a new version",
          "give the table without @VERSION");
    }
    options = options == null ? Map.of() : Map.copyOf(options);
    where = where == null || where.isBlank() ? null : where;
  }

  public static IngestSpec of(String source, SourceFormat format, String table) {
    return new IngestSpec(source, format, table, null, WriteMode.APPEND, null, Map.of(), null);
  }

  public IngestSpec withMode(WriteMode newMode) {
    return new IngestSpec(source, format, table, schema, newMode, where, options, idempotencyKey);
  }

  public IngestSpec withWhere(String predicate) {
    return new IngestSpec(source, format, table, schema, mode, predicate, options, idempotencyKey);
  }

  public IngestSpec withSchema(IngestSchema newSchema) {
    return new IngestSpec(source, format, table, newSchema, mode, where, options, idempotencyKey);
  }

  /** The table where rejected records go: {@code TABLE_quarantine}. */
  public String quarantineTable() {
    String base = table.endsWith("/") ? table.substring(0, table.length() - 1) : table;
    return base + "_quarantine";
  }
}
