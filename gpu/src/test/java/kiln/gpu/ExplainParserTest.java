package kiln.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** RAPIDS 25.04's explanation text, as it logged it for plans Kiln ran (excerpts). */
class ExplainParserTest {
  @Test
  void operatorsOnTheGpuAreCountedAndFallbacksCarryTheirExpressionsReasons() {
    String explanation =
        String.join(
            "\n",
            "*Exec <ShuffleExchangeExec> will run on GPU",
            "  *Partitioning <HashPartitioning> will run on GPU",
            "  !Exec <ProjectExec> cannot run on GPU because not all expressions can be replaced;"
                + " unsupported data types in output: TimestampNTZType [date#66]",
            "    *Expression <Alias> (id#0L % 3) AS g#3L will run on GPU",
            "    !Expression <AttributeReference> date#66 cannot run on GPU because expression"
                + " AttributeReference date#66 produces an unsupported type TimestampNTZType",
            "    *Exec <RangeExec> will run on GPU",
            "! <SerializeFromObjectExec> cannot run on GPU because GPU does not currently support"
                + " the operator class org.apache.spark.sql.execution.SerializeFromObjectExec",
            "  @Expression <Alias> knownnotnull(x) AS path#219 could run on GPU");

    List<Operator> operators = ExplainParser.parse(explanation);

    assertThat(operators)
        .extracting(Operator::name)
        .containsExactly(
            "ShuffleExchangeExec", "ProjectExec", "RangeExec", "SerializeFromObjectExec");
    assertThat(operators).extracting(Operator::onGpu).containsExactly(true, false, true, false);
    assertThat(operators.get(1).reasons())
        .containsExactly(
            "not all expressions can be replaced; unsupported data types in output:"
                + " TimestampNTZType [date#66]",
            "Expression AttributeReference: expression AttributeReference date#66 produces an"
                + " unsupported type TimestampNTZType");
    assertThat(operators.get(2).reasons()).isEmpty();
    PlanCoverage plan = new PlanCoverage("p", operators);
    assertThat(plan.coverage()).isEqualTo(0.5);
    assertThat(plan.fallbacks())
        .extracting(Operator::name)
        .containsExactly("ProjectExec", "SerializeFromObjectExec");
  }

  /**
   * RAPIDS names only the unsupported Delta class; the check says the cause, the RAPIDS release,
   * before RAPIDS' own words. Other reasons are left as RAPIDS wrote them.
   */
  @Test
  void deltaFallbacksAreLabelledWithTheirCause() {
    String explanation =
        String.join(
            "\n",
            "!Exec <FileSourceScanExec> cannot run on GPU because unsupported file format:"
                + " org.apache.spark.sql.delta.DeltaParquetFileFormat",
            "!Exec <ProjectExec> cannot run on GPU because not all expressions can be replaced");

    List<Operator> operators = ExplainParser.parse(explanation);

    assertThat(operators.get(0).reasons())
        .containsExactly(
            "Delta Lake on Spark 3.5 not supported by RAPIDS 25.04 (OSS Delta 3.3.0-3.3.2 on Spark"
                + " 3.5.3+ came with RAPIDS 25.08; Kiln has Delta 3.3.3): unsupported file format:"
                + " org.apache.spark.sql.delta.DeltaParquetFileFormat");
    assertThat(operators.get(1).reasons()).containsExactly("not all expressions can be replaced");
  }

  @Test
  void aJobsCoverageCountsTheOperatorsOfAllItsPlans() {
    JobCoverage job =
        new JobCoverage(
            "j",
            List.of(
                new PlanCoverage("a", List.of(new Operator("A", true, List.of()))),
                new PlanCoverage(
                    "b",
                    List.of(
                        new Operator("B", false, List.of("r")),
                        new Operator("C", true, List.of())))),
            List.of());
    assertThat(job.operators()).isEqualTo(3);
    assertThat(job.coverage()).isEqualTo(2.0 / 3);
    assertThat(new JobCoverage("empty", List.of(), List.of()).coverage()).isEqualTo(1.0);
  }

  @Test
  void aFailureInsideRapidsIsAPlanThatStaysOnTheCpuAndAnyOtherFailureIsRethrown() {
    IllegalStateException rapids = new IllegalStateException("Found an aggregation function");
    rapids.setStackTrace(
        new StackTraceElement[] {
          new StackTraceElement("com.nvidia.spark.rapids.GpuOverrides$", "apply", "x.scala", 1)
        });
    assertThat(PlanCapture.planningFailure(new RuntimeException("wrapped", rapids)))
        .hasValueSatisfying(
            o -> {
              assertThat(o.onGpu()).isFalse();
              assertThat(o.reasons().get(0))
                  .startsWith(
                      "RAPIDS failed to plan the query (IllegalStateException: Found an aggregation"
                          + " function)");
            });
    assertThat(PlanCapture.planningFailure(new IllegalStateException("a bug of Kiln's"))).isEmpty();
  }
}
