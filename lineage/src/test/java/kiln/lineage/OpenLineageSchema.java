package kiln.lineage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The official OpenLineage schemas (fixtures in {@code src/test/resources/openlineage}): an event
 * is checked against the 2-0-2 core schema, and each facet the spec defines against its own facet
 * schema.
 */
public final class OpenLineageSchema {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> FACET_FILES =
      Map.of(
          "ColumnLineageDatasetFacet", "ColumnLineageDatasetFacet.json",
          "ParentRunFacet", "ParentRunFacet.json",
          "ErrorMessageRunFacet", "ErrorMessageRunFacet.json",
          "JobTypeJobFacet", "JobTypeJobFacet.json",
          "DatasetVersionDatasetFacet", "DatasetVersionDatasetFacet.json",
          "StorageDatasetFacet", "StorageDatasetFacet.json",
          "SchemaDatasetFacet", "SchemaDatasetFacet.json",
          "DataQualityAssertionsDatasetFacet", "DataQualityAssertionsDatasetFacet.json",
          "DataQualityMetricsInputDatasetFacet", "DataQualityMetricsInputDatasetFacet.json");

  private final SchemaRegistry registry;
  private final Map<String, String> idsByFile = new HashMap<>();

  public OpenLineageSchema() {
    Map<String, String> schemas = new HashMap<>();
    List<String> files = new ArrayList<>(FACET_FILES.values());
    files.add("OpenLineage.json");
    for (String file : files) {
      String text = read(file);
      try {
        String id = JSON.readTree(text).get("$id").asText();
        schemas.put(id, text);
        idsByFile.put(file, id);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    SchemaRegistryConfig config =
        SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build();
    registry =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12,
            builder -> builder.schemas(schemas).schemaRegistryConfig(config));
  }

  private static String read(String file) {
    try (InputStream in = OpenLineageSchema.class.getResourceAsStream("/openlineage/" + file)) {
      if (in == null) {
        throw new IllegalStateException("missing fixture /openlineage/" + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Every violation of the event: against the core schema and against each known facet's schema.
   */
  public List<String> violations(String event) {
    JsonNode node;
    try {
      node = JSON.readTree(event);
    } catch (IOException e) {
      return List.of("not JSON: " + e.getMessage());
    }
    List<String> violations = new ArrayList<>();
    check("OpenLineage.json", node, violations);
    facets(node.path("run").path("facets"), violations);
    facets(node.path("job").path("facets"), violations);
    for (String side : List.of("inputs", "outputs")) {
      for (JsonNode dataset : node.path(side)) {
        facets(dataset.path("facets"), violations);
        facets(dataset.path("inputFacets"), violations);
      }
    }
    return violations;
  }

  /** A facet file's schema validates the facets object that holds its facet under its key. */
  private void facets(JsonNode facets, List<String> violations) {
    for (Iterator<Map.Entry<String, JsonNode>> it = facets.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> facet = it.next();
      String url = facet.getValue().path("_schemaURL").asText();
      String type = url.substring(url.lastIndexOf('/') + 1);
      String file = FACET_FILES.get(type);
      if (file == null) {
        continue;
      }
      if (!url.startsWith(idsByFile.get(file).replace(file, ""))) {
        violations.add(
            facet.getKey()
                + ": _schemaURL "
                + url
                + " is not the fixture's version "
                + idsByFile.get(file));
      }
      ObjectNode holder = JSON.createObjectNode();
      holder.set(facet.getKey(), facet.getValue());
      check(file, holder, violations);
    }
  }

  private void check(String file, JsonNode node, List<String> violations) {
    Schema schema = registry.getSchema(SchemaLocation.of(idsByFile.get(file)));
    schema.validate(node).forEach(error -> violations.add(file + ": " + error));
  }
}
