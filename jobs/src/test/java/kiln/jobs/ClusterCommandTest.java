package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** `kiln cluster size` on the real command line: no Spark session, no GPU. */
class ClusterCommandTest {

  @Test
  void aGpuNodeTypeGivesSparkDefaultsLinesOnStandardOutput() {
    KilnRun run = kiln("cluster", "size", "--node-type", "g4dn.12xlarge", "--nodes", "2");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("# kiln cluster size --node-type g4dn.12xlarge --nodes 2\n")
        .contains("\nspark.executor.instances                    8\n")
        .contains("\nspark.rapids.sql.concurrentGpuTasks         2\n")
        .contains("\nspark.task.resource.gpu.amount              0.0833\n");
  }

  @Test
  void withJsonTheSettingsAreOnStandardOutputAsJson() throws Exception {
    KilnRun run = kiln("cluster", "size", "--node-type", "m5.2xlarge", "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertThat(result.at("/settings/spark.executor.cores").asText()).isEqualTo("4");
    assertThat(result.at("/node/cores").asInt()).isEqualTo(8);
    assertThat(run.err()).contains("spark.executor.memory");
  }

  @Test
  void anUnknownNodeTypeExitsTwoListingTheKnownOnes() {
    KilnRun run = kiln("cluster", "size", "--node-type", "g9.huge");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .contains("node type 'g9.huge' is not in Kiln's catalog")
        .contains("g4dn.2xlarge")
        .contains("g5.12xlarge")
        .contains("p3.16xlarge")
        .contains("r5.4xlarge");
  }
}
