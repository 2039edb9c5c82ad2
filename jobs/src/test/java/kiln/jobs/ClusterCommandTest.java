package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** `kiln cluster size` on the real command line: no Spark session, no GPU. */
class ClusterCommandTest {
  record Run(int exitCode, String out, String err) {}

  static Run kiln(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Kiln.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void aGpuNodeTypeGivesSparkDefaultsLinesOnStandardOutput() {
    Run run = kiln("cluster", "size", "--node-type", "g4dn.12xlarge", "--nodes", "2");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("# kiln cluster size --node-type g4dn.12xlarge --nodes 2\n")
        .contains("\nspark.executor.instances                    8\n")
        .contains("\nspark.rapids.sql.concurrentGpuTasks         2\n")
        .contains("\nspark.task.resource.gpu.amount              0.0833\n");
  }

  @Test
  void withJsonTheSettingsAreOnStandardOutputAsJson() throws Exception {
    Run run = kiln("cluster", "size", "--node-type", "m5.2xlarge", "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertThat(result.at("/settings/spark.executor.cores").asText()).isEqualTo("4");
    assertThat(result.at("/node/cores").asInt()).isEqualTo(8);
    assertThat(run.err()).contains("spark.executor.memory");
  }

  @Test
  void anUnknownNodeTypeExitsTwoListingTheKnownOnes() {
    Run run = kiln("cluster", "size", "--node-type", "g9.huge");
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
