package kiln.contracts.internal;

import java.io.Serializable;
import java.util.List;
import java.util.function.DoublePredicate;
import scala.Option;
import scala.collection.JavaConverters;
import scala.runtime.AbstractFunction1;

/** The few conversions Deequ's Scala API needs from Java. */
public final class Scala {
  private Scala() {}

  /** A Deequ assertion ({@code Long => Boolean} or {@code Double => Boolean}) from a Java test. */
  public static scala.Function1<Object, Object> assertion(DoublePredicate test) {
    return new Assertion(test);
  }

  public static <T> scala.collection.Seq<T> seq(List<T> values) {
    return JavaConverters.asScalaBuffer(values).toList();
  }

  public static <T> scala.collection.immutable.List<T> list(List<T> values) {
    return JavaConverters.asScalaBuffer(values).toList();
  }

  public static <T> Option<T> some(T value) {
    return Option.apply(value);
  }

  public static <T> Option<T> none() {
    return Option.empty();
  }

  public static scala.collection.immutable.Vector<Object> vector(List<Double> values) {
    scala.collection.immutable.VectorBuilder<Object> builder =
        new scala.collection.immutable.VectorBuilder<>();
    values.forEach(builder::$plus$eq);
    return builder.result();
  }

  private static final class Assertion extends AbstractFunction1<Object, Object>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    private final transient DoublePredicate test;

    Assertion(DoublePredicate test) {
      this.test = test;
    }

    @Override
    public Object apply(Object value) {
      return test.test(((Number) value).doubleValue());
    }
  }
}
