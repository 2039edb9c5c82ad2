package kiln.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cluster-config/databricks/'s job definitions (Jobs API create requests for a CPU and a GPU
 * cluster), checked against the Jobs and Compute API dataclasses of the real databricks-sdk
 * (python/databricks, a pinned venv): every key a known field, recursively (the SDK's own from_dict
 * ignores unknown keys), enums and scalar types; and their Spark settings against Spark's and
 * RAPIDS' registries.
 */
class DatabricksJobTest {
  static final Path HOME = Path.of("..").toAbsolutePath().normalize();
  static final Path DATABRICKS = SparkDefaultsTest.CLUSTER_CONFIG.resolve("databricks");
  static final Path GPU_JOB = DATABRICKS.resolve("kiln-gpu.json");
  static final Path CPU_JOB = DATABRICKS.resolve("kiln-cpu.json");
  static Path python;

  @BeforeAll
  static void buildTheVenv() throws Exception {
    Process build =
        new ProcessBuilder(HOME.resolve("bin/kiln-python-env").toString(), "databricks")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String venv = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(build.waitFor()).as("bin/kiln-python-env databricks").isZero();
    python = Path.of(venv).resolve("bin/python");
  }

  /** Runs check_job.py on the files: its exit code and, per file, the problems it names. */
  static Map<String, List<String>> check(int expectedExit, Path... files) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(python.toString());
    command.add(HOME.resolve("python/databricks/check_job.py").toString());
    for (Path file : files) {
      command.add(file.toAbsolutePath().normalize().toString());
    }
    Process check =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(check.waitFor()).as(out).isEqualTo(expectedExit);
    Map<String, List<String>> problems = new LinkedHashMap<>();
    new ObjectMapper()
        .readTree(out)
        .fields()
        .forEachRemaining(
            e -> {
              List<String> found = new ArrayList<>();
              e.getValue().forEach(p -> found.add(p.asText()));
              problems.put(Path.of(e.getKey()).getFileName().toString(), found);
            });
    return problems;
  }

  @Test
  void bothJobsAreJobSettingsAsTheDatabricksSdkDeclaresThem() throws Exception {
    assertThat(check(0, GPU_JOB, CPU_JOB))
        .containsEntry("kiln-gpu.json", List.of())
        .containsEntry("kiln-cpu.json", List.of());
  }

  @Test
  void theCheckNamesAnUnknownKeyAtAnyDepthAWrongTypeAndABadEnum(@TempDir Path dir)
      throws Exception {
    ObjectNode job = (ObjectNode) new ObjectMapper().readTree(GPU_JOB.toFile());
    ObjectNode cluster = (ObjectNode) job.path("job_clusters").get(0).path("new_cluster");
    cluster.put("node_typ_id", "g4dn.xlarge");
    cluster.put("num_workers", "2");
    cluster.put("runtime_engine", "TURBO");
    ((ObjectNode) cluster.path("init_scripts").get(0).path("workspace")).put("dest", "/x.sh");
    ((ObjectNode) job.path("tasks").get(1).path("spark_jar_task")).put("main_class", "kiln.Kiln");
    Path broken = dir.resolve("broken.json");
    Files.writeString(broken, job.toString());
    assertThat(check(1, broken).get("broken.json"))
        .containsExactlyInAnyOrder(
            "$.job_clusters[0].new_cluster.node_typ_id: not a field of ClusterSpec",
            "$.job_clusters[0].new_cluster.num_workers: must be int, not \"2\"",
            "$.job_clusters[0].new_cluster.runtime_engine: \"TURBO\" is not one of RuntimeEngine"
                + " ['NULL', 'PHOTON', 'STANDARD']",
            "$.job_clusters[0].new_cluster.init_scripts[0].workspace.dest: not a field of"
                + " WorkspaceStorageInfo",
            "$.tasks[1].spark_jar_task.main_class: not a field of SparkJarTask");
  }

  @Test
  void theGpuClusterLoadsRapidsWithKnownKeysAndTheCpuOneDoesNot() throws Exception {
    SparkConfigCheck registries = SparkConfigCheck.load();
    JsonNode gpu = cluster(GPU_JOB);
    Map<String, String> gpuConf = conf(gpu);
    assertThat(registries.check(gpuConf)).isEmpty();
    assertThat(gpuConf)
        .containsEntry("spark.plugins", "com.nvidia.spark.SQLPlugin")
        .containsKey("spark.rapids.sql.concurrentGpuTasks");
    assertThat(gpu.path("spark_version").asText()).contains("-gpu-");
    assertThat(gpu.path("node_type_id").asText()).startsWith("g4dn.");
    // the plugin's jar must be in /databricks/jars before Spark starts: the init script puts it
    String script =
        Files.readString(
            DATABRICKS.resolve(
                Path.of(
                        gpu.path("init_scripts")
                            .get(0)
                            .path("workspace")
                            .path("destination")
                            .asText())
                    .getFileName()
                    .toString()));
    assertThat(script)
        .contains("/databricks/jars/")
        .contains("VERSION=" + Rapids.VERSION)
        .contains("rapids-4-spark_2.12-${VERSION}-cuda12.jar");
    // executor cores on a g4dn.xlarge (4 vCPUs) share its one GPU
    assertThat(Double.parseDouble(gpuConf.get("spark.task.resource.gpu.amount"))).isEqualTo(0.25);
    JsonNode cpu = cluster(CPU_JOB);
    Map<String, String> cpuConf = conf(cpu);
    assertThat(registries.check(cpuConf)).isEmpty();
    assertThat(cpuConf.keySet())
        .noneMatch(k -> k.startsWith("spark.rapids.") || k.equals("spark.plugins"));
    assertThat(cpu.has("init_scripts")).isFalse();
    for (Path job : List.of(GPU_JOB, CPU_JOB)) {
      String tasks = new ObjectMapper().readTree(job.toFile()).path("tasks").toString();
      assertThat(tasks).contains("\"main_class_name\":\"kiln.jobs.Kiln\"");
      assertThat(tasks.contains("\"--profile\",\"gpu\"")).isEqualTo(job.equals(GPU_JOB));
    }
  }

  private static JsonNode cluster(Path job) throws Exception {
    return new ObjectMapper()
        .readTree(job.toFile())
        .path("job_clusters")
        .get(0)
        .path("new_cluster");
  }

  private static Map<String, String> conf(JsonNode cluster) {
    Map<String, String> conf = new LinkedHashMap<>();
    cluster
        .path("spark_conf")
        .fields()
        .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
    return conf;
  }
}
