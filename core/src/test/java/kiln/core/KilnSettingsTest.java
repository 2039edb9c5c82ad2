package kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KilnSettingsTest {

  @Test
  void defaultsArePinned() {
    KilnSettings defaults = KilnSettings.defaults();
    assertThat(defaults.spark().profile()).isEqualTo(SparkProfile.LOCAL);
    assertThat(defaults.spark().master()).isNull(); // the local profile then uses local[*]
    assertThat(defaults.spark().ui()).isFalse();
    assertThat(defaults.trackingUri()).isNull();
    assertThat(defaults.experiment()).isEqualTo("kiln");
    assertThat(defaults.workdir()).isEqualTo(".kiln");
    assertThat(defaults.trackingStore()).isEqualTo(Path.of(".kiln", "mlflow"));
    assertThat(defaults.trackingSpool()).isEqualTo(Path.of(".kiln", "tracking-spool"));
  }

  @Test
  void commandLineOverFileOverEnvironmentOverDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kiln.yaml");
    Files.writeString(
        file,
        """
        spark:
          profile: cluster
          master: spark://127.0.0.1:7077
          conf:
            spark.sql.shuffle.partitions: 8
            spark.executor.memory: 2g
        tracking:
          uri: http://file-tracking:5000
          experiment: nightly
        """);
    KilnSettings fromFile = YamlFiles.read(file, KilnSettings.class);
    KilnSettings commandLine =
        new KilnSettings(
            new SparkSettings(null, "local[2]", null, Map.of("spark.executor.memory", "4g")),
            null,
            "/cli");
    Map<String, String> env =
        Map.of(
            "KILN_PROFILE",
            "gpu",
            "KILN_WORKDIR",
            "/env",
            "MLFLOW_TRACKING_URI",
            "http://env:5000");

    KilnSettings resolved = KilnSettings.resolve(commandLine, fromFile, env);

    assertThat(resolved.spark().profile())
        .isEqualTo(SparkProfile.CLUSTER); // file beats environment
    assertThat(resolved.spark().master()).isEqualTo("local[2]"); // command line beats file
    assertThat(resolved.spark().conf())
        .containsEntry("spark.sql.shuffle.partitions", "8")
        .containsEntry("spark.executor.memory", "4g");
    assertThat(resolved.trackingUri()).isEqualTo("http://file-tracking:5000");
    assertThat(resolved.experiment()).isEqualTo("nightly");
    assertThat(resolved.workdir()).isEqualTo("/cli");
    assertThat(resolved.spark().ui()).isFalse(); // default

    KilnSettings envOnly = KilnSettings.resolve(null, null, env);
    assertThat(envOnly.spark().profile()).isEqualTo(SparkProfile.GPU);
    assertThat(envOnly.workdir()).isEqualTo("/env");
    assertThat(envOnly.trackingUri()).isEqualTo("http://env:5000");
  }

  @Test
  void unknownKeyNamesTheKeyTheFileTheLineAndTheValidKeys(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kiln.yaml");
    Files.writeString(file, "spark:\n  profile: local\n  mastr: local[2]\n");
    assertThatThrownBy(() -> YamlFiles.read(file, KilnSettings.class))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(file + ":3:")
        .hasMessageContaining("unknown key 'mastr'")
        .hasMessageContaining("valid keys: conf, master, profile, ui");
  }

  @Test
  void badEnumValueListsTheValidOnes(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kiln.yaml");
    Files.writeString(file, "spark:\n  profile: tpu\n");
    assertThatThrownBy(() -> YamlFiles.read(file, KilnSettings.class))
        .hasMessageContaining(file + ":2:")
        .hasMessageContaining(
            "value 'tpu' (at spark.profile) is not a valid SparkProfile; valid values: local, cluster, gpu");
  }

  @Test
  void syntaxErrorGivesLineAndColumn(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kiln.yaml");
    Files.writeString(file, "spark:\n  profile: local\n\tmaster: local\n");
    assertThatThrownBy(() -> YamlFiles.read(file, KilnSettings.class))
        .hasMessageContaining(file + ":3:")
        .hasMessageContaining("YAML syntax error");
  }

  @Test
  void missingFileAndBadEnvironmentAreBadInput(@TempDir Path dir) {
    assertThatThrownBy(() -> YamlFiles.read(dir.resolve("nope.yaml"), KilnSettings.class))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("nope.yaml does not exist");
    assertThatThrownBy(() -> KilnSettings.fromEnvironment(Map.of("KILN_PROFILE", "tpu")))
        .hasMessageContaining("KILN_PROFILE has the unknown profile 'tpu'");
  }
}
