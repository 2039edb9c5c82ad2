package kiln.drift.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.sql.Date;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import kiln.core.testing.SharedSpark;
import kiln.drift.DriftConfig;
import kiln.drift.FeatureDrift;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The gpu profile's profiler (built-in expressions) against the one-pass fold, on a CPU session:
 * the same expressions RAPIDS would run on a GPU, here run by Spark. Whether RAPIDS would run them
 * on a GPU is GpuCheckTest's part.
 */
@ExtendWith(SharedSpark.class)
class GpuProfilerTest {
  private static final List<String> COLUMNS =
      List.of("x", "n", "code", "s", "b", "d", "t", "amount");

  @Test
  void exactProfilesEqualTheOnePassFoldsForEveryType(SparkSession spark) {
    Dataset<Row> rows = mixed(spark, 12);
    Set<String> categorical = Set.of("code");
    TableProfile cpu = new Profiler(100, 200).profile(rows, COLUMNS, categorical);
    TableProfile gpu = new GpuProfiler(100, 200).profile(rows, COLUMNS, categorical);
    assertThat(gpu.rows()).isEqualTo(cpu.rows()).isEqualTo(12);
    for (String column : List.of("x", "n", "d", "t", "amount")) {
      NumericProfile c = (NumericProfile) cpu.columns().get(column);
      NumericProfile g = (NumericProfile) gpu.columns().get(column);
      assertThat(g.rows()).as(column).isEqualTo(c.rows());
      assertThat(g.nulls()).as(column).isEqualTo(c.nulls());
      assertThat(g.nans()).as(column).isEqualTo(c.nans());
      assertThat(g.infinities()).as(column).isEqualTo(c.infinities());
      assertThat(g.finite()).as(column).isEqualTo(c.finite());
      assertThat(g.exact()).as(column).isTrue();
      // the same values summed in another order: rounding errors scale with the values' size
      // (timestamps are about 1.7e9 seconds with a deviation of about 1)
      double scale = 1 + Math.abs(c.mean());
      assertThat(g.mean()).as(column).isCloseTo(c.mean(), within(1e-12 * scale));
      assertThat(g.standardDeviation())
          .as(column)
          .isCloseTo(c.standardDeviation(), within(1e-12 * scale));
      assertThat(g.min()).as(column).isEqualTo(c.min());
      assertThat(g.max()).as(column).isEqualTo(c.max());
      StepDistribution gd = g.distribution();
      StepDistribution cd = c.distribution();
      assertThat(gd.values()).as(column).containsExactly(cd.values());
      for (double v : cd.values()) {
        assertThat(gd.cdf(v)).as(column + " at " + v).isEqualTo(cd.cdf(v));
      }
    }
    for (String column : List.of("code", "s", "b")) {
      CategoricalProfile c = (CategoricalProfile) cpu.columns().get(column);
      CategoricalProfile g = (CategoricalProfile) gpu.columns().get(column);
      assertThat(g.rows()).as(column).isEqualTo(c.rows());
      assertThat(g.nulls()).as(column).isEqualTo(c.nulls());
      assertThat(g.categoryCounts()).as(column).isEqualTo(c.categoryCounts()).isNotEmpty();
    }
  }

