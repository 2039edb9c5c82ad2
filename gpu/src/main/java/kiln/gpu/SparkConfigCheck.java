package kiln.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import kiln.core.Errors;

/**
 * Checks Spark settings (a spark-defaults file) against the libraries' own registries: every {@code
 * spark.rapids.*} key must be one the RAPIDS jar registers and its value must parse with RAPIDS'
 * converter; every other {@code spark.*} key must be one Spark registers (or a resource key, which
 * Spark builds from the resource's name), its value parsed by Spark's converter. A misspelled key
 * is named, not ignored as Spark and RAPIDS ignore it.
 */
public final class SparkConfigCheck {
  /** Keys RAPIDS builds per operator and expression (GpuOverrides), not in its conf registry. */
  private static final Pattern RAPIDS_PER_OPERATOR =
      Pattern.compile(
          "spark\\.rapids\\.sql\\.(exec|expression|input|partitioning|command|format)\\.\\w+(\\.\\w+)*");

  private static final Pattern RESOURCE =
      Pattern.compile(
          "spark\\.(driver|executor|task)\\.resource\\.[A-Za-z0-9_-]+\\.(amount|discoveryScript|vendor)");

  /** Kiln's own settings (read by Kiln, not Spark). */
  private static final List<String> KILN_PREFIXES = List.of("spark.kiln.");

  /** A key that is wrong, and why. */
  public record Problem(String key, String value, String problem) {}

  private final Map<String, Object> rapidsEntries;

  private SparkConfigCheck(Map<String, Object> rapidsEntries) {
    this.rapidsEntries = rapidsEntries;
  }

  /** Reads RAPIDS' registry from its jar (which must be on the classpath). */
  public static SparkConfigCheck load() {
    Rapids.requireOnClasspath();
    return new SparkConfigCheck(rapidsRegistry());
  }

  /** The RAPIDS keys the jar registers, e.g. to list them. */
  public java.util.Set<String> rapidsKeys() {
    return java.util.Collections.unmodifiableSet(rapidsEntries.keySet());
  }

  /** spark-defaults syntax (key, whitespace, value; # comments) is java.util.Properties syntax. */
  public static Map<String, String> read(Path file) {
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      properties.load(in);
    } catch (java.nio.file.NoSuchFileException e) {
      throw Errors.notFound(
          "no Spark settings file " + file, "give the path of a spark-defaults file");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    Map<String, String> values = new LinkedHashMap<>();
    properties.stringPropertyNames().stream()
        .sorted()
        .forEach(k -> values.put(k, properties.getProperty(k).trim()));
    return values;
  }

  /** Every problem of {@code settings}; empty when all are known and parse. */
  public List<Problem> check(Map<String, String> settings) {
    List<Problem> problems = new ArrayList<>();
    settings.forEach(
        (key, value) -> {
          String problem = problem(key, value);
          if (problem != null) {
            problems.add(new Problem(key, value, problem));
          }
        });
    return problems;
  }

  private String problem(String key, String value) {
    if (KILN_PREFIXES.stream().anyMatch(key::startsWith)) {
      return null;
    }
    if (key.startsWith("spark.rapids.")) {
      Object entry = rapidsEntries.get(key);
      if (entry == null) {
        return RAPIDS_PER_OPERATOR.matcher(key).matches()
            ? parseBoolean(value)
            : "not a setting of the RAPIDS Accelerator " + Rapids.VERSION + near(key);
      }
      return convert(entry, "converter", value);
    }
    if (!key.startsWith("spark.")) {
      return "not a Spark setting (Spark's settings start with spark.)";
    }
    if (RESOURCE.matcher(key).matches()) {
      return key.endsWith(".amount") ? parseNumber(value) : null;
    }
    Object entry = sparkEntry(key);
    if (entry == null) {
      return "not a setting of Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION();
    }
    return convert(entry, "valueConverter", value);
  }

