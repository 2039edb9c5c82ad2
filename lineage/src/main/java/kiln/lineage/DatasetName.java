package kiln.lineage;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * A table's OpenLineage identity, after the spec's dataset naming: the namespace is the storage
 * URI's scheme and authority ({@code s3://bucket}, {@code hdfs://namenode:8020}, {@code file} for
 * local paths), the name its path. {@code s3a:} and {@code s3n:} are named {@code s3:}, so the same
 * bucket is one namespace whichever Hadoop connector wrote it.
 */
public record DatasetName(String namespace, String name) {
  public DatasetName {
    Objects.requireNonNull(namespace, "namespace is null");
    Objects.requireNonNull(name, "name is null");
  }

  public static DatasetName of(String table) {
    Objects.requireNonNull(table, "table is null");
    boolean windowsDrive = table.length() > 1 && table.charAt(1) == ':';
    if (!windowsDrive && table.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
      URI uri = URI.create(table);
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (scheme.equals("file")) {
        return new DatasetName("file", Path.of(uri).toAbsolutePath().normalize().toString());
      }
      if (scheme.equals("s3a") || scheme.equals("s3n")) {
        scheme = "s3";
      }
      String path = uri.getPath() == null ? "" : uri.getPath();
      String name = path.startsWith("/") ? path.substring(1) : path;
      String namespace = uri.getAuthority() == null ? scheme : scheme + "://" + uri.getAuthority();
      return new DatasetName(
          namespace, name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
    }
    return new DatasetName("file", Path.of(table).toAbsolutePath().normalize().toString());
  }
}
