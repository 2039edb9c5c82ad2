package kiln.lineage;

import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * The run that started this one, e.g. an Airflow task: Airflow's OpenLineage provider hands it to
 * what it launches as {@code NAMESPACE/JOB_NAME/RUN_ID} (its {@code lineage_parent_id} macro; dbt
 * and the OpenLineage clients read it from {@code OPENLINEAGE_PARENT_ID}, the root from {@code
 * OPENLINEAGE_ROOT_PARENT_ID}).
 */
public record ParentRun(String namespace, String name, UUID runId) {
  public ParentRun {
    Objects.requireNonNull(namespace, "namespace is null");
    Objects.requireNonNull(name, "name is null");
    Objects.requireNonNull(runId, "runId is null");
  }

  /**
   * {@code NAMESPACE/JOB_NAME/RUN_ID}; the job name may hold slashes. Empty when the text is not
   * one.
   */
  public static Optional<ParentRun> parse(String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    String trimmed = text.trim();
    int first = trimmed.indexOf('/');
    int last = trimmed.lastIndexOf('/');
    if (first <= 0 || last <= first + 1 || last == trimmed.length() - 1) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new ParentRun(
              trimmed.substring(0, first),
              trimmed.substring(first + 1, last),
              UUID.fromString(trimmed.substring(last + 1))));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
