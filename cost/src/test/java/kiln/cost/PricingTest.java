package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * OpenCost's rule on hand-computed figures: max(requested, used) per resource, idle reported,
 * unknown never zero.
 */
class PricingTest {
  static final PriceCatalog CATALOG =
      new PriceCatalog(
          "test-1",
          "USD",
          0.05,
          0.01,
          Map.of("A100", 3.0),
          0.02,
          Map.of("gpt-x", new PriceCatalog.TokenPrice(0.002, 0.008)),
          0.5);
  static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

  static Usage usage(double coreAllocated, double coreUsed, double gpuSeconds, String gpuType) {
    return new Usage(
        T0,
        T0.plusSeconds(3600),
        coreAllocated,
        coreUsed,
        gpuSeconds,
        gpuType,
        36_000,
        1,
        2,
        3,
        4,
        10,
        1,
        3600,
        List.of());
  }

  @Test
  void eachResourceCostsItsAllocationWhenTasksUsedLessAndTheRestIsIdle() {
    // 2 core-hours allocated, 1 used; 10 GB-hours; half an A100-hour; 2,000 + 500 tokens
    Cost cost =
        Pricing.price(
            usage(7200, 3600, 1800, "A100"),
            List.of(new TokenUsage("gpt-x", 2000, 500)),
            CATALOG,
            false);
    assertThat(cost.cpu()).isCloseTo(2 * 0.05, within(1e-12));
    assertThat(cost.idleCpu()).isCloseTo(1 * 0.05, within(1e-12));
    assertThat(cost.memory()).isCloseTo(10 * 0.01, within(1e-12));
    assertThat(cost.gpu()).isCloseTo(0.5 * 3.0, within(1e-12));
    assertThat(cost.tokens()).isCloseTo(2 * 0.002 + 0.5 * 0.008, within(1e-12));
    assertThat(cost.total()).isCloseTo(0.10 + 0.10 + 1.50 + 0.008, within(1e-12));
    assertThat(cost.unknown()).isEmpty();
    assertThat(cost.catalogVersion()).isEqualTo("test-1");
    assertThat(cost.metrics())
        .containsOnlyKeys(
            "cost.total", "cost.cpu", "cost.memory", "cost.gpu", "cost.tokens", "cost.idle_cpu");
  }

  @Test
  void usedAboveTheRequestIsWhatIsChargedAndNothingIsIdle() {
    Cost cost = Pricing.price(usage(3600, 5400, 0, null), List.of(), CATALOG, false);
    assertThat(cost.cpu()).isCloseTo(1.5 * 0.05, within(1e-12));
    assertThat(cost.idleCpu()).isZero();
    assertThat(cost.gpu()).isZero();
    assertThat(cost.total()).isCloseTo(0.075 + 0.10, within(1e-12));
  }

  @Test
  void spotDiscountsComputeButNotTokens() {
    Cost cost =
        Pricing.price(
            usage(7200, 3600, 1800, "a100"),
            List.of(new TokenUsage("gpt-x", 2000, 500)),
            CATALOG,
            true);
    assertThat(cost.total()).isCloseTo((0.10 + 0.10 + 1.50) * 0.5 + 0.008, within(1e-12));
    assertThat(cost.spot()).isTrue();
  }

  @Test
  void aGpuOrModelTheCatalogDoesNotPriceIsUnknownNeverZero() {
    Cost gpu = Pricing.price(usage(3600, 0, 3600, "B200"), List.of(), CATALOG, false);
    assertThat(gpu.gpu()).isNull();
    assertThat(gpu.total()).isNull();
    assertThat(gpu.unknown()).singleElement().asString().contains("B200").contains("A100");
    assertThat(gpu.metrics()).doesNotContainKeys("cost.total", "cost.gpu").containsKey("cost.cpu");

    Cost untyped = Pricing.price(usage(3600, 0, 3600, null), List.of(), CATALOG, false);
    assertThat(untyped.unknown()).singleElement().asString().contains("spark.kiln.gpu.type");

    Cost model =
        Pricing.price(
            usage(3600, 0, 0, null), List.of(new TokenUsage("mystery", 1, 1)), CATALOG, false);
    assertThat(model.tokens()).isNull();
    assertThat(model.total()).isNull();
    assertThat(model.unknown()).singleElement().asString().contains("mystery");
  }
}
