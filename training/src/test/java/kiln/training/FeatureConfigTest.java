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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feature config: defaults pinned, every YAML key mapped, mistakes named before any Spark job.
 */
class FeatureConfigTest {
  private static FeatureConfig.Builder required() {
    return FeatureConfig.builder()
        .input("/data/orders")
        .output("/data/features")
        .key("id")
        .columns(declared("id", "order_id", "amount", "cast(amount as double)"));
  }

  /**
   * Columns in declared order, as YAML gives them (Map.of iterates in a different order per JVM).
   */
  private static Map<String, String> declared(String... namesAndExpressions) {
    Map<String, String> columns = new java.util.LinkedHashMap<>();
    for (int i = 0; i < namesAndExpressions.length; i += 2) {
      columns.put(namesAndExpressions[i], namesAndExpressions[i + 1]);
    }
    return columns;
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    FeatureConfig config = required().build();
    assertThat(config.trainingPeriod()).isNull();
    assertThat(config.codes()).isEmpty();
    assertThat(config.statistics()).isEmpty();
    assertThat(config.where()).isNull();
    assertThat(config.seed()).isEqualTo(42L);
    assertThat(config.split()).isEqualTo(new SplitFractions(0.7, 0.15, 0.15));
    // the split defaults are the training config's, so that a default feature table trains with a
    // default config
    TrainConfig training =
        TrainConfig.builder()
            .features("/data/features")
            .model("m")
            .label("y")
            .featureColumns(List.of("amount"))
            .key("id")
            .build();
    assertThat(config.seed()).isEqualTo(training.seed());
    assertThat(config.split()).isEqualTo(training.split());
  }

  @Test
  void yamlMapsEveryKeyAndKeepsTheColumnsInOrder(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("features.yaml");
    Files.writeString(
        file,
        """
        input: /data/orders@2
        output: /data/order_features
        key: order_id
        trainingPeriod: "day < '2024-01-01'"
        columns:
          order_id: id
          day: to_date(ts)
          store: store
          amount: cast(amount as double)
          returned: cast(returned as double)
        codes:
          - columns: {store: store_code}
        statistics:
          - by: [store]
            columns:
              store_orders: cast(count(*) as double)
              store_return_rate: avg(returned)
        where: "day >= '2023-06-01'"
        seed: 7
        split: {train: 0.8, validation: 0.1, test: 0.1}
        """);
    FeatureConfig config = YamlFiles.read(file, FeatureConfig.class);
    assertThat(config.input()).isEqualTo("/data/orders@2");
    assertThat(config.inputRef().version()).isEqualTo(2L);
    assertThat(config.output()).isEqualTo("/data/order_features");
    assertThat(config.key()).isEqualTo("order_id");
    assertThat(config.trainingPeriod()).isEqualTo("day < '2024-01-01'");
    assertThat(config.columns())
        .containsExactly(
            Map.entry("order_id", "id"),
            Map.entry("day", "to_date(ts)"),
            Map.entry("store", "store"),
            Map.entry("amount", "cast(amount as double)"),
            Map.entry("returned", "cast(returned as double)"));
    assertThat(config.codes())
        .containsExactly(new FeatureConfig.Codes(Map.of("store", "store_code")));
    assertThat(config.statistics()).hasSize(1);
    assertThat(config.statistics().get(0).by()).containsExactly("store");
    assertThat(config.statistics().get(0).columns())
        .containsExactly(
            Map.entry("store_orders", "cast(count(*) as double)"),
            Map.entry("store_return_rate", "avg(returned)"));
    assertThat(config.where()).isEqualTo("day >= '2023-06-01'");
    assertThat(config.seed()).isEqualTo(7L);
    assertThat(config.split()).isEqualTo(new SplitFractions(0.8, 0.1, 0.1));
    assertThat(config.outputColumns())
        .containsExactly(
            "order_id",
            "day",
            "store",
            "amount",
            "returned",
            "store_code",
            "store_orders",
            "store_return_rate");
    assertThat(config.toBuilder().build()).isEqualTo(config);
  }

  @Test
  void mistakesAreNamedWhenTheConfigIsRead(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> required().key("order").build())
        .hasMessageContaining("key 'order' is not one of the columns [id, amount]");
    assertThatThrownBy(
            () ->
                required()
                    .statistics(
                        List.of(
                            new FeatureConfig.GroupStatistics(
                                List.of("store"), Map.of("n", "count(*)"))))
                    .build())
        .hasMessageContaining("statistics by: 'store' is not one of the columns [id, amount]");
    assertThatThrownBy(
            () ->
                required().codes(List.of(new FeatureConfig.Codes(Map.of("id", "amount")))).build())
        .hasMessageContaining("column 'amount' is declared twice");
    assertThatThrownBy(() -> required().output("/data/features@3").build())
        .hasMessageContaining("names a version");
    assertThatThrownBy(() -> required().columns(Map.of()).build())
        .hasMessageContaining("columns is empty");

    Path unknown = dir.resolve("unknown.yaml");
    Files.writeString(
        unknown, "input: /i\noutput: /o\nkey: id\ncolumns: {id: id}\ntrainingUntil: 2001-04-01\n");
    assertThatThrownBy(() -> YamlFiles.read(unknown, FeatureConfig.class))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(unknown + ":5:1: unknown key 'trainingUntil'")
        .hasMessageContaining("trainingPeriod");
  }
}
