package kiln.contracts.internal;

import com.amazon.deequ.anomalydetection.AbsoluteChangeStrategy;
import com.amazon.deequ.anomalydetection.Anomaly;
import com.amazon.deequ.anomalydetection.AnomalyDetectionStrategy;
import com.amazon.deequ.anomalydetection.OnlineNormalStrategy;
import com.amazon.deequ.anomalydetection.RelativeRateOfChangeStrategy;
import com.amazon.deequ.anomalydetection.SimpleThresholdStrategy;
import java.util.ArrayList;
import java.util.List;
import kiln.contracts.AnomalyRule;
import kiln.contracts.RuleResult;
import scala.Option;
import scala.Tuple2;

/**
 * Judges an anomaly rule: the metric's new value against its history, with a Deequ anomaly
 * detection strategy.
 */
public final class AnomalyEvaluation {
  private AnomalyEvaluation() {}

  public static RuleResult evaluate(CompiledRule rule, Double current, List<Double> history) {
    String column = rule.columns().isEmpty() ? null : String.join(",", rule.columns());
    String metric = rule.detail();
    String expectation = rule.anomaly().describe();
    if (current == null) {
      return new RuleResult(
          rule.name(),
          rule.severity(),
          metric,
          column,
          RuleResult.Status.FAILED,
          null,
          expectation,
          "the metric could not be computed (is the dataset empty?)",
          false);
    }
    AnomalyRule anomaly = rule.anomaly();
    boolean needsHistory = !anomaly.strategy().equals("simpleThresholds");
    if (needsHistory && history.isEmpty()) {
      return new RuleResult(
          rule.name(),
          rule.severity(),
          metric,
          column,
          RuleResult.Status.PASSED,
          current,
          expectation,
          "no earlier version in the metric history yet; nothing to compare with",
          false);
    }
    List<Double> series = new ArrayList<>(history);
    series.add(current);
    int last = series.size() - 1;
    scala.collection.Seq<Tuple2<Object, Anomaly>> found =
        strategy(anomaly).detect(Scala.vector(series), new Tuple2<>(last, last + 1));
    if (found.isEmpty()) {
      return new RuleResult(
          rule.name(),
          rule.severity(),
          metric,
          column,
          RuleResult.Status.PASSED,
          current,
          expectation,
          null,
          false);
    }
    String previous =
        history.isEmpty()
            ? ""
            : " (previous version: " + Expectation.format(history.get(history.size() - 1)) + ")";
    return new RuleResult(
        rule.name(),
        rule.severity(),
        metric,
        column,
        RuleResult.Status.FAILED,
        current,
        expectation,
        "measured " + Expectation.format(current) + previous + ", not " + expectation,
        false);
  }

  static AnomalyDetectionStrategy strategy(AnomalyRule rule) {
    return switch (rule.strategy()) {
      case "relativeRateOfChange" ->
          new RelativeRateOfChangeStrategy(
              option(rule.maxRateDecrease()), option(rule.maxRateIncrease()), 1);
      case "absoluteChange" ->
          new AbsoluteChangeStrategy(
              option(rule.maxRateDecrease()), option(rule.maxRateIncrease()), 1);
      case "simpleThresholds" ->
          new SimpleThresholdStrategy(
              rule.lowerBound() == null ? -Double.MAX_VALUE : rule.lowerBound(), rule.upperBound());
      default ->
          new OnlineNormalStrategy(
              option(rule.lowerDeviationFactor() == null ? 3.0 : rule.lowerDeviationFactor()),
              option(rule.upperDeviationFactor() == null ? 3.0 : rule.upperDeviationFactor()),
              0.0,
              true);
    };
  }

  private static Option<Object> option(Double value) {
    return value == null ? Option.empty() : Option.apply((Object) value);
  }
}
