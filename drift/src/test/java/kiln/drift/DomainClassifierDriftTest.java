package kiln.drift;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The domain classifier (statistic {@code domain_classifier}): a classifier's cross-validated AUC
 * of reference against current, high when the sides differ jointly, about 0.5 when they do not.
 * 400-1,000 rows a side: enough for the AUC to be stable to a few hundredths; the classifier runs
 * on the driver in milliseconds, the Spark profiling around it takes the seconds.
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class DomainClassifierDriftTest {
  static final StructType SCHEMA =
      new StructType()
          .add("a", DataTypes.DoubleType)
          .add("b", DataTypes.DoubleType)
          .add("airport", DataTypes.StringType);

  static final DriftConfig DOMAIN_CLASSIFIER =
      DriftConfig.defaults()
          .withStatistics(
              List.of(Statistic.KS, Statistic.CHI_SQUARED, Statistic.DOMAIN_CLASSIFIER));

  /**
   * b follows a closely (correlation 0.95) unless {@code correlated} is false, then it is drawn on
   * its own from the same N(0, 1); airports "a", "b", "c" with the first one's share given.
   */
  static Dataset<Row> rows(
      SparkSession spark, int n, boolean correlated, double shareOfA, long seed) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double a = random.nextGaussian();
      double b =
          correlated
              ? 0.95 * a + Math.sqrt(1 - 0.95 * 0.95) * random.nextGaussian()
              : random.nextGaussian();
      double u = random.nextDouble();
      String airport = u < shareOfA ? "a" : u < shareOfA + (1 - shareOfA) / 2 ? "b" : "c";
      rows.add(RowFactory.create(a, i % 50 == 0 ? null : b, airport));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  @Test
  void aBrokenCorrelationThatNoColumnShowsGivesAHighAucAndDrifts(SparkSession spark) {
    Dataset<Row> reference = rows(spark, 400, true, 1.0 / 3, 1);
    Dataset<Row> broken = rows(spark, 400, false, 1.0 / 3, 2);

    DriftResult result = new DriftMonitor(spark, DOMAIN_CLASSIFIER).compare(reference, broken);

    // column by column nothing moved: each column's own distribution is the same
    assertThat(result.features()).noneMatch(FeatureDrift::drifted);
    DomainClassifierDrift d = result.domainClassifier();
    assertThat(d.numeric()).containsExactly("a", "b");
    assertThat(d.categorical()).containsExactly("airport");
    assertThat(d.folds()).isEqualTo(5);
    assertThat(d.current()).extracting(ChunkValue::chunk).containsExactly("all");
    assertThat(d.current().get(0).rows()).isEqualTo(400);
    assertThat(d.current().get(0).value()).as("AUC %s", d).isGreaterThan(0.7);
    assertThat(d.drifted()).isTrue();
    assertThat(result.drifted()).isTrue();
    assertThat(result.summary()).contains("domain classifier AUC above 0.55 in 1 of 1 chunk(s)");
  }

  @Test
  void sameDistributionGivesAnAucNearOneHalfAndAMovedCategoryShareAHighOne(SparkSession spark) {
    Dataset<Row> reference = rows(spark, 600, true, 1.0 / 3, 3);
    Dataset<Row> same = rows(spark, 600, true, 1.0 / 3, 4);
    Dataset<Row> moved = rows(spark, 600, true, 0.8, 5);

    DriftResult stable = new DriftMonitor(spark, DOMAIN_CLASSIFIER).compare(reference, same);
    DriftResult shifted = new DriftMonitor(spark, DOMAIN_CLASSIFIER).compare(reference, moved);

    assertThat(stable.domainClassifier().current().get(0).value())
        .as("AUCs %s and %s", stable.domainClassifier(), shifted.domainClassifier())
        .isBetween(0.4, 0.55);
    assertThat(stable.domainClassifier().drifted()).isFalse();
    assertThat(stable.drifted()).isFalse();
    assertThat(shifted.domainClassifier().current().get(0).value()).isGreaterThan(0.65);
    assertThat(shifted.domainClassifier().drifted()).isTrue();
  }

  @Test
  void withChunkingEachChunkHasItsOwnAuc(SparkSession spark) {
    // 1,000 reference rows and chunks of 400: the AUC's standard error under no drift is about
    // 0.017, so 0.55 is three of them away
    Dataset<Row> reference = rows(spark, 1000, true, 1.0 / 3, 6);
    // the first 400 current rows like the reference, the last 400 with the correlation broken
    Dataset<Row> current =
        rows(spark, 400, true, 1.0 / 3, 7).unionAll(rows(spark, 400, false, 1.0 / 3, 8));

    DriftResult chunked =
        new DriftMonitor(spark, DOMAIN_CLASSIFIER, m -> {}, Chunking.count(2), null)
            .compare(reference.coalesce(1), current.coalesce(1));

    List<ChunkValue> values = chunked.domainClassifier().current();
    assertThat(values).extracting(ChunkValue::chunk).containsExactly("0", "1");
    assertThat(values.get(0).alert()).as("AUCs %s", values).isFalse();
    assertThat(values.get(1).alert()).isTrue();
    assertThat(values.get(1).value()).isGreaterThan(values.get(0).value() + 0.1);
  }
}
