package kiln.drift;

import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What is done to a side's rows after they are read and filtered and before they are profiled, e.g.
 * scoring them with a model (prediction drift) or keeping a model's test split. The id names the
 * transformation in the profile table, so that a stored profile is reused only for the same one.
 */
public record Derivation(String id, UnaryOperator<Dataset<Row>> transform) {
  /** The rows as they are read. */
  public static final Derivation NONE = new Derivation("", UnaryOperator.identity());

  public Derivation {
    Objects.requireNonNull(id, "id is null");
    Objects.requireNonNull(transform, "transform is null");
  }

  public Dataset<Row> apply(Dataset<Row> rows) {
    return transform.apply(rows);
  }

  /** This transformation, then {@code next}. */
  public Derivation then(Derivation next) {
    if (id.isEmpty()) {
      return next;
    }
    if (next.id.isEmpty()) {
      return this;
    }
    return new Derivation(id + "; " + next.id, rows -> next.apply(apply(rows)));
  }
}
