package kiln.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cluster-config/emr/'s RunJobFlow request (a GPU cluster that runs kiln train), checked against
 * the EMR API's published shapes (botocore's service model, a fixture: see
 * src/test/resources/emr/README.md) and its spark-defaults against Spark's and RAPIDS' registries.
 */
class EmrJobFlowTest {
  static final Path REQUEST = SparkDefaultsTest.CLUSTER_CONFIG.resolve("emr/kiln-train-gpu.json");
  static AwsShapes emr;
  static JsonNode request;

  @BeforeAll
  static void read() throws Exception {
    emr = AwsShapes.fromResource("emr/emr-2009-03-31-shapes.json");
    request = new ObjectMapper().readTree(REQUEST.toFile());
  }

  @Test
  void theRequestIsARunJobFlowInputAsEmrPublishesIt() {
    assertThat(emr.validateInput("RunJobFlow", request)).isEmpty();
  }

  @Test
  void theShapeCheckFindsAnUnknownMemberAWrongTypeAndABadEnum() {
    ObjectNode broken = request.deepCopy();
    ObjectNode workers = (ObjectNode) broken.path("Instances").path("InstanceGroups").get(1);
    workers.put("InstanceCount", "2");
    workers.put("InstanceRole", "WORKER");
    workers.put("GpuCount", 1);
    ((ArrayNode) broken.path("Steps")).add(new ObjectMapper().createObjectNode().put("Name", "x"));
    broken.remove("Name");
    assertThat(emr.validateInput("RunJobFlow", broken))
        .contains(
            ".Instances.InstanceGroups[1].InstanceCount: must be an integer (Integer)",
            ".Instances.InstanceGroups[1].GpuCount: not a member of InstanceGroupConfig",
            ".Steps[1]: the required member HadoopJarStep is missing",
            ": the required member Name is missing")
        .anyMatch(
            p -> p.startsWith(".Instances.InstanceGroups[1].InstanceRole: \"WORKER\" is not"));
  }

  @Test
  void itsSparkDefaultsAreTheGpuProfilesAndKnownToSparkAndRapids() {
    Map<String, String> conf = new LinkedHashMap<>();
    for (JsonNode c : request.path("Configurations")) {
      if (c.path("Classification").asText().equals("spark-defaults")) {
        c.path("Properties")
            .fields()
            .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
      }
    }
    assertThat(SparkConfigCheck.load().check(conf)).isEmpty();
    Map<String, String> profile =
        new LinkedHashMap<>(
            SparkConfigCheck.read(SparkDefaultsTest.CLUSTER_CONFIG.resolve("spark-gpu.conf")));
    // EMR's Spark ships the discovery script at its own path
    profile.remove("spark.executor.resource.gpu.discoveryScript");
    assertThat(conf).containsAllEntriesOf(profile);
    assertThat(Double.parseDouble(conf.get("spark.task.resource.gpu.amount")))
        .isEqualTo(1.0 / Integer.parseInt(conf.get("spark.executor.cores")));
    assertThat(request.path("Steps").toString())
        .contains("rapids-4-spark_2.12-" + Rapids.VERSION + "-cuda12.jar")
        .contains("\"--profile\",\"gpu\"");
  }
}
