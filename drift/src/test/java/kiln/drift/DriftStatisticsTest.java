package kiln.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every statistic against scipy's values on the same data (drift/scripts/make_fixtures.py): equal
 * to 1e-9 where Kiln is exact, within the stated bound where it sketches.
 */
@ExtendWith(SharedSpark.class)
class DriftStatisticsTest {
  private static final double EXACT = 1e-9;

  /**
   * Large-sample KS p-values (absolute): both evaluate the one-sample Kolmogorov distribution at
   * round(n1 n2 / (n1 + n2)).
   */
  private static final double ASYMPTOTIC = 1e-9;

  /**
   * The same p-values on log p, since an absolute 1e-9 alone would let 0 pass. Kiln's is 1 - cdf
   * from commons-math's Pelz-Good series, good to a few 1e-15 absolute: numeric-large's 2.947e-12
   * comes out 0.134% above scipy's (measured), so 0.2% on log p.
   */
  private static final double ASYMPTOTIC_LOG = 2e-3;

  private static JsonNode expected;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = DriftStatisticsTest.class.getResourceAsStream("fixtures/expected.json")) {
      expected = new ObjectMapper().readTree(in);
    }
  }

  static Path fixture(String name) {
    try {
      return Path.of(DriftStatisticsTest.class.getResource("fixtures/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Dataset<Row> side(
      SparkSession spark, String file, String column, String type, String side) {
    StructType schema =
        new StructType()
            .add("side", DataTypes.StringType)
            .add(column, type.equals("double") ? DataTypes.DoubleType : DataTypes.StringType);
    return spark
        .read()
        .option("header", "true")
        .schema(schema)
        .csv(fixture(file).toString())
        .where("side = '" + side + "'")
        .drop("side");
  }

  /** The same integers the fixture script makes: ((i m) % p) % f + s as x. */
  static Dataset<Row> formula(SparkSession spark, JsonNode generator) {
    long n = generator.get(0).asLong();
    return spark
        .range(n)
        .selectExpr(
            "cast(((id * "
                + generator.get(1).asLong()
                + ") % "
                + generator.get(2).asLong()
                + ") % "
                + generator.get(3).asLong()
                + " + "
                + generator.get(4).asLong()
                + " as double) as x");
  }

  static void assertExact(FeatureDrift feature, JsonNode expect, String... metrics) {
    for (String metric : metrics) {
      double want = expect.get(metric).asDouble();
      // p-values reach 1e-26 here: relative to their size, so that 0 (or any wrong tiny value)
      // fails
      double tolerance =
          metric.endsWith("p_value") ? EXACT * want : Math.max(EXACT * Math.abs(want), EXACT);
      assertThat(feature.statistics().get(metric)).as(metric).isCloseTo(want, within(tolerance));
    }
  }

  private static DriftConfig config() {
    return DriftConfig.defaults();
  }

  @Test
  void smallUnequalSamplesMatchScipyExactly(SparkSession spark) {
    DriftResult result =
        new DriftMonitor(spark, config())
            .compare(
                side(spark, "numeric-unequal.csv", "x", "double", "reference"),
                side(spark, "numeric-unequal.csv", "x", "double", "current"));
    FeatureDrift x = result.feature("x").orElseThrow();
    assertThat(x.exact()).isTrue();
    assertExact(
        x,
        expected.get("numeric-unequal"),
        "ks_statistic",
        "ks_p_value",
        "wasserstein",
        "wasserstein_normalised",
        "psi",
        "jensen_shannon",
        "hellinger",
        "out_of_range_rate");
    assertThat(x.statistics()).containsEntry("ks_error_bound", 0.0);
  }

  @Test
  void equalSamplesWithTiesMatchScipyExactly(SparkSession spark) {
    DriftResult result =
        new DriftMonitor(spark, config())
            .compare(
                side(spark, "numeric-equal.csv", "x", "double", "reference"),
                side(spark, "numeric-equal.csv", "x", "double", "current"));
    FeatureDrift x = result.feature("x").orElseThrow();
    assertExact(
        x,
        expected.get("numeric-equal"),
        "ks_statistic",
        "ks_p_value",
        "wasserstein",
        "wasserstein_normalised",
        "psi",
        "jensen_shannon",
        "hellinger",
        "out_of_range_rate");
    assertThat(x.drifted()).isTrue();
    assertThat(x.reasons()).anyMatch(r -> r.startsWith("PSI 0.4398 >= 0.2"));
  }

  @Test
  void largeSamplesWithFewValuesAreExactAndTheirPValueAsymptotic(SparkSession spark) {
    largeSample(spark, expected.get("numeric-large"));
    largeSample(spark, expected.get("numeric-large-similar"));
  }

  private void largeSample(SparkSession spark, JsonNode expect) {
    DriftResult result =
        new DriftMonitor(spark, config())
            .compare(
                formula(spark, expect.get("generator").get("reference")),
                formula(spark, expect.get("generator").get("current")));
    FeatureDrift x = result.feature("x").orElseThrow();
    assertThat(x.exact()).isTrue();
    assertExact(
        x,
        expect,
        "ks_statistic",
        "wasserstein",
        "wasserstein_normalised",
        "psi",
        "jensen_shannon",
        "hellinger",
        "out_of_range_rate");
    // scipy's kstwo.sf and commons-math's Pelz-Good series evaluate the same distribution
    double want = expect.get("ks_p_value").asDouble();
    double got = x.statistics().get("ks_p_value");
    assertThat(got).isCloseTo(want, within(ASYMPTOTIC));
    assertThat(got).isPositive();
    assertThat(Math.log(got))
        .as("log ks_p_value")
        .isCloseTo(Math.log(want), within(ASYMPTOTIC_LOG));
  }

  @Test
  void manyDistinctValuesAreSketchedWithinTheStatedBound(SparkSession spark) {
    JsonNode expect = expected.get("numeric-sketched");
    DriftResult result =
        new DriftMonitor(spark, config().withExactDistinctLimit(1000))
            .compare(
                formula(spark, expect.get("generator").get("reference")),
                formula(spark, expect.get("generator").get("current")));
    FeatureDrift x = result.feature("x").orElseThrow();
    assertThat(x.exact()).isFalse();
    double bound = x.statistics().get("ks_error_bound");
    assertThat(bound).isBetween(1e-4, 0.01);
    assertThat(x.statistics().get("ks_statistic"))
        .isCloseTo(expect.get("ks_statistic").asDouble(), within(bound));
    assertThat(expect.get("ks_p_value").asDouble())
        .isBetween(x.statistics().get("ks_p_value_low"), x.statistics().get("ks_p_value_high"));
    assertThat(x.statistics().get("wasserstein"))
        .isCloseTo(
            expect.get("wasserstein").asDouble(),
            within(x.statistics().get("wasserstein_error_bound")));
    assertThat(x.reasons()).anyMatch(r -> r.contains("sketched (KLL)"));
    // scipy's values use edges from the exact reference, not the sketch's; the sketched edges are
    // close
    // enough here that those values lie inside the intervals too (SketchedBinBoundsTest checks the
    // same edges)
    for (String metric : List.of("psi", "jensen_shannon", "hellinger")) {
      assertThat(x.statistics().get(metric))
          .as(metric)
          .isBetween(x.statistics().get(metric + "_low"), x.statistics().get(metric + "_high"));
      assertThat(expect.get(metric).asDouble())
          .as("scipy's " + metric)
          .isBetween(x.statistics().get(metric + "_low"), x.statistics().get(metric + "_high"));
    }
    assertThat(x.reasons()).anyMatch(r -> r.startsWith("sketched (KLL) bins: PSI "));
    assertThat(DriftReport.html(result)).contains("sketched, in [");
  }

  @Test
  void categoriesMatchScipysChiSquaredAndTheDistances(SparkSession spark) {
    for (String fixture : List.of("categorical-all", "categorical-top5")) {
      JsonNode expect = expected.get(fixture);
      DriftConfig config =
          new DriftConfig(
              null,
              null,
              null,
              null,
              null,
              null,
              null,
              null,
              expect.get("top").asInt(),
              null,
              null,
              null,
              null,
              null);
      DriftResult result =
          new DriftMonitor(spark, config)
              .compare(
                  side(spark, "categorical.csv", "c", "string", "reference"),
                  side(spark, "categorical.csv", "c", "string", "current"));
      FeatureDrift c = result.feature("c").orElseThrow();
      assertExact(
          c,
          expect,
          "chi_squared",
          "chi_squared_p_value",
          "chi_squared_dof",
          "psi",
          "jensen_shannon",
          "hellinger");
      assertThat(c.newCategories())
          .as(fixture)
          .containsExactlyInAnyOrderElementsOf(strings(expect.get("new_categories")));
      assertThat(c.missingCategories())
          .as(fixture)
          .containsExactlyInAnyOrderElementsOf(strings(expect.get("missing_categories")));
    }
  }

  @Test
  void sketchedCategoriesMatchScipyWhileTheFrequentItemsSketchIsExact(SparkSession spark) {
    JsonNode expect = expected.get("categorical-sketched");
    DriftConfig config =
        config().withExactDistinctLimit(expect.get("exact_distinct_limit").asInt());
    DriftResult result =
        new DriftMonitor(spark, config)
            .compare(
                side(spark, "categorical-sketched.csv", "c", "string", "reference"),
                side(spark, "categorical-sketched.csv", "c", "string", "current"));
    FeatureDrift c = result.feature("c").orElseThrow();
    // more categories than exactDistinctLimit: the sketch path ...
    assertThat(expect.get("distinct_reference").asInt()).isGreaterThan(config.exactDistinctLimit());
    assertThat(c.exact()).isFalse();
    // ... with fewer than 0.75 x 8,192 categories, where the sketch has never purged: its counts
    // are exact
    assertThat(c.statistics()).containsEntry("count_error_bound", 0.0);
    assertExact(
        c,
        expect,
        "chi_squared",
        "chi_squared_p_value",
        "chi_squared_dof",
        "psi",
        "jensen_shannon",
        "hellinger");
    assertThat(c.statistics().get("categories_reference"))
        .isEqualTo(expect.get("distinct_reference").asDouble());
    assertThat(c.statistics().get("new_categories")).isEqualTo(expect.get("new_categories").size());
    assertThat(c.statistics().get("missing_categories"))
        .isEqualTo(expect.get("missing_categories").size());
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(v -> values.add(v.asText()));
    return values;
  }
}
