package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reports sum known costs per group and say the unknown; budgets reach info, warning and critical.
 */
class BudgetsAndReportTest {
  static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

  static CostLine line(String job, String team, String start, Double total) {
    return new CostLine(
        job,
        "r-" + start,
        team == null ? Map.of() : Map.of("team", team),
        Instant.parse(start),
        total,
        total == null ? 1.0 : total / 2,
        0.0,
        0.0,
        0.0,
        0.0,
        0.1,
        "USD");
  }

  static final List<CostLine> LINES =
      List.of(
          line("drift", "risk", "2026-11-30T10:00:00Z", 100.0), // last month
          line("drift", "risk", "2026-12-01T10:00:00Z", 30.0),
          line("train", "risk", "2026-12-05T09:00:00Z", 25.0),
          line("train", "ads", "2026-12-05T10:00:00Z", 9.0),
          line("score", "ads", "2026-12-05T11:00:00Z", null),
          line("ingest", null, "2026-12-05T11:30:00Z", 1.0));

  @Test
  void aReportSumsKnownCostsPerGroupLargestFirstAndCountsTheUnknown() {
    CostReport report =
        CostReport.of(Instant.parse("2026-12-01T00:00:00Z"), List.of("team"), LINES);
    assertThat(report.groups())
        .extracting(g -> g.key().get("team"))
        .containsExactly("risk", "ads", "-");
    assertThat(report.groups().get(0).total()).isCloseTo(55.0, within(1e-9));
    assertThat(report.groups().get(0).runs()).isEqualTo(2);
    assertThat(report.groups().get(1).unknownRuns()).isEqualTo(1);
    assertThat(report.total()).isCloseTo(65.0, within(1e-9));
    assertThat(report.text())
        .contains("risk")
        .contains("Total since 2026-12-01T00:00:00Z: 65.000000 over 5 runs")
        .contains("(1 runs of unknown cost not included)");
    CostReport byTeamAndJob = CostReport.of(Instant.EPOCH, List.of("team", "job"), LINES);
    assertThat(byTeamAndJob.groups().get(0).key())
        .isEqualTo(Map.of("team", "risk", "job", "drift"));
    assertThat(byTeamAndJob.groups().get(0).total()).isCloseTo(130.0, within(1e-9));
  }

  @Test
  void aParentRunCountsOnlyWhatItsNestedRunsDidNot() {
    CostLine demo =
        new CostLine(
            "demo",
            "p1",
            Map.of(),
            Instant.parse("2026-12-05T08:00:00Z"),
            10.0,
            6.0,
            1.0,
            2.0,
            1.0,
            0.0,
            3.0,
            "USD");
    CostLine ingest =
        new CostLine(
            "ingest",
            "c1",
            Map.of(CostLine.PARENT_TAG, "p1"),
            Instant.parse("2026-12-05T08:01:00Z"),
            4.0,
            3.0,
            0.5,
            0.0,
            0.5,
            0.0,
            1.0,
            "USD");
    CostLine train =
        new CostLine(
            "train",
            "c2",
            Map.of(CostLine.PARENT_TAG, "p1"),
            Instant.parse("2026-12-05T08:02:00Z"),
            5.0,
            2.0,
            0.5,
            2.0,
            0.5,
            0.0,
            1.5,
            "USD");
    CostReport report =
        CostReport.of(
            Instant.parse("2026-12-05T00:00:00Z"), List.of("job"), List.of(demo, ingest, train));
    assertThat(report.total()).as("the whole, not whole + parts").isCloseTo(10.0, within(1e-9));
    CostReport.Group rest =
        report.groups().stream().filter(g -> g.key().get("job").equals("demo")).findFirst().get();
    assertThat(rest.total()).isCloseTo(1.0, within(1e-9));
    assertThat(rest.cpu()).isCloseTo(1.0, within(1e-9));
    assertThat(rest.gpu()).isCloseTo(0.0, within(1e-9));
    assertThat(rest.idleCpu()).isCloseTo(0.5, within(1e-9));

    CostLine unknownPart =
        new CostLine(
            "score",
            "c3",
            Map.of(CostLine.PARENT_TAG, "p1"),
            Instant.parse("2026-12-05T08:03:00Z"),
            null,
            0.1,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            "USD");
    List<CostLine> counted = CostLine.withoutNested(List.of(demo, ingest, train, unknownPart));
    assertThat(counted.get(0).total())
        .as("a part of unknown cost leaves the rest unknown")
        .isNull();
    assertThat(CostLine.withoutNested(LINES))
        .as("no nested runs: the lines as they are")
        .isSameAs(LINES);
  }

