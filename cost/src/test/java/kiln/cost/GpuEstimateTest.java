package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;

class GpuEstimateTest {
  private static final PriceCatalog CATALOG = PriceCatalog.defaults();
  private static final Instant T = Instant.parse("2026-12-01T10:00:00Z");
  private static final GpuEstimate.Assumptions TWICE_ON_T4 =
      new GpuEstimate.Assumptions(2.0, "T4", 4, "a test's figure");

  private static CostLine line(String job, String run, Double total, double cpu, double gpu) {
    return new CostLine(job, run, Map.of(), T, total, cpu, 0.5, gpu, 0.25, 0.0, 0.1, "USD");
  }

  @Test
  void aCpuRunIsEstimatedByAmdahlsLawWithTheSameExecutorsHoldingGpus() {
    GpuEstimate estimate =
        GpuEstimate.of(
            List.of(line("ingest", "r1", 1.75, 1.0, 0), line("ingest", "r2", 1.75, 1.0, 0)),
            Map.of("ingest", 0.5),
            TWICE_ON_T4,
            CATALOG);
    assertThat(estimate.jobs()).hasSize(1);
    GpuEstimate.Job job = estimate.jobs().get(0);
    double ratio = 0.5 + 0.5 / 2; // half the work twice as fast
    double gpuHours = 2.0 / CATALOG.coreHour() * ratio / 4;
    assertThat(job.runs()).isEqualTo(2);
    assertThat(job.ratio()).isCloseTo(0.75, within(1e-12));
    assertThat(job.cpuCost()).isCloseTo(3.5, within(1e-12));
    assertThat(job.estimatedCpu()).isCloseTo(2.0 * ratio, within(1e-12));
    assertThat(job.estimatedMemory()).isCloseTo(1.0 * ratio, within(1e-12));
    assertThat(job.estimatedTokens()).isCloseTo(0.5, within(1e-12));
    assertThat(job.gpuHours()).isCloseTo(gpuHours, within(1e-9));
    assertThat(job.estimatedGpu()).isCloseTo(gpuHours * 0.35, within(1e-9));
    assertThat(job.estimatedTotal())
        .isCloseTo(2.0 * ratio + 1.0 * ratio + gpuHours * 0.35 + 0.5, within(1e-9));
    assertThat(job.costRatio()).isCloseTo(job.estimatedTotal() / 3.5, within(1e-12));
    assertThat(estimate.text("USD"))
        .startsWith("ESTIMATE (not measured on a GPU)")
        .contains("runs 2.00x faster (a test's figure); one T4 per 4 executor cores")
        .contains("ingest");
  }

  @Test
  void gpuRunsUnknownCostsAndJobsWithoutCoverageAreNotEstimated() {
    GpuEstimate estimate =
        GpuEstimate.of(
            List.of(
                line("score", "g", 3.0, 1.0, 1.0), // ran on a GPU already
                line("score", "u", null, 1.0, 0), // unknown cost
                line("llm", "l", 1.75, 1.0, 0)), // no coverage measured
            Map.of("score", 0.9),
            TWICE_ON_T4,
            CATALOG);
    assertThat(estimate.jobs()).isEmpty();
    assertThat(estimate.notMeasured()).containsExactly("llm");
    assertThat(estimate.text("USD")).contains("no coverage measured (no estimate): llm");
  }

  @Test
  void noSpeedUpOnNoCoverageCostsMoreThanTheCpuRun() {
    GpuEstimate estimate =
        GpuEstimate.of(
            List.of(line("drift", "r", 1.75, 1.0, 0)), Map.of("drift", 0.0), TWICE_ON_T4, CATALOG);
    GpuEstimate.Job job = estimate.jobs().get(0);
    assertThat(job.ratio()).isEqualTo(1.0);
    assertThat(job.estimatedTotal()).isGreaterThan(job.cpuCost());
  }

  @Test
  void badAssumptionsAreNamed() {
    assertThatThrownBy(() -> new GpuEstimate.Assumptions(0, "T4", 4, "x"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("a GPU speed-up of 0.0");
    assertThatThrownBy(() -> new GpuEstimate.Assumptions(2, "T4", 0, "x"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("cores per GPU 0");
    assertThatThrownBy(
            () ->
                GpuEstimate.of(
                    List.of(), Map.of(), new GpuEstimate.Assumptions(2, "V100", 4, "x"), CATALOG))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("GPU type V100 is not in price catalog");
    assertThatThrownBy(() -> GpuEstimate.of(List.of(), Map.of("ingest", 1.5), TWICE_ON_T4, CATALOG))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the GPU coverage of ingest is 1.5");
  }
}
