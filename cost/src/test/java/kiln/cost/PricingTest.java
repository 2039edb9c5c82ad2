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
          null,
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
            "cost.total",
            "cost.cpu",
            "cost.memory",
            "cost.gpu",
            "cost.tokens",
            "cost.storage",
            "cost.idle_cpu");
    assertThat(cost.storage()).as("a job's run keeps nothing priced here").isZero();
  }

  @Test
  void aLocalModelsTokensCostNothingByDefaultItsHardwareIsPricedBySecond() {
    Cost local =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(new TokenUsage("tinyllama.gguf", 2000, 500, true)),
            CATALOG,
            false);
    assertThat(local.tokens()).isZero();
    assertThat(local.unknown()).isEmpty();
    assertThat(local.total()).isCloseTo(0.05 + 0.10, within(1e-12));

    PriceCatalog charged =
        new PriceCatalog(
            "test-2",
            "USD",
            0.05,
            0.01,
            Map.of(),
            0.02,
            Map.of("gpt-x", new PriceCatalog.TokenPrice(0.002, 0.008)),
            new PriceCatalog.TokenPrice(0.001, 0.004),
            0.5);
    Cost perToken =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(
                new TokenUsage("tinyllama.gguf", 2000, 500, true),
                new TokenUsage("gpt-x", 1000, 1000, true)),
            charged,
            false);
    // localTokens for the unlisted model; a local model the catalog lists keeps its own price
    assertThat(perToken.tokens()).isCloseTo(2 * 0.001 + 0.5 * 0.004 + 0.002 + 0.008, within(1e-12));

    Cost served =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(new TokenUsage("tinyllama.gguf", 2000, 500)),
            charged,
            false);
    assertThat(served.tokens()).as("a served model the catalog lacks is unknown").isNull();
  }

  @Test
  void aJobsOwnModelPriceReplacesTheCatalogsEntryForThatModel() {
    // the catalog prices gpt-x at 0.002/0.008; the job's price says 0.001/0.002: only the job's
    Cost priced =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(
                new TokenUsage(
                    "gpt-x",
                    2000,
                    500,
                    false,
                    new ModelPrice.PerThousandTokens(0.001, 0.002, "USD"))),
            CATALOG,
            false);
    assertThat(priced.tokens()).isCloseTo(2 * 0.001 + 0.5 * 0.002, within(1e-12));
    assertThat(priced.total()).isCloseTo(0.05 + 0.10 + 0.003, within(1e-12));
    assertThat(priced.unknown()).isEmpty();

    // a local model priced by the hour: its hours, not its tokens (nor localTokens)
    Cost hourly =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(
                new TokenUsage(
                    "tiny.gguf", 2000, 500, true, new ModelPrice.PerHour(1.2, 0.25, null))),
            CATALOG,
            false);
    assertThat(hourly.tokens()).isCloseTo(0.3, within(1e-12));

    // a model the catalog lacks is priced by the job's price instead of being unknown
    Cost unlisted =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(
                new TokenUsage(
                    "mystery", 1000, 0, false, new ModelPrice.PerThousandTokens(0.5, 1, "USD"))),
            CATALOG,
            false);
    assertThat(unlisted.tokens()).isCloseTo(0.5, within(1e-12));

    // a price in another currency is never added to the catalog's: unknown, and said why
    Cost euros =
        Pricing.price(
            usage(3600, 3600, 0, null),
            List.of(
                new TokenUsage(
                    "gpt-x", 2000, 500, false, new ModelPrice.PerThousandTokens(1, 1, "EUR"))),
            CATALOG,
            false);
    assertThat(euros.tokens()).isNull();
    assertThat(euros.total()).isNull();
    assertThat(euros.unknown())
        .containsExactly(
            "tokens of model gpt-x (the job's price is in EUR, catalog test-1 in USD)");
  }

  @Test
  void storageIsGigabyteMonthsAtTheCatalogsPrice() {
    // 10 GiB for a month of 365.25 / 12 days at 0.02 per GB-month
    Cost month = Pricing.storage(10L << 30, 365.25 / 12, CATALOG);
    assertThat(month.storage()).isCloseTo(0.2, within(1e-12));
    assertThat(month.total()).isCloseTo(0.2, within(1e-12));
    assertThat(month.cpu()).isZero();
    Cost day = Pricing.storage(10L << 30, 1, CATALOG);
    assertThat(day.total()).isCloseTo(0.2 / (365.25 / 12), within(1e-12));
    assertThat(day.metrics()).containsEntry("cost.storage", day.storage());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pricing.storage(-1, 1, CATALOG))
        .isInstanceOf(kiln.core.BadInputException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pricing.storage(1, 0, CATALOG))
        .isInstanceOf(kiln.core.BadInputException.class)
        .hasMessageContaining("0.0 days");
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
