package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import kiln.core.BadInputException;
import kiln.core.GpuProbe;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/**
 * Where XGBoost trains, decided from the session's configuration and this machine's devices, with
 * the reason. No Spark, no XGBoost, no CUDA: the probe of this machine's GPUs is faked (none here).
 */
class DeviceTest {
  static final GpuProbe NO_GPU = probe(List.of());
  static final GpuProbe ONE_GPU = probe(List.of("/dev/nvidia0"));

  @Test
  void onAClusterExecutorGpusDecideEvenWhenTheDriverHasNone() {
    // the gpu profile on Kubernetes, driver on a CPU node
    SparkConf executorsWithGpus =
        new SparkConf(false)
            .setMaster("k8s://https://10.0.0.1:6443")
            .set("spark.executor.resource.gpu.amount", "1")
            .set("spark.task.resource.gpu.amount", "0.25");
    Device.Choice choice = Device.AUTO.decide(executorsWithGpus, NO_GPU);
    assertThat(choice.device()).isEqualTo("cuda");
    assertThat(choice.reason())
        .contains("executors with GPUs")
        .contains("spark.executor.resource.gpu.amount=1")
        .contains("spark.task.resource.gpu.amount=0.25")
        .contains("the driver's own GPUs do not matter");
    assertThat(Device.CUDA.decide(executorsWithGpus, NO_GPU).device()).isEqualTo("cuda");
  }

  @Test
  void onAClusterTasksWithoutAGpuShareTrainOnTheCpuAndSaySo() {
    SparkConf noTaskShare =
        new SparkConf(false).setMaster("yarn").set("spark.executor.resource.gpu.amount", "1");
    Device.Choice choice = Device.AUTO.decide(noTaskShare, ONE_GPU);
    assertThat(choice.device()).isEqualTo("cpu");
    assertThat(choice.reason()).contains("spark.task.resource.gpu.amount is not set");
    assertThatThrownBy(() -> Device.CUDA.decide(noTaskShare, ONE_GPU))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the Spark session has no GPU resources");
    Device.Choice plain = Device.AUTO.decide(new SparkConf(false).setMaster("yarn"), ONE_GPU);
    assertThat(plain.device()).isEqualTo("cpu");
    assertThat(plain.reason()).contains("the executors have no GPU resources");
  }

  @Test
  void inLocalModeThisMachinesGpusAreNeededAsWell() {
    SparkConf local =
        new SparkConf(false).setMaster("local[4]").set("spark.executor.resource.gpu.amount", "1");
    Device.Choice withoutGpu = Device.AUTO.decide(local, NO_GPU);
    assertThat(withoutGpu.device()).isEqualTo("cpu");
    assertThat(withoutGpu.reason()).contains("no GPU (no /dev/nvidia* device)");
    Device.Choice withGpu = Device.AUTO.decide(local, ONE_GPU);
    assertThat(withGpu.device()).isEqualTo("cuda");
    assertThat(withGpu.reason()).contains("/dev/nvidia0");
    assertThatThrownBy(() -> Device.CUDA.decide(local, NO_GPU))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("this machine has no GPU");
    // no master set: Spark's default for Kiln, local
    assertThat(Device.AUTO.decide(new SparkConf(false), ONE_GPU).reason())
        .contains("the session has no GPU resources");
  }

  @Test
  void cpuIsAlwaysCpu() {
    SparkConf gpus =
        new SparkConf(false)
            .setMaster("yarn")
            .set("spark.executor.resource.gpu.amount", "1")
            .set("spark.task.resource.gpu.amount", "1");
    assertThat(Device.CPU.decide(gpus, ONE_GPU))
        .isEqualTo(new Device.Choice("cpu", "device: cpu was asked for"));
  }

  private static GpuProbe probe(List<String> gpus) {
    return new GpuProbe() {
      @Override
      public List<String> gpus() {
        return gpus;
      }

      @Override
      public boolean rapidsOnClasspath() {
        return true;
      }
    };
  }
}
