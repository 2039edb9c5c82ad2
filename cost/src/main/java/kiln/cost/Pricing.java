package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * Prices measured usage with a catalog, as OpenCost does: each resource costs max(requested, used)
 * × its unit price, and what was allocated but not used is reported as idle. A pure function.
 *
 * <p>A model's tokens are priced by the job's own price for it when it has one ({@link
 * TokenUsage#price()}), else by the catalog's entry, else they are unknown (never 0).
 *
 * <p>Memory and GPUs are priced on their allocation (Spark's events say what was reserved, not what
 * was touched, and allocation is the larger of the two). Spot capacity discounts compute, never
 * tokens.
 */
public final class Pricing {
  private Pricing() {}

  /** Days in an average month: a GB-month is a GB kept this many days. */
  static final double DAYS_PER_MONTH = 365.25 / 12;

  private static final double GB = 1024.0 * 1024 * 1024;

  /**
   * Keeping {@code bytes} for {@code days}: GB × days / {@value #DAYS_PER_MONTH} × storageGbMonth
   * (GB as 2^30 bytes, as cloud storage bills).
   */
  public static Cost storage(long bytes, double days, PriceCatalog catalog) {
    requireNonNull(catalog, "catalog is null");
    if (bytes < 0 || !(days > 0) || Double.isInfinite(days)) {
      throw kiln.core.Errors.badInput(
          "storage of " + bytes + " bytes over " + days + " days",
          "bytes are >= 0 and days a positive number");
    }
    double storage = bytes / GB * days / DAYS_PER_MONTH * catalog.storageGbMonth();
    return new Cost(
        0.0,
        0.0,
        0.0,
        0.0,
        storage,
        0.0,
        storage,
        List.of(),
        catalog.version(),
        catalog.currency(),
        false);
  }

  public static Cost price(
      Usage usage, List<TokenUsage> tokens, PriceCatalog catalog, boolean spot) {
    requireNonNull(usage, "usage is null");
    requireNonNull(catalog, "catalog is null");
    tokens = tokens == null ? List.of() : tokens;
    List<String> unknown = new ArrayList<>();
    double compute = spot ? 1 - catalog.spotDiscount() : 1;

    double coreHours = Math.max(usage.coreSecondsAllocated(), usage.coreSecondsUsed()) / 3600;
    double cpu = coreHours * catalog.coreHour() * compute;
    double idleCpu = usage.idleCoreSeconds() / 3600 * catalog.coreHour() * compute;
    double memory = usage.memoryGbSeconds() / 3600 * catalog.gbHour() * compute;

    Double gpu = 0.0;
    if (usage.gpuSecondsAllocated() > 0) {
      Double hour = usage.gpuType() == null ? null : catalog.gpuHour().get(usage.gpuType());
      if (hour == null) {
        gpu = null;
        unknown.add(
            usage.gpuType() == null
                ? "gpu (the GPU type is not set: spark.kiln.gpu.type in the settings' spark conf)"
                : "gpu "
                    + usage.gpuType()
                    + " (not in catalog "
                    + catalog.version()
                    + "; it prices "
                    + String.join(", ", catalog.gpuHour().keySet())
                    + ")");
      } else {
        gpu = usage.gpuSecondsAllocated() / 3600 * hour * compute;
      }
    }

    Double tokenCost = 0.0;
    for (TokenUsage t : tokens) {
      if (t.price() != null) {
        // the job's own price replaces the catalog's entry for the model: one figure, never both
        if (!t.price().currency().equals(catalog.currency())) {
          unknown.add(
              "tokens of model "
                  + t.model()
                  + " (the job's price is in "
                  + t.price().currency()
                  + ", catalog "
                  + catalog.version()
                  + " in "
                  + catalog.currency()
                  + ")");
          tokenCost = null;
        } else if (tokenCost != null) {
          tokenCost += t.price().cost(t);
        }
        continue;
      }
      PriceCatalog.TokenPrice p = catalog.tokens().get(t.model());
      if (p == null && t.local()) {
        // a model run on the job's own executors: its hardware is in cpu, memory and gpu
        p = catalog.localTokens();
      }
      if (p == null) {
        unknown.add(
            "tokens of model "
                + t.model()
                + " (not in catalog "
                + catalog.version()
                + "; add it under tokens:)");
        tokenCost = null;
      } else if (tokenCost != null) {
        tokenCost +=
            t.promptTokens() / 1000.0 * p.prompt() + t.completionTokens() / 1000.0 * p.completion();
      }
    }

    Double total = gpu == null || tokenCost == null ? null : cpu + memory + gpu + tokenCost;
    return new Cost(
        cpu,
        memory,
        gpu,
        tokenCost,
        0.0,
        idleCpu,
        total,
        unknown,
        catalog.version(),
        catalog.currency(),
        spot);
  }
}
