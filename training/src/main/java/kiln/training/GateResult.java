package kiln.training;

import java.util.List;
import java.util.Map;

/**
 * A gate's verdict: each criterion with the measured value and the limit.
 *
 * @param champion the version that was champion before the gate; null for the first model
 * @param promoted whether the candidate is now champion
 */
public record GateResult(
    String model,
    String candidate,
    String champion,
    boolean promoted,
    List<Criterion> criteria,
    Map<String, Double> candidateMetrics,
    Map<String, Double> championMetrics) {

  public record Criterion(String name, boolean passed, String detail) {}

  public GateResult {
    criteria = List.copyOf(criteria);
    candidateMetrics = Map.copyOf(candidateMetrics);
    championMetrics = championMetrics == null ? Map.of() : Map.copyOf(championMetrics);
  }

  public List<Criterion> failed() {
    return criteria.stream().filter(c -> !c.passed()).toList();
  }
}
