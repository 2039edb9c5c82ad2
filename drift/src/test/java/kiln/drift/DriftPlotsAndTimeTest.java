package kiln.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the report plots is what the PSI measures (the reference's quantile bins), and a date column
 * is the time axis, not a feature that always drifts.
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class DriftPlotsAndTimeTest {
  static final StructType SCHEMA =
      new StructType().add("day", DataTypes.DateType).add("delay", DataTypes.DoubleType);

  /**
   * A heavy-tailed delay: 95% of the rows within 1-30, one in twenty 0 to 1,900. In the current
   * period the bulk moves up by 10.
   */
  static Dataset<Row> flights(SparkSession spark, LocalDate first, double shift) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      double delay = i % 20 == 0 ? 100 * (i / 20) : (i % 20) + shift;
      rows.add(RowFactory.create(first.plusDays(i % 30), delay));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  @Test
  void numericPlotsUseThePsiBinsSoTheirSharesGiveThePsi(SparkSession spark) {
    DriftResult result =
        new DriftMonitor(spark, DriftConfig.defaults())
            .compare(
                flights(spark, LocalDate.of(2012, 1, 1), 0),
                flights(spark, LocalDate.of(2015, 1, 1), 10));
    FeatureDrift delay = result.feature("delay").orElseThrow();
    Histogram plot = delay.histogram();

    // ten reference deciles at most (duplicate edges merge), each with about a tenth of the
    // reference: equal-width bins over 0-1,900 would put 95% of both sides in the first bar
    assertThat(plot.labels()).hasSizeBetween(8, 10);
    assertThat(plot.reference()).allSatisfy(share -> assertThat(share).isLessThan(0.2));
    assertThat(plot.labels().get(0)).startsWith("0 to ");
    assertThat(plot.labels().get(plot.labels().size() - 1))
        .startsWith("above ")
        .endsWith(" to 1900");
    assertThat(plot.reference().stream().mapToDouble(Double::doubleValue).sum())
        .isCloseTo(1.0, within(1e-9));
    assertThat(plot.current().stream().mapToDouble(Double::doubleValue).sum())
        .isCloseTo(1.0, within(1e-9));
    // the bars are the bins the PSI is computed on: the PSI of the plotted shares is the PSI
    double psi =
        kiln.drift.internal.Distances.psi(
            plot.reference().stream().mapToDouble(Double::doubleValue).toArray(),
            plot.current().stream().mapToDouble(Double::doubleValue).toArray());
    assertThat(delay.statistics().get("psi")).isCloseTo(psi, within(1e-12));
    assertThat(psi).isGreaterThan(0.2);

    String page = DriftReport.html(result);
    assertThat(page).contains("Shares per bin").contains("the reference's quantiles");
  }

  @Test
  void aDateColumnIsTheTimeAxisUnlessTheConfigNamesItAsAFeature(SparkSession spark) {
    Dataset<Row> before = flights(spark, LocalDate.of(2012, 1, 1), 0);
    Dataset<Row> after = flights(spark, LocalDate.of(2015, 1, 1), 0);

    DriftResult byDefault = new DriftMonitor(spark, DriftConfig.defaults()).compare(before, after);
    // the same delays in another year: no drift, and the day is not compared at all
    assertThat(byDefault.feature("day")).isEmpty();
    assertThat(byDefault.drifted()).isFalse();
    assertThat(byDefault.summary())
        .startsWith("0 of 1 features drifted")
        .contains("left out as the time axis: day");

    DriftResult asked =
        new DriftMonitor(
                spark, DriftConfig.defaults().withColumns(List.of("day", "delay"), null, null))
            .compare(before, after);
    // named as a feature it is compared, and two periods never share a day
    assertThat(asked.feature("day").orElseThrow().drifted()).isTrue();
    assertThat(asked.summary()).doesNotContain("time axis");
  }
}
