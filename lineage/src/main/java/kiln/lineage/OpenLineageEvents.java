package kiln.lineage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Builds OpenLineage 2-0-2 run events (JSON) for one Kiln run. */
public final class OpenLineageEvents {
  public static final String SCHEMA_URL =
      "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
  static final String FACETS = "https://openlineage.io/spec/facets/";

  /** Kiln's own facets; the producer and schema URL must be URIs, not necessarily addresses. */
  static final String KILN_FACETS = "urn:dev.kiln:lineage:facets:1-0-0:";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A table as the event names it, with what Kiln knows of it. */
  public record Dataset(
      RunLineage.Table table,
      Optional<StructType> schema,
      Optional<DataQuality> quality,
      Optional<ColumnLineage> columns) {
    public Dataset(RunLineage.Table table, Optional<StructType> schema) {
      this(table, schema, Optional.empty(), Optional.empty());
    }

    public Dataset(
        RunLineage.Table table, Optional<StructType> schema, Optional<DataQuality> quality) {
      this(table, schema, quality, Optional.empty());
    }
  }

  /**
   * Files a run read that are no table (ingest's source): an input named as Spark's reading names
   * it ({@link DatasetName#ofSource}), so the output's column lineage points at it; {@code
   * location} as the job was given it.
   */
  public record SourceFiles(DatasetName name, String location, String format) {
    public SourceFiles {
      java.util.Objects.requireNonNull(name, "name is null");
      java.util.Objects.requireNonNull(location, "location is null");
      java.util.Objects.requireNonNull(format, "format is null");
    }
  }

  private final String producer;
  private final String jobNamespace;
  private final String jobName;
  private final UUID runId;
  private final Optional<ParentRun> parent;
  private final Optional<ParentRun> root;

  public OpenLineageEvents(
      String kilnVersion,
      String jobNamespace,
      String jobName,
      Optional<ParentRun> parent,
      Optional<ParentRun> root) {
    this.producer = "urn:dev.kiln:kiln:" + kilnVersion;
    this.jobNamespace = jobNamespace;
    this.jobName = jobName;
    this.runId = uuid7();
    this.parent = parent;
    this.root = root;
  }

  public UUID runId() {
    return runId;
  }

  public String jobName() {
    return jobName;
  }

  /** A time-ordered UUID (version 7), as the spec recommends for run ids. */
  static UUID uuid7() {
    long millis = System.currentTimeMillis();
    long most = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long least = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(most, least);
  }

  /**
   * One event. {@code mlflowRunId} and {@code model} (NAME/VERSION of a model version the run
   * registered or used) go in Kiln's {@code mlflow} run facet; {@code error} in the spec's
   * errorMessage facet.
   */
  public String event(
      String eventType,
      Instant time,
      String mlflowRunId,
      String trackingUri,
      String model,
      Iterable<Dataset> datasets,
      Throwable error) {
    return event(
        eventType, time, mlflowRunId, trackingUri, model, datasets, java.util.List.of(), error);
  }

