package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.cost.Budgets.Tier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Alert rules put the latest runs' metrics in tiers; a run or metric not seen is a warning. */
class AlertRulesTest {
  @Test
  void eachRuleTiersItsJobsLatestMetricAndTheWorstTierDecides(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("rules.yaml");
    Files.writeString(
        file,
        """
        rules:
          - {job: llm, metric: llm.error_rate, warning: 0.01, critical: 0.05}
          - {job: drift, metric: drift.dataset.drifted, critical: 1}
          - {job: train, metric: eval.auc, below: true, info: 0.9, warning: 0.8, critical: 0.7}
          - {job: drift, metric: cost.total, info: 1, warning: 5, critical: 10}
          - {job: score, metric: latency_p99_ms, warning: 500}
        """);
    AlertRules rules = AlertRules.read(file);
    assertThat(rules.jobs()).containsExactly("llm", "drift", "train", "score");
    AlertRules.Summary summary =
        rules.evaluate(
            Map.of(
                "llm", new AlertRules.LatestRun("r1", Map.of("llm.error_rate", 0.02)),
                "drift",
                    new AlertRules.LatestRun(
                        "r2", Map.of("drift.dataset.drifted", 0.0, "cost.total", 1.0)),
                "train", new AlertRules.LatestRun("r3", Map.of("eval.auc", 0.85))));
    assertThat(summary.alerts())
        .extracting(AlertRules.Alert::tier)
        .containsExactly(Tier.WARNING, Tier.OK, Tier.INFO, Tier.INFO, Tier.WARNING);
    assertThat(summary.alerts().get(0).action()).isEqualTo("notify");
    assertThat(summary.alerts().get(0).runId()).isEqualTo("r1");
    assertThat(summary.alerts().get(3).why()).contains("INFO threshold");
    assertThat(summary.alerts().get(4).why()).isEqualTo("no run of job score");
    assertThat(summary.tier()).isEqualTo(Tier.WARNING);
    assertThat(summary.action()).isEqualTo("notify");

    AlertRules.Summary paged =
        rules.evaluate(
            Map.of(
                "llm", new AlertRules.LatestRun("r1", Map.of("llm.error_rate", 0.05)),
                "drift", new AlertRules.LatestRun("r2", Map.of("drift.dataset.drifted", 1.0)),
                "train", new AlertRules.LatestRun("r3", Map.of("eval.auc", 0.7)),
                "score", new AlertRules.LatestRun("r4", Map.of("latency_p99_ms", 10.0))));
    assertThat(paged.alerts())
        .extracting(AlertRules.Alert::tier)
        .as("thresholds are inclusive; a missing metric is a warning")
        .containsExactly(Tier.CRITICAL, Tier.CRITICAL, Tier.CRITICAL, Tier.WARNING, Tier.OK);
    assertThat(paged.alerts().get(3).why()).contains("no metric cost.total");
    assertThat(paged.action()).isEqualTo("page");
  }

  @Test
  void rulesWithoutThresholdsOutOfOrderOrWithUnknownKeysAreBadInput(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("rules.yaml");
    Files.writeString(file, "rules:\n  - {job: llm, metric: llm.error_rate}\n");
    assertThatThrownBy(() -> AlertRules.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("rules.yaml")
        .hasMessageContaining("has no threshold");
    Files.writeString(
        file, "rules:\n  - {job: llm, metric: llm.error_rate, warning: 0.5, critical: 0.1}\n");
    assertThatThrownBy(() -> AlertRules.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("out of order")
        .hasMessageContaining("below: true");
    Files.writeString(
        file, "rules:\n  - {job: train, metric: auc, below: true, warning: 0.7, critical: 0.8}\n");
    assertThatThrownBy(() -> AlertRules.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("critical <= warning <= info");
    Files.writeString(file, "rules:\n  - {job: llm, metric: m, warning: 1, critcal: 2}\n");
    assertThatThrownBy(() -> AlertRules.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("rules.yaml:2:")
        .hasMessageContaining("unknown key 'critcal'");
  }
}
