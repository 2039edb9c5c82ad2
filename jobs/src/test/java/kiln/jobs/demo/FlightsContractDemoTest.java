package kiln.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import kiln.contracts.Contract;
import kiln.contracts.ContractCheck;
import kiln.contracts.ContractReports;
import kiln.contracts.ContractResult;
import kiln.contracts.Contracts;
import kiln.contracts.MetricHistory;
import kiln.contracts.RuleResult;
import kiln.core.testing.SampleFlights;
import kiln.core.testing.SharedSpark;
import kiln.drift.DriftConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The demo's damaged flights against the flights contract. */
@ExtendWith(SharedSpark.class)
class FlightsContractDemoTest {

  @Test
  void theDemosContractAndDriftConfigShipBesideItAndRead() {
    assertThat(FlightsExamples.contract().id()).isEqualTo("kiln-flights");
    assertThat(FlightsExamples.contractYaml())
        .startsWith("# The data contract of Kiln's flights sample");
    DriftConfig drift = FlightsExamples.driftConfig();
    assertThat(drift.exclude()).containsExactly("date");
    assertThat(drift.thresholds().testsDecide()).isFalse();
    assertThat(drift.ranges()).containsOnlyKeys("delay");
  }

  @Test
  void theDamagedFlightsBreakTheFlightsContractRowByRow(SparkSession spark) {
    Dataset<Row> real = SampleFlights.regular(spark, 400);
    Contract contract =
        Contracts.parse(
            FlightsExamples.contractYaml()
                .replace("mustBeBetween: [100000, 100000000]", "mustBeBetween: [100, 100000000]")
                .replace("mustBeBetween: [0, 30]", "mustBeBetween: [-10, 30]")
                .replace("mustBeBetween: [10, 80]", "mustBeBetween: [1, 80]")
                .replace("mustBeBetween: [400, 1500]", "mustBeBetween: [400, 50000]")
                .replace("mustBeBetween: [300, 1500]", "mustBeBetween: [300, 50000]")
                .replace("maximum: 6000", "maximum: 60000"),
            "small-flights.yaml");
    ContractCheck check = new ContractCheck(spark, m -> {});
    ContractResult ok = check.check(contract, null, real, MetricHistory.none());
    assertThat(ok.passed()).as(ContractReports.table(ok)).isTrue();

    ContractResult damaged =
        check.check(contract, null, FlightsContractDemo.damage(real), MetricHistory.none());
    assertThat(damaged.passed()).isFalse();
    assertThat(damaged.errors())
        .extracting(RuleResult::name)
        .contains(
            "delay.required",
            "origin.pattern",
            "distance.exclusiveMinimum",
            "originIsNotDestination");
  }
}