  @Test
  void budgetsReachInfoWarningAndCriticalInTheirPeriod(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("budgets.yaml");
    Files.writeString(
        file,
        """
        budgets:
          - {team: risk, period: month, limit: 100}
          - {team: ads, period: day, limit: 10}
          - {job: train, period: day, limit: 60}
          - {job: drift, period: day, limit: 1}
          - {job: ingest, period: month, limit: 1}
        """);
    List<Budgets.Status> statuses = Budgets.read(file).check(LINES, NOW);
    // risk this month: 30 + 25 = 55 of 100 (November's 100 is another period)
    assertThat(statuses.get(0).spent()).isCloseTo(55.0, within(1e-9));
    assertThat(statuses.get(0).tier()).isEqualTo(Budgets.Tier.INFO);
    assertThat(statuses.get(1).tier()).as("9 of 10").isEqualTo(Budgets.Tier.WARNING);
    assertThat(statuses.get(1).unknownRuns()).isEqualTo(1);
    assertThat(statuses.get(2).tier()).as("34 of 60").isEqualTo(Budgets.Tier.INFO);
    assertThat(statuses.get(3).tier()).as("nothing today").isEqualTo(Budgets.Tier.OK);
    assertThat(statuses.get(4).tier())
        .as("exactly the limit is not exceeded")
        .isEqualTo(Budgets.Tier.WARNING);
    assertThat(Budgets.tier(1.0001)).isEqualTo(Budgets.Tier.CRITICAL);
    assertThat(Budgets.tier(0.4999)).isEqualTo(Budgets.Tier.OK);
  }

  @Test
  void weeksStartOnMondayAndTheForecastProjectsThePeriodsSpendToItsEnd(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("budgets.yaml");
    Files.writeString(
        file,
        """
        budgets:
          - {team: ads, period: day, limit: 10}
          - {team: risk, period: week, limit: 190}
          - {job: ingest, period: month, limit: 100}
        """);
    // NOW is Saturday 2026-12-05 12:00 UTC: half the day, 5.5 of the week's 7 days
    List<Budgets.Status> statuses = Budgets.read(file).check(LINES, NOW);
    Budgets.Status day = statuses.get(0);
    assertThat(day.tier()).as("9 of 10").isEqualTo(Budgets.Tier.WARNING);
    assertThat(day.action()).isEqualTo("notify");
    assertThat(day.periodEnd()).isEqualTo(Instant.parse("2026-12-06T00:00:00Z"));
    assertThat(day.forecast()).as("9 in half a day").isCloseTo(18.0, within(1e-9));
    assertThat(day.forecastTier()).isEqualTo(Budgets.Tier.CRITICAL);

    Budgets.Status week = statuses.get(1);
    assertThat(week.periodStart()).isEqualTo(Instant.parse("2026-11-30T00:00:00Z"));
    // Monday's 100, Tuesday's 30 and today's 25: 82% of 190, heading for 104%
    assertThat(week.spent()).isCloseTo(155.0, within(1e-9));
    assertThat(week.tier()).isEqualTo(Budgets.Tier.WARNING);
    assertThat(week.forecast()).isCloseTo(155.0 * 7 / 5.5, within(1e-9));
    assertThat(week.forecastTier()).isEqualTo(Budgets.Tier.CRITICAL);

    Budgets.Status month = statuses.get(2);
    assertThat(month.tier()).isEqualTo(Budgets.Tier.OK);
    assertThat(month.action()).isEqualTo("none");
    assertThat(month.forecast()).isCloseTo(1.0 * 31 / 4.5, within(1e-9));

    Budgets.Summary summary = Budgets.Summary.of(statuses);
    assertThat(summary.tier()).isEqualTo(Budgets.Tier.WARNING);
    assertThat(summary.action()).isEqualTo("notify");

    List<Budgets.Status> early =
        Budgets.read(file).check(LINES, Instant.parse("2026-12-02T00:00:00Z"));
    assertThat(early.get(2).forecast())
        .as("one day of December's 31 is too early to forecast")
        .isNull();
    assertThat(early.get(2).forecastTier()).isNull();
    assertThat(Budgets.Summary.of(List.of()).tier()).isEqualTo(Budgets.Tier.OK);
  }

  @Test
  void aBudgetForAGroupNoRunHasOrWithoutALimitIsBadInput(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("budgets.yaml");
    Files.writeString(file, "budgets:\n  - {team: rsik, period: day, limit: 5}\n");
    assertThatThrownBy(() -> Budgets.read(file).check(LINES, NOW))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("team 'rsik'")
        .hasMessageContaining("ads, risk");
    Files.writeString(file, "budgets:\n  - {team: risk, job: drift, period: day, limit: 5}\n");
    assertThatThrownBy(() -> Budgets.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("names 2 of team, model and job");
    Files.writeString(file, "budgets:\n  - {team: risk, period: fortnight, limit: 5}\n");
    assertThatThrownBy(() -> Budgets.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("fortnight");
  }
}
