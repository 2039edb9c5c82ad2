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

  /**
   * The dataset of files read from several roots (a glob's matches): their deepest common
   * directory; one root is its own dataset. Column lineage names a file source so, and so does the
   * input a run declares for it: the two meet.
   */
  public static DatasetName ofRoots(java.util.List<String> roots) {
    if (roots.isEmpty()) {
      throw new IllegalStateException("no roots");
    }
    String path = roots.get(0);
    for (String root : roots.subList(1, roots.size())) {
      path = commonParent(path, root);
    }
    return of(path);
  }

  /**
   * The dataset a job's file source names ({@code location}: a directory, a file or a glob), as
   * Spark's reading of it names it: the roots the glob matches, else (nothing matches, no file
   * system) the directory before the glob's first wildcard.
   */
  public static DatasetName ofSource(String location, org.apache.hadoop.conf.Configuration hadoop) {
    Objects.requireNonNull(location, "location is null");
    int wildcard = firstWildcard(location);
    if (wildcard < 0) {
      return of(location);
    }
    if (hadoop != null) {
      try {
        org.apache.hadoop.fs.Path pattern = new org.apache.hadoop.fs.Path(location);
        org.apache.hadoop.fs.FileStatus[] matches =
            pattern.getFileSystem(hadoop).globStatus(pattern);
        if (matches != null && matches.length > 0) {
          java.util.List<String> roots = new java.util.ArrayList<>();
          for (org.apache.hadoop.fs.FileStatus match : matches) {
            roots.add(match.getPath().toString());
          }
          return ofRoots(roots);
        }
      } catch (java.io.IOException | RuntimeException e) {
        // unreadable here: named from the pattern itself
      }
    }
    int slash = location.lastIndexOf('/', wildcard);
    return of(slash <= 0 ? (slash == 0 ? "/" : ".") : location.substring(0, slash));
  }

  private static int firstWildcard(String location) {
    int first = -1;
    for (char c : new char[] {'*', '?', '[', '{'}) {
      int at = location.indexOf(c);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
      }
    }
    return first;
  }

  private static String commonParent(String a, String b) {
    int end = 0;
    for (int i = 0; i < Math.min(a.length(), b.length()) && a.charAt(i) == b.charAt(i); i++) {
      if (a.charAt(i) == '/') {
        end = i;
      }
    }
    return end == 0 ? a : a.substring(0, end);
  }
}
