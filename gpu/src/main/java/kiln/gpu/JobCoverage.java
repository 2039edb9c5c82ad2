package kiln.gpu;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What of one job's Spark work would run on the GPU.
 *
 * @param job the job, e.g. {@code features}
 * @param plans the queries it ran, each with its operators
 * @param notes what the check left out of the job and why (e.g. a model's own transform)
 */
public record JobCoverage(String job, List<PlanCoverage> plans, List<String> notes) {
  public JobCoverage {
    requireNonNull(job, "job is null");
    plans = List.copyOf(requireNonNull(plans, "plans is null"));
    notes = List.copyOf(requireNonNull(notes, "notes is null"));
  }

  public long operators() {
    return plans.stream().mapToLong(p -> p.operators().size()).sum();
  }

  public long onGpu() {
    return plans.stream().mapToLong(PlanCoverage::onGpu).sum();
  }

  /** Operators on the GPU over all operators of all its plans; 1.0 for a job with none. */
  public double coverage() {
    long all = operators();
    return all == 0 ? 1.0 : (double) onGpu() / all;
  }

  /** The plans whose name starts with {@code prefix} (e.g. {@code "ingest: casts"}). */
  public List<PlanCoverage> plans(String prefix) {
    return plans.stream().filter(p -> p.name().startsWith(prefix)).toList();
  }
}
