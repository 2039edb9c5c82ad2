package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.junit.jupiter.api.Test;

/**
 * Hyperparameters by XGBoost's names: typed onto the estimator, or refused with the value and the
 * type.
 */
class HyperparametersTest {
  @Test
  void valuesAreSetWithTheParametersTypes() {
    XGBoostClassifier classifier = new XGBoostClassifier();
    Hyperparameters.apply(Map.of("max_depth", "4", "eta", 0.2, "tree_method", "hist"), classifier);
    assertThat(classifier.getOrDefault(classifier.getParam("max_depth"))).isEqualTo(4);
    assertThat(classifier.getOrDefault(classifier.getParam("eta"))).isEqualTo(0.2);
    assertThat(classifier.getOrDefault(classifier.getParam("tree_method"))).isEqualTo("hist");
  }

  @Test
  void aValueOfTheWrongTypeIsBadInputNamingTheValueAndTheType() {
    assertThatThrownBy(
            () -> Hyperparameters.apply(Map.of("max_depth", "deep"), new XGBoostClassifier()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "hyperparameter 'max_depth' has the value 'deep', which is not a valid int")
        .hasMessageContaining("fix: give a value of the right type");
    assertThatThrownBy(
            () ->
                Hyperparameters.apply(
                    Map.of("tree_method", List.of("hist")), new XGBoostClassifier()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "hyperparameter 'tree_method' has the value '[hist]', which is not a valid string");
  }
}
