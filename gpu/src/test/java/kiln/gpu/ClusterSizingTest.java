package kiln.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import kiln.core.BadInputException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Executor sizes from the committed node catalog, every output checked against Spark's and the
 * RAPIDS 25.04 jar's own configuration registries (as SparkDefaultsTest checks cluster-config/). No
 * Spark session, no GPU.
 */
class ClusterSizingTest {
  static SparkConfigCheck check;
  static ClusterSizing catalog;

  @BeforeAll
  static void load() {
    check = SparkConfigCheck.load();
    catalog = ClusterSizing.catalog();
  }

  @Test
  void everyNodeTypeOfTheCatalogSizesToSettingsSparkAndRapidsKnow() {
    assertThat(catalog.types())
        .hasSizeGreaterThanOrEqualTo(20)
        .containsKeys("g4dn.xlarge", "g5.2xlarge", "p3.8xlarge", "m5.4xlarge");
    catalog
        .types()
        .forEach(
            (name, node) -> {
              ClusterSizing.Sizing sizing = catalog.size(name, 3);
              assertThat(check.check(sizing.settings())).as(name).isEmpty();
              long heap = mib(sizing.settings().get("spark.executor.memory"));
              long overhead = mib(sizing.settings().get("spark.executor.memoryOverhead"));
              int executors =
                  Integer.parseInt(sizing.settings().get("spark.executor.instances")) / 3;
              // every executor of a node fits in the node's memory less the OS's share
              assertThat((heap + overhead) * executors)
                  .as(name)
                  .isLessThanOrEqualTo(
                      (long) (node.memoryGib() * 1024) - ClusterSizing.reservedMib(node));
              int cores = Integer.parseInt(sizing.settings().get("spark.executor.cores"));
              assertThat(cores * executors).as(name).isLessThanOrEqualTo(node.cores());
              if (node.gpuCount() > 0) {
                assertThat(executors).as(name).isEqualTo(node.gpuCount());
                double share =
                    Double.parseDouble(sizing.settings().get("spark.task.resource.gpu.amount"));
                // Spark runs floor(1 / share) tasks per GPU: one per core, never fewer
                assertThat((int) Math.floor(1 / share)).as(name).isGreaterThanOrEqualTo(cores);
                assertThat(sizing.settings()).containsEntry("spark.plugins", Rapids.PLUGIN);
              } else {
                assertThat(sizing.settings().keySet())
                    .as(name)
                    .noneMatch(k -> k.startsWith("spark.rapids.") || k.contains(".gpu."));
              }
            });
  }

  @Test
  void aT4NodeGetsTheAutoTunersTwoConcurrentTasksAndAFourCoreShare() {
    Map<String, String> g4dn = catalog.size("g4dn.12xlarge", null).settings();
    // 48 cores and 4 T4s (16 GB): four executors of 12 cores
    assertThat(g4dn)
        .containsEntry("spark.executor.cores", "12")
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.task.resource.gpu.amount", "0.0833")
        .containsEntry("spark.rapids.sql.concurrentGpuTasks", "2")
        .containsEntry("spark.rapids.memory.pinnedPool.size", "4096m")
        .doesNotContainKey("spark.executor.instances");
    // 192 GiB less 10% (19660 MiB) in four: 44237 MiB each = heap + 4096 + 10% of the heap
    assertThat(g4dn)
        .containsEntry("spark.executor.memory", "36491m")
        .containsEntry("spark.executor.memoryOverhead", "7746m");
    // A10G, 24 GB: three; a 192-core node's executors stop at 16 cores
    assertThat(catalog.size("g5.48xlarge", null).settings())
        .containsEntry("spark.rapids.sql.concurrentGpuTasks", "3")
        .containsEntry("spark.executor.cores", "16")
        .containsEntry("spark.task.resource.gpu.amount", "0.0625");
  }

  @Test
  void aCpuNodeGetsFourCoreExecutorsAndSparksOwnOverhead() {
    ClusterSizing.Sizing m5 = catalog.size("m5.4xlarge", 2);
    assertThat(m5.settings())
        .containsEntry("spark.executor.cores", "4")
        .containsEntry("spark.executor.instances", "8");
    assertThat(m5.sparkDefaults())
        .startsWith("# kiln cluster size --node-type m5.4xlarge --nodes 2\n")
        .contains("\nspark.executor.cores                        4\n");
  }

  @Test
  void anUnknownNodeTypeIsBadInputNamingTheKnownOnes() {
    assertThatThrownBy(() -> catalog.size("g4dn.mega", null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("node type 'g4dn.mega' is not in Kiln's catalog")
        .hasMessageContaining("g4dn.xlarge")
        .hasMessageContaining("p3.2xlarge")
        .hasMessageContaining("m5.xlarge");
    assertThatThrownBy(() -> catalog.size("g4dn.xlarge", 0))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("--nodes must be at least 1");
  }

  @Test
  void taskSharesRoundDownSoThatNoCoreLosesItsTask() {
    assertThat(ClusterSizing.taskShare(1)).isEqualTo("1");
    assertThat(ClusterSizing.taskShare(4)).isEqualTo("0.25");
    assertThat(ClusterSizing.taskShare(3)).isEqualTo("0.3333");
    assertThat((int) Math.floor(1 / 0.3333)).isEqualTo(3);
  }

  private static long mib(String value) {
    assertThat(value).endsWith("m");
    return Long.parseLong(value.substring(0, value.length() - 1));
  }
}
