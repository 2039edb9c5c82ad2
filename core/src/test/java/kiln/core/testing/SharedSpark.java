package kiln.core.testing;

import java.util.Map;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One SparkSession for the whole test JVM ({@code local[2]}, UI off, driver on 127.0.0.1, two
 * shuffle partitions), built by Kiln's own factory and stopped when the JVM's tests are done. Tests
 * receive it as a parameter: {@code @ExtendWith(SharedSpark.class) ... void test(SparkSession
 * spark)}.
 */
public final class SharedSpark implements ParameterResolver {

  @SuppressWarnings(
      "deprecation") // JUnit 5.14 closes AutoCloseable values; older ones need CloseableResource
  private static final class Holder
      implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    final SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL,
                "local[2]",
                false,
                Map.of(
                    "spark.sql.shuffle.partitions", "2",
                    "spark.default.parallelism", "2",
                    "spark.ui.showConsoleProgress", "false",
                    "spark.sql.session.timeZone", "UTC",
                    "spark.databricks.delta.snapshotPartitions", "2")));

    @Override
    public void close() {
      spark.stop();
    }
  }

  public static SparkSession session(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(Holder.class, k -> new Holder(), Holder.class)
        .spark;
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == SparkSession.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return session(context);
  }
}
