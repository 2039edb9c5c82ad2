package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a job cost, per resource, in the catalog's currency. A resource the catalog has no price for
 * is null and named in {@code unknown}, and then the total is null too: an unknown cost is never a
 * zero.
 *
 * @param cpu max(allocated, used) core-hours × coreHour (OpenCost's rule)
 * @param storage keeping tables: GB-months × storageGbMonth ({@code kiln cost storage} rows; 0 for
 *     a job's run, whose output is priced where it is kept)
 * @param idleCpu the part of {@code cpu} no task used: allocated − used core-hours × coreHour
 *     (reported, inside cpu)
 * @param spot whether the spot discount was applied to cpu, memory and gpu
 */
public record Cost(
    Double cpu,
    Double memory,
    Double gpu,
    Double tokens,
    Double storage,
    Double idleCpu,
    Double total,
    List<String> unknown,
    String catalogVersion,
    String currency,
    boolean spot) {

  public Cost {
    unknown = unknown == null ? List.of() : List.copyOf(unknown);
    requireNonNull(catalogVersion, "catalogVersion is null");
    requireNonNull(currency, "currency is null");
  }

  /**
   * The known figures as MLflow metrics: cost.total, cost.cpu, cost.memory, cost.gpu, cost.tokens,
   * cost.storage, cost.idle_cpu.
   */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    put(m, "cost.total", total);
    put(m, "cost.cpu", cpu);
    put(m, "cost.memory", memory);
    put(m, "cost.gpu", gpu);
    put(m, "cost.tokens", tokens);
    put(m, "cost.storage", storage);
    put(m, "cost.idle_cpu", idleCpu);
    return m;
  }

  private static void put(Map<String, Double> m, String key, Double value) {
    if (value != null) {
      m.put(key, value);
    }
  }
}
