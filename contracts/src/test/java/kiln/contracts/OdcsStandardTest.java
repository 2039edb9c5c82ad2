package kiln.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.BadInputException;
import kiln.core.YamlFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Contracts written by other ODCS tools: every example of the standard's repository and the
 * contracts datacontract-cli writes (fixtures with their licence and source in
 * src/test/resources/odcs-examples and datacontract-cli) read, and a key outside the standard is
 * still named.
 */
class OdcsStandardTest {
  private static final Path EXAMPLES = Path.of("src/test/resources/odcs-examples");
  private static final Path DATACONTRACT_CLI = Path.of("src/test/resources/datacontract-cli");

  static Stream<Path> standardExamples() throws IOException {
    return contracts(EXAMPLES);
  }

  static Stream<Path> datacontractCliExports() throws IOException {
    return contracts(DATACONTRACT_CLI);
  }

  private static Stream<Path> contracts(Path folder) throws IOException {
    try (Stream<Path> files = Files.walk(folder)) {
      return files.filter(f -> f.toString().endsWith(".odcs.yaml")).sorted().toList().stream();
    }
  }

  @Test
  void theFixturesHoldEveryExampleOfTheStandardAndEveryExport() throws IOException {
    assertThat(standardExamples()).hasSize(18);
    assertThat(datacontractCliExports()).hasSize(4);
  }

  /** Schema object and property names as the file has them, read without Kiln. */
  private static List<String> names(Path file) throws IOException {
    JsonNode tree = YamlFiles.mapper().readTree(file.toFile());
    List<String> names = new ArrayList<>();
    for (JsonNode object : tree.path("schema")) {
      names.add(object.path("name").asText());
      object
          .path("properties")
          .forEach(p -> names.add(object.path("name").asText() + "." + p.path("name").asText()));
    }
    return names;
  }

  private static List<String> names(Contract contract) {
    List<String> names = new ArrayList<>();
    for (ContractObject object : contract.schema()) {
      names.add(object.name());
      object.properties().forEach(p -> names.add(object.name() + "." + p.name()));
    }
    return names;
  }

  @ParameterizedTest
  @MethodSource("standardExamples")
  void everyExampleOfTheStandardReadsWithEveryObjectAndProperty(Path file) throws IOException {
    Contract contract = Contracts.read(file);
    assertThat(names(contract)).isEqualTo(names(file));
    assertThat(contract.id()).isNotBlank();
  }

  @ParameterizedTest
  @MethodSource("datacontractCliExports")
  void everyContractDatacontractCliExportsReadsOrIsRefusedForWhatTheStandardRefuses(Path file)
      throws IOException {
    if (file.getFileName().toString().equals("sql-databricks.odcs.yaml")) {
      // datacontract-cli 1.2.8 writes a databricks server without `catalog`, which the v3.2.0
      // schema it ships itself requires (checked with Python's jsonschema too): Kiln says so
      assertThatThrownBy(() -> Contracts.read(file))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "sql-databricks.odcs.yaml:8:3: required property 'catalog' not found (at servers[0])");
      return;
    }
    Contract contract = Contracts.read(file);
    assertThat(contract.apiVersion()).isEqualTo("v3.2.0");
    assertThat(names(contract)).isEqualTo(names(file)).contains("flights.origin");
  }

  private static final String HEAD =
      "apiVersion: v3.1.0\nkind: DataContract\nid: t\nversion: 1.0.0\nstatus: active\n";

  @Test
  void standardFieldsKilnDoesNotActOnAreAcceptedAndListedAsNotChecked() {
    // the two fields the issue names: Kiln's own parser refused both as "unknown key"
    Contract contract =
        Contracts.parse(
            HEAD
                + "price: {priceAmount: 9.95, priceCurrency: USD, priceUnit: megabyte}\n"
                + "schema:\n  - name: t\n"
                + "    authoritativeDefinitions:\n"
                + "      - {url: 'https://example.com/t', type: businessDefinition}\n"
                + "    properties:\n      - {name: a, logicalType: integer, required: true}\n",
            "c.yaml");
    assertThat(contract.notChecked())
        .containsExactly("price", "schema[].authoritativeDefinitions", "status");
  }

  @Test
  void theStandardsFullExampleListsEveryFieldKilnDoesNotCheck() {
    Contract contract = Contracts.read(EXAMPLES.resolve("all/full-example.odcs.yaml"));
    assertThat(contract.notChecked())
        .contains(
            "authoritativeDefinitions",
            "price",
            "servers",
            "slaProperties",
            "team",
            "schema[].authoritativeDefinitions",
            "schema[].relationships",
            "schema[].properties[].classification",
            "schema[].properties[].quality[].dimension",
            "schema[].quality[].businessImpact")
        .doesNotContain(
            "apiVersion", "schema", "schema[].properties", "schema[].properties[].required");
  }

  @Test
  void aKeyOutsideTheStandardIsNamedWithFileLineAndTheValidKeys() {
    assertThatThrownBy(
            () ->
                Contracts.parse(
                    HEAD
                        + "pricing: {priceAmount: 1}\n"
                        + "schema:\n  - name: t\n    authoritativeDefinition: []\n",
                    "c.yaml"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("c.yaml is not a valid ODCS v3.1.0 contract (2 problems)")
        .hasMessageContaining("c.yaml:6:1: unknown key 'pricing' at the top level; valid keys: ")
        .hasMessageContaining(", price, ")
        .hasMessageContaining(
            "c.yaml:9:5: unknown key 'authoritativeDefinition' (at schema[0]); valid keys: ")
        .hasMessageContaining("authoritativeDefinitions, businessName");
  }

  @Test
  void aWrongValueIsNamedWithItsLineAndTheValidValues() {
    assertThatThrownBy(
            () ->
                Contracts.parse(
                    HEAD
                        + "schema:\n  - name: t\n    properties:\n      - {name: a, logicalType: text}\n",
                    "c.yaml"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "c.yaml:9:19: unknown logicalType 'text'; valid logicalTypes: array, boolean, date");
  }

  @Test
  void anApiVersionWithoutASchemaIsRefusedWithTheVersionsKilnKnows() {
    assertThatThrownBy(
            () ->
                Contracts.parse(
                    HEAD.replace("v3.1.0", "v3.9.0") + "schema:\n  - name: t\n", "c.yaml"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "c.yaml:1:1: apiVersion 'v3.9.0' is not an ODCS version Kiln has the schema of; "
                + "valid: v3.0.0, v3.0.1, v3.0.2, v3.1.0, v3.2.0");
  }

  @Test
  void aContractWithoutSchemaObjectsReadsButChecksNothing() {
    Contract contract = Contracts.read(EXAMPLES.resolve("sla/database-table-sla.odcs.yaml"));
    assertThat(contract.schema()).isEmpty();
    assertThatThrownBy(() -> contract.object(null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("describes no schema objects");
  }
}
