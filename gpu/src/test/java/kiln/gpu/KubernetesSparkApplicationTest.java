package kiln.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cluster-config/kubernetes/'s SparkApplication, checked against the Spark operator's own CRD
 * schema (kubeflow/spark-operator v2.5.2, a fixture: see src/test/resources/kubernetes/README.md)
 * and its Spark settings against Spark's and RAPIDS' registries. No cluster is needed to check it.
 */
class KubernetesSparkApplicationTest {
  static final Path MANIFEST =
      SparkDefaultsTest.CLUSTER_CONFIG.resolve("kubernetes/kiln-train-gpu.yaml");
  static CrdSchema crd;
  static JsonNode application;

  @BeforeAll
  static void read() throws Exception {
    crd =
        CrdSchema.fromResource(
            "kubernetes/sparkoperator.k8s.io_sparkapplications.yaml.gz", "v1beta2");
    application = new YAMLMapper().readTree(MANIFEST.toFile());
  }

  @Test
  void theGpuSparkApplicationIsValidForTheOperatorsSchema() {
    assertThat(application.path("apiVersion").asText()).isEqualTo("sparkoperator.k8s.io/v1beta2");
    assertThat(application.path("kind").asText()).isEqualTo("SparkApplication");
    assertThat(crd.validate(application)).isEmpty();
  }

  @Test
  void theSchemaCheckFindsAMisspelledFieldAWrongTypeAndAMissingRequiredField() {
    ObjectNode broken = application.deepCopy();
    ObjectNode executor = (ObjectNode) broken.path("spec").path("executor");
    ((ObjectNode) executor.path("gpu")).set("quantty", executor.path("gpu").path("quantity"));
    ((ObjectNode) executor.path("gpu")).remove("quantity");
    executor.put("instances", "two");
    ((ObjectNode) broken.path("spec")).remove("type");
    ((ObjectNode) broken.path("spec")).put("mode", "sideways");
    assertThat(crd.validate(broken))
        .contains(
            ".spec.executor.gpu.quantty: unknown field",
            ".spec.executor.gpu: the required field quantity is missing",
            ".spec.executor.instances: must be an integer, is STRING",
            ".spec: the required field type is missing")
        .anyMatch(p -> p.startsWith(".spec.mode: \"sideways\" is not one of"));
  }

  @Test
  void itsSparkSettingsAreTheGpuProfilesAndKnownToSparkAndRapids() {
    Map<String, String> conf = new LinkedHashMap<>();
    application
        .path("spec")
        .path("sparkConf")
        .fields()
        .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
    assertThat(SparkConfigCheck.load().check(conf)).isEmpty();
    Map<String, String> profile =
        SparkConfigCheck.read(SparkDefaultsTest.CLUSTER_CONFIG.resolve("spark-gpu.conf"));
    assertThat(conf).containsAllEntriesOf(profile);
    // the executors' GPUs are the pods' GPUs, and every core of an executor shares its GPU
    JsonNode executor = application.path("spec").path("executor");
    assertThat(executor.path("gpu").path("quantity").asInt())
        .isEqualTo(Integer.parseInt(conf.get("spark.executor.resource.gpu.amount")));
    assertThat(Double.parseDouble(conf.get("spark.task.resource.gpu.amount")))
        .isEqualTo(1.0 / executor.path("cores").asInt());
    // the driver gets no GPU (XGBoost and RAPIDS' work run on the executors), so the gpu profile's
    // driver check is skipped
    assertThat(application.path("spec").path("driver").has("gpu")).isFalse();
    assertThat(conf.keySet()).noneMatch(k -> k.startsWith("spark.driver.resource.gpu."));
    assertThat(conf).containsEntry("spark.kiln.gpu.driverCheck", "skip");
    assertThat(application.path("spec").path("deps").path("jars").toString())
        .contains("rapids-4-spark_2.12-" + Rapids.VERSION + "-cuda12.jar");
  }
}