  private String near(String key) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String known : rapidsEntries.keySet()) {
      int d = distance(key, known);
      if (d < bestDistance) {
        bestDistance = d;
        best = known;
      }
    }
    return best != null && bestDistance <= 3 ? " (did you mean " + best + "?)" : "";
  }

  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private static String parseBoolean(String value) {
    return value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")
        ? null
        : "'" + value + "' is not true or false";
  }

  private static String parseNumber(String value) {
    try {
      double amount = Double.parseDouble(value);
      return amount > 0 ? null : "a resource amount must be positive, not " + value;
    } catch (NumberFormatException e) {
      return "'" + value + "' is not a number";
    }
  }

  /** Applies the entry's own converter (a Scala function) to the value. */
  private static String convert(Object entry, String converterMethod, String value) {
    try {
      Method method = entry.getClass().getMethod(converterMethod);
      Object converter = method.invoke(entry);
      ((scala.Function1<String, ?>) converter).apply(value);
      return null;
    } catch (java.lang.reflect.InvocationTargetException e) {
      return "'" + value + "' does not parse: " + e.getCause().getMessage();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read " + entry.getClass().getName(), e);
    } catch (RuntimeException e) {
      return "'" + value + "' does not parse: " + e.getMessage();
    }
  }

  private static Object sparkEntry(String key) {
    try {
      // the registries fill as the objects holding the entries initialise
      for (String holder :
          List.of(
              "org.apache.spark.internal.config.package$",
              "org.apache.spark.internal.config.Python$",
              "org.apache.spark.internal.config.UI$",
              "org.apache.spark.internal.config.Network$",
              "org.apache.spark.internal.config.Worker$",
              "org.apache.spark.internal.config.Deploy$",
              "org.apache.spark.internal.config.Kryo$",
              "org.apache.spark.internal.config.History$",
              "org.apache.spark.internal.config.Status$",
              "org.apache.spark.internal.config.Tests$",
              "org.apache.spark.sql.internal.SQLConf$",
              "org.apache.spark.sql.internal.StaticSQLConf$")) {
        Class.forName(holder, true, SparkConfigCheck.class.getClassLoader());
      }
      Class<?> registry =
          Class.forName(
              "org.apache.spark.internal.config.ConfigEntry$",
              true,
              SparkConfigCheck.class.getClassLoader());
      Object module = registry.getField("MODULE$").get(null);
      return registry.getMethod("findEntry", String.class).invoke(module, key);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read Spark's configuration registry", e);
    }
  }

  /** key -> ConfEntry, from RapidsConf's registry, loaded as RAPIDS loads it (its shim loader). */
  private static Map<String, Object> rapidsRegistry() {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    try {
      // RAPIDS adds its shim folders to the context class loader, as spark-submit sets it up
      // (STACK.md #7)
      ClassLoader loader =
          previous instanceof org.apache.spark.util.MutableURLClassLoader
              ? previous
              : new org.apache.spark.util.MutableURLClassLoader(new java.net.URL[0], previous);
      thread.setContextClassLoader(loader);
      Class<?> shimLoader = Class.forName("com.nvidia.spark.rapids.ShimLoader$", true, loader);
      Object shims = shimLoader.getField("MODULE$").get(null);
      ClassLoader shimClasses =
          (ClassLoader) shimLoader.getMethod("getShimClassLoader").invoke(shims);
      Class<?> rapidsConf = Class.forName("com.nvidia.spark.rapids.RapidsConf$", true, shimClasses);
      Object conf = rapidsConf.getField("MODULE$").get(null);
      Field registered = rapidsConf.getDeclaredField("registeredConfs");
      registered.setAccessible(true);
      scala.collection.Seq<?> entries = (scala.collection.Seq<?>) registered.get(conf);
      Map<String, Object> byKey = new java.util.TreeMap<>();
      scala.collection.Iterator<?> it = entries.iterator();
      while (it.hasNext()) {
        Object entry = it.next();
        byKey.put((String) entry.getClass().getMethod("key").invoke(entry), entry);
      }
      return byKey;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "cannot read the RAPIDS Accelerator's configuration registry", e);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }
}
