package kiln.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;

/** Reading contract files: what is accepted, and the messages for what is not. No Spark needed. */
class ContractsTest {
  /**
   * The example contract of the flights sample (the module's directory is the tests' working
   * directory).
   */
  private static final Path FLIGHTS = Path.of("examples/flights.yaml");

  private static final String HEAD =
      "apiVersion: v3.1.0\nkind: DataContract\nid: t\nversion: 1.0.0\nstatus: draft\n";

  private static Contract parse(String yaml) {
    return Contracts.parse(HEAD + yaml, "c.yaml");
  }

  @Test
  void theFlightsContractReadsAndNamesItsTwentyRules() {
    Contract flights = Contracts.read(FLIGHTS);
    assertThat(flights.id()).isEqualTo("kiln-flights");
    assertThat(kiln.contracts.internal.RuleCompiler.compile(flights.object(null)))
        .extracting(kiln.contracts.internal.CompiledRule::name)
        .hasSize(20)
        .contains(
            "delay.required",
            "delay.minimum",
            "distance.exclusiveMinimum",
            "origin.pattern",
            "delay.mean",
            "distance.quantile",
            "rowCount.change",
            "date.freshness",
            "originIsNotDestination");
  }

  @Test
  void aContractWrittenAsYamlReadsBackEqual() {
    Contract flights = Contracts.read(FLIGHTS);
    Contract again = Contracts.parse(Contracts.toYaml(flights), "again.yaml");
    assertThat(Contracts.toYaml(again)).isEqualTo(Contracts.toYaml(flights));
    assertThat(again.schema()).isEqualTo(flights.schema());
  }

  @Test
  void malformedYamlNamesFileLineAndColumn() {
    assertThatThrownBy(() -> parse("schema:\n  - name: t\n    properties: [\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("c.yaml:")
        .hasMessageContaining("YAML syntax error");
  }

  @Test
  void anUnknownKeyIsNamedWithTheValidOnes() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    properties:\n      - name: a\n        requird: true\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("c.yaml:10:9: unknown key 'requird'")
        .hasMessageContaining("required");
  }

  @Test
  void anUnknownMetricIsNamedWithTheValidOnes() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    quality:\n      - metric: rowCont\n        mustBe: 3\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("unknown metric 'rowCont'")
        .hasMessageContaining("valid metrics: completeness, duplicateValues, freshness");
  }

  @Test
  void aRuleOnAnUndeclaredColumnIsRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    properties:\n      - name: a\n    quality:\n"
                        + "      - metric: uniqueness\n        arguments: {properties: [a, b]}\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "rule 'uniqueness' names column 'b', which schema object 't' does not declare; declared: a");
  }

  @Test
  void aPatternThatDoesNotCompileIsRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: string\n"
                        + "        logicalTypeOptions: {pattern: \"[A-Z\"}\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("pattern '[A-Z' is not a valid regular expression");
  }

  @Test
  void aMinimumAboveTheMaximumIsRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: integer\n"
                        + "        logicalTypeOptions: {minimum: 10, maximum: 1}\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("minimum 10 is above maximum 1");
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    quality:\n      - metric: rowCount\n        mustBeBetween: [5, 1]\n"))
        .hasMessageContaining("the range [5, 1] has its minimum above its maximum");
  }

  @Test
  void aRuleNeedsOneOperatorAndTheArgumentsOfItsMetric() {
    assertThatThrownBy(
            () -> parse("schema:\n  - name: t\n    quality:\n      - metric: rowCount\n"))
        .hasMessageContaining("metric rowCount needs an operator");
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    quality:\n      - metric: rowCount\n        mustBe: 1\n"
                        + "        mustBeLessThan: 3\n"))
        .hasMessageContaining("has 2 operators (mustBe, mustBeLessThan)");
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    properties:\n      - name: d\n        quality:\n"
                        + "          - metric: freshness\n            arguments: {maximumAge: 3 days}\n"))
        .hasMessageContaining("maximumAge '3 days' is not an ISO-8601 duration");
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    quality:\n      - metric: mean\n        mustBe: 1\n"))
        .hasMessageContaining(
            "metric mean is about one column; put the rule under that property's quality:");
  }

  @Test
  void severityIsErrorOrWarning() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    quality:\n      - metric: rowCount\n        mustBe: 1\n"
                        + "        severity: fatal\n"))
        .hasMessageContaining("value 'fatal'")
        .hasMessageContaining("valid values: error, warning");
    Contract ok =
        parse("schema:\n  - name: t\n    quality:\n      - metric: rowCount\n        mustBe: 1\n");
    assertThat(ok.schema().get(0).quality().get(0).severity()).isEqualTo(Severity.ERROR);
  }

  @Test
  void twoRulesWithTheSameDerivedNameMustBeNamed() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    properties:\n      - name: a\n        quality:\n"
                        + "          - {metric: mean, mustBe: 1}\n          - {metric: mean, mustBe: 2}\n"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("several rules named 'a.mean'");
  }

  @Test
  void anUnknownAnomalyStrategyIsNamed() {
    assertThatThrownBy(
            () ->
                parse(
                    "schema:\n  - name: t\n    quality:\n      - metric: rowCount\n"
                        + "        anomaly: {strategy: magic}\n"))
        .hasMessageContaining(
            "unknown anomaly strategy 'magic'; valid: absoluteChange, onlineNormal, relativeRateOfChange, simpleThresholds");
  }
}
