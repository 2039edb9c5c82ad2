package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.YamlFiles;
import kiln.core.models.SplitFractions;
import kiln.core.models.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training config: defaults pinned, every YAML key mapped, no data set's columns assumed. */
class TrainConfigTest {
  private static TrainConfig.Builder required() {
    return TrainConfig.builder()
        .features("/data/features")
        .model("m")
        .label("y")
        .featureColumns(List.of("a", "b"))
        .key("id");
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    TrainConfig config = required().build();
    assertThat(config.task()).isEqualTo(Task.CLASSIFIER);
    assertThat(config.seed()).isEqualTo(42L);
    assertThat(config.split()).isEqualTo(new SplitFractions(0.7, 0.15, 0.15));
    assertThat(config.hyperparameters()).isEmpty();
    assertThat(config.numRound()).isEqualTo(100);
    assertThat(config.earlyStoppingRounds()).isEqualTo(10);
    assertThat(config.device()).isEqualTo(Device.AUTO);
    assertThat(config.numWorkers()).isNull();
    assertThat(config.nthread()).isNull();
    assertThat(config.threshold()).isEqualTo(0.5);
    assertThat(config.groupColumns()).isEmpty();
    assertThat(config.minGroupRows()).isEqualTo(100);
    assertThat(config.tuning()).isNull();
    assertThat(config.algorithm()).isEqualTo(Algorithm.XGBOOST);
    assertThat(config.text()).isNull();
  }

  @Test
  void labelFeatureColumnsAndKeyHaveNoDefault() {
    assertThatThrownBy(() -> required().label(null).build())
        .hasMessageContaining("label is missing");
    assertThatThrownBy(() -> required().featureColumns(null).build())
        .hasMessageContaining("featureColumns is missing");
    assertThatThrownBy(() -> required().key(null).build()).hasMessageContaining("key is missing");
    assertThatThrownBy(() -> required().featureColumns(List.of("a", "y")).build())
        .hasMessageContaining("featureColumns contains the label 'y'");
  }