  @Test
  void beyondTheExactLimitQuantilesGiveTheSameDriftWithinTheirRankError(SparkSession spark) {
    // 2,000 distinct values per side, held exactly by the reference profiles (limit 10,000) and
    // as 200 approx_percentile points by the gpu path (limit 50)
    Dataset<Row> reference = normal(spark, 2000, 0.0, 1);
    Dataset<Row> current = normal(spark, 2000, 0.3, 2);
    List<String> columns = List.of("v");
    GpuProfiler quantiles = new GpuProfiler(50, 200);
    Profiler exact = new Profiler(10_000, 200);
    TableProfile gr = quantiles.profile(reference, columns, Set.of());
    TableProfile gc = quantiles.profile(current, columns, Set.of());
    NumericProfile g = (NumericProfile) gr.columns().get("v");
    assertThat(g.exact()).isFalse();
    assertThat(g.rankError()).isEqualTo(1.0 / 200 + 1.0 / 10_000);
    NumericProfile e =
        (NumericProfile) exact.profile(reference, columns, Set.of()).columns().get("v");
    for (double x = -3; x <= 3; x += 0.25) {
      assertThat(g.distribution().cdf(x))
          .as("cdf at " + x)
          .isCloseTo(e.distribution().cdf(x), within(g.rankError()));
    }
    // encoded and decoded as a stored profile
    NumericProfile decoded = (NumericProfile) TableProfile.decode(TableProfile.encode(g));
    assertThat(decoded.distribution().cdf(0.5)).isEqualTo(g.distribution().cdf(0.5));
    assertThat(decoded.rankError()).isEqualTo(g.rankError());

    DriftConfig config = DriftConfig.defaults();
    DriftEngine engine = new DriftEngine(config);
    var plan = engine.plan(reference.schema(), current.schema());
    FeatureDrift viaGpu =
        engine.decide(plan, side(gr, reference), side(gc, current)).features().get(0);
    FeatureDrift viaCpu =
        engine
            .decide(
                plan,
                side(exact.profile(reference, columns, Set.of()), reference),
                side(exact.profile(current, columns, Set.of()), current))
            .features()
            .get(0);
    assertThat(viaGpu.verdict()).isEqualTo(viaCpu.verdict());
    double bound = 2 * g.rankError();
    // KS: a supremum of CDF differences, each CDF within its rank error
    assertThat(viaGpu.statistics().get("ks_statistic"))
        .isCloseTo(viaCpu.statistics().get("ks_statistic"), within(bound));
    assertThat(viaGpu.statistics().get("mean_current"))
        .isCloseTo(viaCpu.statistics().get("mean_current"), within(1e-9));
    // PSI over ten quantile bins: the bin shares move by at most 2 rank errors per side
    assertThat(viaGpu.statistics().get("psi"))
        .isCloseTo(viaCpu.statistics().get("psi"), within(0.02));
  }

  private static SideProfile side(TableProfile profile, Dataset<Row> rows) {
    return new SideProfile(profile, DriftEngine.types(rows.schema()), false);
  }

  private static Dataset<Row> normal(SparkSession spark, int n, double shift, long seed) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create(random.nextGaussian() + shift));
    }
    return spark
        .createDataFrame(rows, new StructType().add("v", DataTypes.DoubleType))
        .repartition(2);
  }

  /** Every profiled type, with nulls, NaN and infinities. */
  private static Dataset<Row> mixed(SparkSession spark, int n) {
    StructType schema =
        new StructType()
            .add("x", DataTypes.DoubleType)
            .add("n", DataTypes.IntegerType)
            .add("code", DataTypes.LongType)
            .add("s", DataTypes.StringType)
            .add("b", DataTypes.BooleanType)
            .add("d", DataTypes.DateType)
            .add("t", DataTypes.TimestampType)
            .add("amount", DataTypes.createDecimalType(10, 2));
    List<Row> rows = new ArrayList<>();
    double[] xs = {1.5, 2.5, Double.NaN, Double.POSITIVE_INFINITY, -0.5, 1.5};
    for (int i = 0; i < n; i++) {
      rows.add(
          RowFactory.create(
              i == 3 ? null : xs[i % xs.length],
              i % 4,
              i == 7 ? null : 100L + i % 3,
              i % 5 == 0 ? null : "k" + i % 3,
              i % 2 == 0,
              Date.valueOf("2024-01-0" + (1 + i % 3)),
              Timestamp.valueOf("2024-01-01 10:00:0" + i % 4),
              new java.math.BigDecimal("12.3" + i % 2)));
    }
    return spark.createDataFrame(rows, schema).repartition(2);
  }

  static Map<String, Long> counts(CategoricalProfile p) {
    return p.categoryCounts();
  }
}
