package kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** Profile configuration, checked without starting Spark. GPUs are faked: none can run here. */
class SparkSessionsTest {

  /** A hand-written fake of the machine's GPUs, since a GPU cannot run here. */
  private record FakeProbe(List<String> gpus, boolean rapidsOnClasspath) implements GpuProbe {}

  private static final GpuProbe NO_GPU = new FakeProbe(List.of(), false);

  @Test
  void localProfileBindsLoopbackTurnsUiOffAndAddsDelta() {
    SparkConf conf =
        SparkSessions.conf(new SparkSettings(SparkProfile.LOCAL, null, false, Map.of()), NO_GPU);
    assertThat(conf.get("spark.master")).isEqualTo("local[*]");
    assertThat(conf.get("spark.driver.host")).isEqualTo("127.0.0.1");
    assertThat(conf.get("spark.ui.enabled")).isEqualTo("false");
    assertThat(conf.get("spark.sql.extensions"))
        .contains("io.delta.sql.DeltaSparkSessionExtension");
    assertThat(conf.get("spark.sql.catalog.spark_catalog"))
        .isEqualTo("org.apache.spark.sql.delta.catalog.DeltaCatalog");

    SparkConf withUi =
        SparkSessions.conf(
            new SparkSettings(SparkProfile.LOCAL, "local[2]", true, Map.of()), NO_GPU);
    assertThat(withUi.get("spark.ui.enabled")).isEqualTo("true");
    assertThat(withUi.get("spark.master")).isEqualTo("local[2]");
  }

  @Test
  void existingExtensionsAreKept() {
    SparkConf conf =
        SparkSessions.conf(
            new SparkSettings(
                SparkProfile.LOCAL, null, null, Map.of("spark.sql.extensions", "com.example.Ext")),
            NO_GPU);
    assertThat(conf.get("spark.sql.extensions"))
        .isEqualTo("com.example.Ext,io.delta.sql.DeltaSparkSessionExtension");
  }

  @Test
  void clusterProfileNeedsAMaster() {
    assertThatThrownBy(
            () ->
                SparkSessions.conf(
                    new SparkSettings(SparkProfile.CLUSTER, null, null, Map.of()), NO_GPU))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the cluster profile needs a Spark master");
    SparkConf conf =
        SparkSessions.conf(
            new SparkSettings(SparkProfile.CLUSTER, "spark://127.0.0.1:7077", null, Map.of()),
            NO_GPU);
    assertThat(conf.get("spark.master")).isEqualTo("spark://127.0.0.1:7077");
  }

  @Test
  void gpuProfileRefusesWithoutRapidsOrGpu() {
    SparkSettings gpu =
        new SparkSettings(SparkProfile.GPU, "spark://127.0.0.1:7077", null, Map.of());
    assertThatThrownBy(() -> SparkSessions.conf(gpu, NO_GPU))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("com.nvidia.spark.SQLPlugin is not on the classpath");
    assertThatThrownBy(() -> SparkSessions.conf(gpu, new FakeProbe(List.of(), true)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("found no GPU on this machine")
        .hasMessageContaining("spark.kiln.gpu.driverCheck=skip");
  }

  @Test
  void gpuProfileOnTheRealMachineStopsCleanly() {
    // core's test classpath has no RAPIDS jar (whether or not the host has a GPU): the real probe
    // must
    // find that out and stop with the message and its fix, not crash in Spark
    GpuProbe real = GpuProbe.system();
    assertThat(real.rapidsOnClasspath()).isFalse();
    assertThatThrownBy(
            () ->
                SparkSessions.create(
                    new SparkSettings(SparkProfile.GPU, "local[1]", null, Map.of()), real))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "the gpu profile needs the NVIDIA RAPIDS Accelerator, and com.nvidia.spark.SQLPlugin"
                + " is not on the classpath")
        .hasMessageContaining(
            "fix: add the jar with `spark-submit --jars rapids-4-spark_2.12-25.04.0-cuda12.jar ...`");
  }

  @Test
  void gpuProfileAddsRapidsAndComputesTaskGpuShare() {
    SparkSettings gpu =
        new SparkSettings(
            SparkProfile.GPU, "spark://127.0.0.1:7077", null, Map.of("spark.executor.cores", "4"));
    SparkConf conf = SparkSessions.conf(gpu, new FakeProbe(List.of("/dev/nvidia0"), true));
    assertThat(conf.get("spark.plugins")).isEqualTo("com.nvidia.spark.SQLPlugin");
    assertThat(conf.get("spark.rapids.sql.enabled")).isEqualTo("true");
    assertThat(conf.get("spark.executor.resource.gpu.amount")).isEqualTo("1");
    assertThat(conf.get("spark.task.resource.gpu.amount")).isEqualTo("0.25");

    SparkConf userWins =
        SparkSessions.conf(
            new SparkSettings(
                SparkProfile.GPU,
                "spark://h:7077",
                null,
                Map.of(
                    "spark.rapids.sql.concurrentGpuTasks",
                    "4",
                    "spark.task.resource.gpu.amount",
                    "0.5")),
            new FakeProbe(List.of("/dev/nvidia0"), true));
    assertThat(userWins.get("spark.rapids.sql.concurrentGpuTasks")).isEqualTo("4");
    assertThat(userWins.get("spark.task.resource.gpu.amount")).isEqualTo("0.5");
  }

  @Test
  void driverCheckCanBeSkippedForCpuDrivers() {
    SparkConf conf =
        SparkSessions.conf(
            new SparkSettings(
                SparkProfile.GPU,
                "spark://h:7077",
                null,
                Map.of(SparkSessions.GPU_DRIVER_CHECK, "skip")),
            new FakeProbe(List.of(), true));
    assertThat(conf.get("spark.plugins")).isEqualTo("com.nvidia.spark.SQLPlugin");
  }
}
