package kiln.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cluster-config/'s spark-defaults, checked against the real registries: Spark's and the RAPIDS
 * 25.04 jar's (on this module's test classpath). No GPU is needed to read them.
 */
class SparkDefaultsTest {
  static final Path CLUSTER_CONFIG = Path.of("../cluster-config");
  static SparkConfigCheck check;

  @BeforeAll
  static void loadRegistries() {
    check = SparkConfigCheck.load();
  }

  @Test
  void theCpuClusterDefaultsAreAllSparkSettingsThatParseAndLoadNoGpu() {
    Map<String, String> cpu = SparkConfigCheck.read(CLUSTER_CONFIG.resolve("spark-cpu.conf"));
    assertThat(cpu).containsKey("spark.executor.cores");
    assertThat(check.check(cpu)).isEmpty();
    assertThat(cpu.getOrDefault("spark.plugins", "")).doesNotContain(Rapids.PLUGIN);
    assertThat(cpu.keySet())
        .noneMatch(k -> k.contains(".resource.gpu.") || k.startsWith("spark.rapids."));
  }

  @Test
  void theGpuClusterDefaultsAreKnownToSparkAndRapidsAndDeclareTheGpus() throws Exception {
    Map<String, String> gpu = SparkConfigCheck.read(CLUSTER_CONFIG.resolve("spark-gpu.conf"));
    assertThat(check.check(gpu)).isEmpty();
    assertThat(gpu.get("spark.plugins")).isEqualTo(Rapids.PLUGIN);
    assertThat(gpu.get("spark.rapids.sql.enabled")).isEqualTo("true");
    assertThat(Double.parseDouble(gpu.get("spark.executor.resource.gpu.amount"))).isPositive();
    assertThat(Integer.parseInt(gpu.get("spark.rapids.sql.concurrentGpuTasks"))).isPositive();
    // never crash a job on a query RAPIDS cannot plan
    assertThat(gpu.get("spark.rapids.sql.suppressPlanningFailure")).isEqualTo("true");
    Path script = Path.of(gpu.get("spark.executor.resource.gpu.discoveryScript"));
    assertThat(script).isAbsolute();
    Path shipped = CLUSTER_CONFIG.resolve(script.getFileName());
    assertThat(shipped).exists().isExecutable();
  }

  @Test
  void theDiscoveryScriptListsTheGpusNvidiaSmiReportsAndNoneWithoutIt(@TempDir Path dir)
      throws Exception {
    Path script = CLUSTER_CONFIG.resolve("getGpusResources.sh").toAbsolutePath();
    assertThat(run(script, dir)).isEqualTo("{\"name\": \"gpu\", \"addresses\": []}");
    // a hand-written nvidia-smi (no GPU here) answering as it does on a two-GPU node
    Path fake = dir.resolve("nvidia-smi");
    Files.writeString(fake, "#!/bin/sh\necho 0\necho 1\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThat(run(script, dir)).isEqualTo("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\"]}");
  }

  @Test
  void aMisspelledOrUnparsableKeyIsNamedWithTheFix() {
    List<SparkConfigCheck.Problem> problems =
        check.check(
            Map.of(
                "spark.rapids.sql.concurentGpuTasks", "2",
                "spark.rapids.sql.concurrentGpuTasks", "two",
                "spark.executor.memroy", "4g",
                "spark.executor.memory", "lots",
                "spark.executor.resource.gpu.amount", "one"));
    assertThat(problems)
        .extracting(SparkConfigCheck.Problem::key)
        .containsExactlyInAnyOrder(
            "spark.rapids.sql.concurentGpuTasks",
            "spark.rapids.sql.concurrentGpuTasks",
            "spark.executor.memroy",
            "spark.executor.memory",
            "spark.executor.resource.gpu.amount");
    assertThat(problems)
        .filteredOn(p -> p.key().equals("spark.rapids.sql.concurentGpuTasks"))
        .singleElement()
        .extracting(SparkConfigCheck.Problem::problem)
        .isEqualTo(
            "not a setting of the RAPIDS Accelerator 25.04.0 (did you mean"
                + " spark.rapids.sql.concurrentGpuTasks?)");
    assertThat(problems)
        .filteredOn(p -> p.key().equals("spark.rapids.sql.concurrentGpuTasks"))
        .singleElement()
        .extracting(SparkConfigCheck.Problem::problem)
        .asString()
        .startsWith("'two' does not parse");
    assertThat(problems)
        .filteredOn(p -> p.key().equals("spark.executor.memroy"))
        .singleElement()
        .extracting(SparkConfigCheck.Problem::problem)
        .isEqualTo("not a setting of Spark 3.5.5");
    assertThat(check.rapidsKeys())
        .contains("spark.rapids.sql.mode", "spark.rapids.skipGpuArchitectureCheck");
  }

  @Test
  void explainOnlySettingsAreRapidsSettingsToo() {
    assertThat(check.check(Rapids.explainOnlyConf())).isEmpty();
  }

  private static String run(Path script, Path pathDir) throws IOException, InterruptedException {
    // only sed and paste (and the fake, when there is one) on the PATH: a GPU machine's real
    // nvidia-smi must not answer here
    for (String tool : List.of("sed", "paste")) {
      Path link = pathDir.resolve(tool);
      if (!Files.exists(link)) {
        Files.createSymbolicLink(link, which(tool));
      }
    }
    ProcessBuilder builder =
        new ProcessBuilder("/bin/bash", script.toString()).redirectErrorStream(true);
    builder.environment().put("PATH", pathDir.toString());
    Process process = builder.start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(process.getInputStream().readAllBytes()).trim();
  }

  private static Path which(String tool) {
    for (String dir : List.of("/usr/bin", "/bin")) {
      Path candidate = Path.of(dir, tool);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(tool + " is not in /usr/bin or /bin");
  }
}