  @Test
  void yamlMapsEveryKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("train.yaml");
    Files.writeString(
        file,
        """
        features: /data/features@3
        model: delays
        task: regressor
        label: delay
        featureColumns: [hour, distance]
        key: flight_id
        seed: 7
        split: {train: 0.8, validation: 0.1, test: 0.1}
        hyperparameters: {max_depth: 4, eta: 0.2}
        numRound: 30
        earlyStoppingRounds: 3
        device: cpu
        numWorkers: 2
        nthread: 1
        threshold: 0.4
        groupColumns: [origin]
        minGroupRows: 50
        tuning: {strategy: grid, trials: 4, space: {max_depth: [2, 6]}}
        algorithm: xgboost
        text: {columns: [subject, body], embeddings: /models/minilm, dimension: 384, maxTokens: 128}
        """);
    TrainConfig config = YamlFiles.read(file, TrainConfig.class);
    assertThat(config.features()).isEqualTo("/data/features@3");
    assertThat(config.featuresRef().version()).isEqualTo(3L);
    assertThat(config.model()).isEqualTo("delays");
    assertThat(config.task()).isEqualTo(Task.REGRESSOR);
    assertThat(config.label()).isEqualTo("delay");
    assertThat(config.featureColumns()).containsExactly("hour", "distance");
    assertThat(config.key()).isEqualTo("flight_id");
    assertThat(config.seed()).isEqualTo(7L);
    assertThat(config.split()).isEqualTo(new SplitFractions(0.8, 0.1, 0.1));
    assertThat(config.hyperparameters()).isEqualTo(Map.of("max_depth", 4, "eta", 0.2));
    assertThat(config.numRound()).isEqualTo(30);
    assertThat(config.earlyStoppingRounds()).isEqualTo(3);
    assertThat(config.device()).isEqualTo(Device.CPU);
    assertThat(config.numWorkers()).isEqualTo(2);
    assertThat(config.nthread()).isEqualTo(1);
    assertThat(config.threshold()).isEqualTo(0.4);
    assertThat(config.groupColumns()).containsExactly("origin");
    assertThat(config.minGroupRows()).isEqualTo(50);
    assertThat(config.tuning().strategy()).isEqualTo(TuningConfig.Strategy.GRID);
    assertThat(config.tuning().trials()).isEqualTo(4);
    assertThat(config.tuning().space()).isEqualTo(Map.of("max_depth", List.of(2, 6)));
    assertThat(config.algorithm()).isEqualTo(Algorithm.XGBOOST);
    assertThat(config.text())
        .isEqualTo(new TextConfig(List.of("subject", "body"), "/models/minilm", 384, 128));
    // the builder carries every value over
    assertThat(config.toBuilder().build()).isEqualTo(config);
  }

  @Test
  void aTextModelNeedsNoNumericColumnsAndDefaultsToTheBuiltInEmbeddings(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("spam.yaml");
    Files.writeString(
        file,
        """
        features: /data/mail@0
        model: spam
        label: is_spam
        key: message_id
        algorithm: logistic_regression
        hyperparameters: {regParam: 0.01}
        text: {columns: [subject, body]}
        """);
    TrainConfig config = YamlFiles.read(file, TrainConfig.class);
    assertThat(config.featureColumns()).isEmpty();
    assertThat(config.algorithm()).isEqualTo(Algorithm.LOGISTIC_REGRESSION);
    assertThat(config.text().columns()).containsExactly("subject", "body");
    assertThat(config.text().embeddings()).isEqualTo("all-minilm-l6-v2-q");
    assertThat(config.text().maxTokens()).isNull();
  }

  @Test
  void logisticRegressionForARegressorAndTextColumnsThatAreAlsoNumericAreRefused() {
    assertThatThrownBy(
            () -> required().task(Task.REGRESSOR).algorithm(Algorithm.LOGISTIC_REGRESSION).build())
        .hasMessageContaining("algorithm logistic_regression trains classifiers only");
    assertThatThrownBy(
            () -> required().text(new TextConfig(List.of("a"), null, null, null)).build())
        .hasMessageContaining("text.columns [a] overlap featureColumns or the label");
    assertThatThrownBy(() -> new TextConfig(List.of(), null, null, null))
        .hasMessageContaining("text.columns is missing or empty");
  }

  @Test
  void theSpamExampleIsATextModelOnTheSpamFeatures() {
    TrainConfig example = YamlFiles.read(Path.of("examples/spam-train.yaml"), TrainConfig.class);
    FeatureConfig features =
        YamlFiles.read(Path.of("examples/spam-features.yaml"), FeatureConfig.class);
    assertThat(example.features()).isEqualTo(features.output());
    assertThat(example.key()).isEqualTo(features.key());
    assertThat(example.algorithm()).isEqualTo(Algorithm.LOGISTIC_REGRESSION);
    assertThat(example.text().columns()).containsExactly("subject", "body");
    assertThat(features.columns()).containsKeys("message_id", "is_spam", "subject", "body");
  }

  @Test
  void theFlightsExampleReadsAsTheDemoTrainsIt() {
    TrainConfig example = YamlFiles.read(Path.of("examples/flights-train.yaml"), TrainConfig.class);
    assertThat(example.model()).isEqualTo("flight-delays");
    assertThat(example.label()).isEqualTo("label");
    assertThat(example.key()).isEqualTo("flight_id");
    assertThat(example.featureColumns())
        .containsExactly(
            "hour",
            "day_of_week",
            "month",
            "distance",
            "origin_index",
            "destination_index",
            "origin_flights",
            "origin_delay_rate",
            "destination_flights",
            "destination_delay_rate",
            "route_flights",
            "route_delay_rate",
            "route_mean_delay");
    assertThat(example.numRound()).isEqualTo(50);
    assertThat(example.earlyStoppingRounds()).isEqualTo(10);
    assertThat(example.numWorkers()).isEqualTo(1);
    assertThat(example.groupColumns()).containsExactly("origin");
    assertThat(example.minGroupRows()).isEqualTo(1000);
    // every feature column is one the flights feature example declares
    FeatureConfig features =
        YamlFiles.read(Path.of("examples/flights-features.yaml"), FeatureConfig.class);
    assertThat(features.outputColumns())
        .containsAll(example.featureColumns())
        .contains(example.label(), example.key());
    assertThat(features.key()).isEqualTo(example.key());
  }

  @Test
  void mistakesNameTheKeyAndTheLine(@TempDir Path dir) throws Exception {
    Path unknown = dir.resolve("unknown.yaml");
    Files.writeString(
        unknown, "features: /f\nmodel: m\nlabel: y\nkey: id\nfeatureColumns: [a]\nnumRounds: 5\n");
    assertThatThrownBy(() -> YamlFiles.read(unknown, TrainConfig.class))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(unknown + ":6:1: unknown key 'numRounds'");
    Path noLabel = dir.resolve("label.yaml");
    Files.writeString(noLabel, "features: /f\nmodel: m\nkey: id\nfeatureColumns: [a]\n");
    assertThatThrownBy(() -> YamlFiles.read(noLabel, TrainConfig.class))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("label is missing");
  }
}
