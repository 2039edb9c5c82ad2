package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import kiln.core.GpuProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gpu profile and {@code kiln gpu check} on a machine without a GPU, or without the RAPIDS jar:
 * a message that names what is missing and how to fix it, exit 2, and no Spark or native code run
 * (nothing written). The machine is real (this one has no GPU); the missing jar is a class loader
 * that hides RAPIDS' classes, since jobs' test classpath has the jar.
 */
class GpuProfileTest {

  @Test
  void theGpuProfileWithoutAGpuExitsTwoNamingTheMissingGpu(@TempDir Path dir) throws Exception {
    assumeTrue(GpuProbe.system().gpus().isEmpty(), "this machine has a GPU");
    Path csv = Files.writeString(dir.resolve("a.csv"), "a,b\n1,2\n");
    KilnRun run =
        KilnRun.kiln(
            "ingest",
            "--source",
            csv.toString(),
            "--format",
            "csv",
            "--output",
            dir.resolve("t").toString(),
            "--profile",
            "gpu",
            "--workdir",
            dir.resolve("work").toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(Kiln.BAD_INPUT);
    assertThat(run.err())
        .contains("the gpu profile found no GPU on this machine (no /dev/nvidia* device)")
        .contains("fix: run on a GPU node, run with --profile cluster or local (CPU)")
        .doesNotContain("internal error");
    assertThat(dir.resolve("t")).doesNotExist();
  }

  @Test
  void theGpuProfileWithoutTheRapidsJarExitsTwoNamingTheJar(@TempDir Path dir) throws Exception {
    Path csv = Files.writeString(dir.resolve("a.csv"), "a,b\n1,2\n");
    KilnRun run =
        withoutRapids(
            () ->
                KilnRun.kiln(
                    "ingest",
                    "--source",
                    csv.toString(),
                    "--format",
                    "csv",
                    "--output",
                    dir.resolve("t").toString(),
                    "--profile",
                    "gpu",
                    "--master",
                    "local[1]",
                    "--workdir",
                    dir.resolve("work").toString()));
    assertThat(run.exitCode()).as(run.err()).isEqualTo(Kiln.BAD_INPUT);
    assertThat(run.err())
        .contains("the gpu profile needs the NVIDIA RAPIDS Accelerator")
        .contains(
            "fix: add the jar with `spark-submit --jars rapids-4-spark_2.12-25.04.0-cuda12.jar");
    assertThat(dir.resolve("t")).doesNotExist();
  }

  @Test
  void theGpuCheckWithoutTheRapidsJarExitsTwoNamingTheJar() throws Exception {
    KilnRun run = withoutRapids(() -> KilnRun.kiln("gpu", "check"));
    assertThat(run.exitCode()).as(run.err()).isEqualTo(Kiln.BAD_INPUT);
    assertThat(run.err())
        .contains("the GPU check needs the NVIDIA RAPIDS Accelerator")
        .contains("--jars rapids-4-spark_2.12-25.04.0.jar");
  }

  /** Runs {@code work} with a context class loader that cannot see RAPIDS' classes. */
  private static <T> T withoutRapids(Callable<T> work) throws Exception {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(
        new ClassLoader(previous) {
          @Override
          protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("com.nvidia.")) {
              throw new ClassNotFoundException(name + " (hidden by the test)");
            }
            return super.loadClass(name, resolve);
          }
        });
    try {
      assertThat(GpuProbe.system().rapidsOnClasspath()).isFalse();
      return work.call();
    } finally {
      thread.setContextClassLoader(previous);
    }
  }
}
