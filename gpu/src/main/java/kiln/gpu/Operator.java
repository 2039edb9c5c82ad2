package kiln.gpu;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One physical operator of a plan as the RAPIDS Accelerator judged it.
 *
 * @param name the Spark operator, e.g. {@code ProjectExec}
 * @param onGpu whether it would run on the GPU
 * @param reasons why not (RAPIDS' own words, the operator's and its expressions'); empty on the GPU
 */
public record Operator(String name, boolean onGpu, List<String> reasons) {
  public Operator {
    requireNonNull(name, "name is null");
    reasons = List.copyOf(requireNonNull(reasons, "reasons is null"));
  }
}
