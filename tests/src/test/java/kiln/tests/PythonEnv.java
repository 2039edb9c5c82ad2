package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The cached virtual environments {@code bin/kiln-python-env NAME} builds from python/NAME. */
final class PythonEnv {
  static final Path HOME = Path.of(System.getProperty("kiln.home"));

  private PythonEnv() {}

  /** Builds (or reuses) the environment and returns its directory. */
  static Path build(String name) throws Exception {
    long start = System.nanoTime();
    Process build =
        new ProcessBuilder(HOME.resolve("bin/kiln-python-env").toString(), name)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String printed =
        new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(build.waitFor()).as("bin/kiln-python-env " + name).isZero();
    System.err.printf(
        "[kiln-python-env] %s ready at %s in %d s%n",
        name, printed, (System.nanoTime() - start) / 1_000_000_000);
    return Path.of(printed);
  }

  /** The spark-submit script of the pyspark environment's Spark distribution. */
  static Path sparkSubmit(Path pysparkEnv) {
    return pysparkEnv.resolve("bin/spark-submit");
  }
}
