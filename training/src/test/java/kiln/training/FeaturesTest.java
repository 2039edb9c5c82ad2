package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kiln.core.BadInputException;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A declared feature config works on any table: here orders, nothing of flights. */
@ExtendWith(SharedSpark.class)
class FeaturesTest {
  private static final StructType ORDERS =
      new StructType()
          .add("order_id", DataTypes.LongType)
          .add("store", DataTypes.StringType)
          .add("amount", DataTypes.IntegerType)
          .add("returned", DataTypes.BooleanType);

  /**
   * Orders 1 to 4 (the training period) all land in train with this split: the premise is checked
   * below.
   */
  private static final SplitFractions MOSTLY_TRAIN = new SplitFractions(0.98, 0.01, 0.01);

  private static Dataset<Row> orders(SparkSession spark) {
    return spark.createDataFrame(
        List.of(
            RowFactory.create(1L, "north", 10, false), RowFactory.create(2L, "north", 20, true),
            RowFactory.create(3L, "south", 30, false), RowFactory.create(4L, "south", 40, false),
            RowFactory.create(5L, "east", 50, true), RowFactory.create(6L, null, 60, false)),
        ORDERS);
  }

  private static Map<String, String> columns() {
    Map<String, String> columns = new LinkedHashMap<>();
    columns.put("id", "order_id");
    columns.put("store", "store");
    columns.put("amount", "cast(amount as double)");
    columns.put("label", "cast(returned as double)");
    return columns;
  }

  private static FeatureConfig config() {
    Map<String, String> aggregates = new LinkedHashMap<>();
    aggregates.put("store_orders", "cast(count(*) as double)");
    aggregates.put("store_return_rate", "avg(label)");
    return FeatureConfig.builder()
        .input("/data/orders")
        .output("/data/features")
        .key("id")
        .columns(columns())
        .trainingPeriod("id <= 4")
        .split(MOSTLY_TRAIN)
        .codes(List.of(new FeatureConfig.Codes(Map.of("store", "store_code"))))
        .statistics(List.of(new FeatureConfig.GroupStatistics(List.of("store"), aggregates)))
        .build();
  }

  @Test
  void buildsColumnsCodesAndStatisticsOfAnyTable(SparkSession spark) {
    Dataset<Row> features = Features.build(orders(spark), "the orders table", config());

    assertThat(features.columns())
        .containsExactly(
            "id", "store", "amount", "label", "store_code", "store_orders", "store_return_rate");
    assertThat(
            features
                .where(Split.isTrain("id", Split.DEFAULT_SEED, MOSTLY_TRAIN))
                .where("id <= 4")
                .collectAsList())
        .extracting(r -> r.getLong(0))
        .containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
    Map<Long, Row> byId =
        features.collectAsList().stream().collect(Collectors.toMap(r -> r.getLong(0), r -> r));
    assertThat(byId).hasSize(6);
    // codes from the training period's stores (north, south): east comes later, a null store has
    // none
    assertThat((double) byId.get(1L).getAs("store_code")).isEqualTo(1.0);
    assertThat((double) byId.get(3L).getAs("store_code")).isEqualTo(2.0);
    assertThat((Object) byId.get(5L).getAs("store_code")).isNull();
    assertThat((Object) byId.get(6L).getAs("store_code")).isNull();
    // statistics from the training period only: north 2 orders, one returned
    assertThat((double) byId.get(2L).getAs("store_orders")).isEqualTo(2.0);
    assertThat((double) byId.get(2L).getAs("store_return_rate")).isEqualTo(0.5);
    assertThat((double) byId.get(4L).getAs("store_return_rate")).isEqualTo(0.0);
    assertThat((Object) byId.get(5L).getAs("store_orders")).isNull();
    assertThat((double) byId.get(5L).getAs("amount")).isEqualTo(50.0);
  }

  @Test
  void aWrongExpressionOrAMissingColumnIsNamed(SparkSession spark) {
    Map<String, String> typo = columns();
    typo.put("amount", "cast(amount as double");
    assertThatThrownBy(
            () ->
                Features.build(
                    orders(spark), "the orders table", config().toBuilder().columns(typo).build()))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("column 'amount' = 'cast(amount as double' is not valid Spark SQL");
    Map<String, String> missing = columns();
    missing.put("amount", "cast(price as double)");
    assertThatThrownBy(
            () ->
                Features.build(
                    orders(spark),
                    "the orders table",
                    config().toBuilder().columns(missing).build()))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("the orders table lacks column 'price'");
    assertThatThrownBy(
            () ->
                Features.build(
                    orders(spark),
                    "the orders table",
                    config().toBuilder()
                        .statistics(
                            List.of(
                                new FeatureConfig.GroupStatistics(
                                    List.of("store"), Map.of("store_amount", "amount + 1"))))
                        .build()))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith(
            "the statistics by [store] of the feature config cannot be computed over the feature"
                + " columns");
  }
}