  /** As above, with the files the run read besides tables as inputs. */
  public String event(
      String eventType,
      Instant time,
      String mlflowRunId,
      String trackingUri,
      String model,
      Iterable<Dataset> datasets,
      Iterable<SourceFiles> sources,
      Throwable error) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventType", eventType);
    event.put("eventTime", time.toString());
    event.put("producer", producer);
    event.put("schemaURL", SCHEMA_URL);
    ObjectNode run = event.putObject("run");
    run.put("runId", runId.toString());
    ObjectNode runFacets = run.putObject("facets");
    parent.ifPresent(
        p -> {
          ObjectNode facet =
              facet(
                  runFacets, "parent", FACETS + "1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet");
          facet.putObject("run").put("runId", p.runId().toString());
          facet.putObject("job").put("namespace", p.namespace()).put("name", p.name());
          root.ifPresent(
              r -> {
                ObjectNode rootNode = facet.putObject("root");
                rootNode.putObject("run").put("runId", r.runId().toString());
                rootNode.putObject("job").put("namespace", r.namespace()).put("name", r.name());
              });
        });
    if (mlflowRunId != null) {
      ObjectNode mlflow = facet(runFacets, "mlflow", KILN_FACETS + "MlflowRunFacet");
      mlflow.put("runId", mlflowRunId);
      if (trackingUri != null) {
        mlflow.put("trackingUri", trackingUri);
      }
      if (model != null) {
        mlflow.put("modelVersion", model);
      }
    }
    if (error != null) {
      ObjectNode facet =
          facet(
              runFacets,
              "errorMessage",
              FACETS + "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet");
      facet.put(
          "message",
          String.valueOf(
              error.getMessage() == null ? error.getClass().getName() : error.getMessage()));
      facet.put("programmingLanguage", "Java");
      StringWriter trace = new StringWriter();
      error.printStackTrace(new PrintWriter(trace));
      facet.put("stackTrace", trace.toString());
    }
    ObjectNode job = event.putObject("job");
    job.put("namespace", jobNamespace);
    job.put("name", jobName);
    facet(
            job.putObject("facets"),
            "jobType",
            FACETS + "2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet")
        .put("processingType", "BATCH")
        .put("integration", "KILN")
        .put("jobType", "JOB");
    ArrayNode inputs = event.putArray("inputs");
    ArrayNode outputs = event.putArray("outputs");
    for (SourceFiles source : sources) {
      ObjectNode node = inputs.addObject();
      node.put("namespace", source.name().namespace());
      node.put("name", source.name().name());
      // the spec has no facet for plain files (its storage facet is for table formats): Kiln's own
      facet(node.putObject("facets"), "sourceFiles", KILN_FACETS + "SourceFilesDatasetFacet")
          .put("location", source.location())
          .put("format", source.format());
    }
    for (Dataset dataset : datasets) {
      (dataset.table().output() ? outputs : inputs).add(dataset(dataset));
    }
    return event.toString();
  }

  private ObjectNode dataset(Dataset dataset) {
    DatasetName name = DatasetName.of(dataset.table().table().table());
    ObjectNode node = JSON.createObjectNode();
    node.put("namespace", name.namespace());
    node.put("name", name.name());
    ObjectNode facets = node.putObject("facets");
    dataset
        .table()
        .table()
        .pinnedVersion()
        .ifPresent(
            version ->
                facet(
                        facets,
                        "version",
                        FACETS
                            + "1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet")
                    .put("datasetVersion", String.valueOf(version)));
    facet(facets, "storage", FACETS + "1-0-1/StorageDatasetFacet.json#/$defs/StorageDatasetFacet")
        .put("storageLayer", "delta")
        .put("fileFormat", "parquet");
    dataset
        .schema()
        .ifPresent(
            schema -> {
              ObjectNode facet =
                  facet(
                      facets,
                      "schema",
                      FACETS + "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet");
              fields(facet.putArray("fields"), schema);
            });
    if (!dataset.table().output()) {
      dataset.quality().ifPresent(quality -> quality(node.putObject("inputFacets"), quality));
    } else {
      dataset.columns().ifPresent(columns -> columnLineage(facets, columns));
    }
    return node;
  }

  /** The spec's columnLineage facet of an output: each column's sources, then whole-table ones. */
  private void columnLineage(ObjectNode facets, ColumnLineage columns) {
    ObjectNode facet =
        facet(
            facets,
            "columnLineage",
            FACETS + "1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet");
    ObjectNode fields = facet.putObject("fields");
    columns
        .fields()
        .forEach(
            (column, inputs) ->
                inputFields(fields.putObject(column).putArray("inputFields"), inputs));
    if (!columns.dataset().isEmpty()) {
      inputFields(facet.putArray("dataset"), columns.dataset());
    }
  }

  private static void inputFields(
      ArrayNode array, java.util.List<ColumnLineage.InputField> inputs) {
    for (ColumnLineage.InputField input : inputs) {
      ObjectNode node = array.addObject();
      node.put("namespace", input.namespace());
      node.put("name", input.name());
      node.put("field", input.field());
      ArrayNode transformations = node.putArray("transformations");
      for (ColumnLineage.Transformation t : input.transformations()) {
        transformations
            .addObject()
            .put("type", t.type())
            .put("subtype", t.subtype())
            .put("masking", t.masking());
      }
    }
  }

  /**
   * The spec's input-dataset facets for what a check found: dataQualityAssertions always,
   * dataQualityMetrics when rows or column metrics are known.
   */
  private void quality(ObjectNode facets, DataQuality quality) {
    ArrayNode assertions =
        facet(
                facets,
                "dataQualityAssertions",
                FACETS
                    + "1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet")
            .putArray("assertions");
    for (DataQuality.Assertion assertion : quality.assertions()) {
      ObjectNode node = assertions.addObject();
      node.put("assertion", assertion.assertion());
      node.put("success", assertion.success());
      putIfPresent(node, "column", assertion.column());
      putIfPresent(node, "severity", assertion.severity());
      putIfPresent(node, "name", assertion.name());
      putIfPresent(node, "expected", assertion.expected());
      putIfPresent(node, "actual", assertion.actual());
    }
    if (quality.rowCount().isEmpty() && quality.columnMetrics().isEmpty()) {
      return;
    }
    ObjectNode metrics =
        facet(
            facets,
            "dataQualityMetrics",
            FACETS
                + "1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet");
    quality.rowCount().ifPresent(rows -> metrics.put("rowCount", rows));
    ObjectNode columns = metrics.putObject("columnMetrics");
    quality
        .columnMetrics()
        .forEach(
            (column, values) -> {
              ObjectNode node = columns.putObject(column);
              if (values.nullCount() != null) {
                node.put("nullCount", values.nullCount());
              }
              if (values.distinctCount() != null) {
                node.put("distinctCount", values.distinctCount());
              }
              putIfFinite(node, "sum", values.sum());
              putIfFinite(node, "min", values.min());
              putIfFinite(node, "max", values.max());
            });
  }

  private static void putIfPresent(ObjectNode node, String key, String value) {
    if (value != null) {
      node.put(key, value);
    }
  }

  /** JSON has no NaN or infinity: such a value is left out rather than making the event invalid. */
  private static void putIfFinite(ObjectNode node, String key, Double value) {
    if (value != null && Double.isFinite(value)) {
      node.put(key, value);
    }
  }

  private static void fields(ArrayNode array, StructType struct) {
    for (StructField field : struct.fields()) {
      ObjectNode node = array.addObject();
      node.put("name", field.name());
      DataType type = field.dataType();
      if (type instanceof StructType nested) {
        node.put("type", "struct");
        fields(node.putArray("fields"), nested);
      } else {
        node.put("type", type.simpleString());
      }
    }
  }

  private ObjectNode facet(ObjectNode facets, String key, String schemaUrl) {
    ObjectNode facet = facets.putObject(key);
    facet.put("_producer", producer);
    facet.put("_schemaURL", schemaUrl);
    return facet;
  }
}
