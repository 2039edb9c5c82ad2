package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import kiln.core.DatasetRef;
import kiln.cost.ModelPrice;
import kiln.llm.LlmPrice;
import kiln.llm.LlmRunResult;
import kiln.llm.Prompt;
import org.junit.jupiter.api.Test;

/** An LLM job's {@code price:} as the price the run's cost gives its model. */
class JobCostTest {
  private static LlmRunResult run(LlmPrice price, double engineHours) {
    return new LlmRunResult(
        DatasetRef.atVersion("/in", 0),
        DatasetRef.atVersion("/out", 1),
        (Prompt) null,
        "tiny.gguf",
        "sha256:00",
        3,
        0,
        2000,
        500,
        0,
        0,
        0,
        0,
        Map.of(),
        Map.of(),
        0,
        0,
        0,
        false,
        0.01,
        null,
        engineHours,
        price);
  }

  @Test
  void aLocalJobsHourlyPriceIsItsEnginesHoursAndATokenPriceIsPerThousand() {
    ModelPrice hourly = JobCost.modelPrice(run(new LlmPrice(null, null, 2.5, null), 0.2));
    assertThat(hourly).isEqualTo(new ModelPrice.PerHour(2.5, 0.2, "USD"));
    assertThat(hourly.cost(new kiln.cost.TokenUsage("tiny.gguf", 2000, 500, true, hourly)))
        .isEqualTo(2.5 * 0.2);
    assertThat(JobCost.modelPrice(run(new LlmPrice(0.1, 0.4, null, "EUR"), 0.2)))
        .isEqualTo(new ModelPrice.PerThousandTokens(0.1, 0.4, "EUR"));
    assertThat(JobCost.modelPrice(run(null, 0.2))).as("no price: the catalog prices it").isNull();
  }
}
