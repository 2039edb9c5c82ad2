package kiln.gpu;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One query a job runs, operator by operator.
 *
 * @param name what the query is for, e.g. {@code features: write}
 * @param operators its physical operators, in the order RAPIDS printed them (the root first)
 */
public record PlanCoverage(String name, List<Operator> operators) {
  public PlanCoverage {
    requireNonNull(name, "name is null");
    operators = List.copyOf(requireNonNull(operators, "operators is null"));
  }

  public long onGpu() {
    return operators.stream().filter(Operator::onGpu).count();
  }

  /** The share of operators that would run on the GPU, 1.0 for a plan without operators. */
  public double coverage() {
    return operators.isEmpty() ? 1.0 : (double) onGpu() / operators.size();
  }

  public List<Operator> fallbacks() {
    return operators.stream().filter(o -> !o.onGpu()).toList();
  }
}
