package kiln.lineage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.models.ModelUri;

/**
 * What Kiln's runs read and wrote, from the OpenLineage events in {@code
 * WORKDIR/lineage/events.jsonl}: upstream of a table version or model version (the runs that made
 * it and what they read, and so on), and downstream (the runs that read it and what they wrote).
 * Only runs that completed count.
 */
public final class LineageGraph {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A table at a version, as the events name it. */
  public record TableAt(String namespace, String name, String version) {
    @Override
    public String toString() {
      String table = namespace.equals("file") ? name : namespace + "/" + name;
      return version == null ? table : table + "@" + version;
    }

    /**
     * Where Spark reads the table: the path, or the URI ({@code s3:} back to Hadoop's {@code s3a:}
     * connector, which {@link DatasetName} folded into {@code s3:}).
     */
    public String location() {
      if (namespace.equals("file")) {
        return name;
      }
      String base = namespace.startsWith("s3://") ? "s3a://" + namespace.substring(5) : namespace;
      return base + "/" + name;
    }
  }

  /**
   * A completed run: its job, ids, the tables it read and wrote, and the model version it
   * registered or used.
   */
  public record RunNode(
      String job,
      String runId,
      String mlflowRunId,
      String eventTime,
      String model,
      List<TableAt> inputs,
      List<TableAt> outputs) {
    /** A training job registers its model version; any other job that names one used it. */
    public boolean registered() {
      return model != null && job.endsWith(".train");
    }
  }

  /** One step of the walk: a node (table, run or model) and what lies beyond it. */
  public record Node(String kind, String id, Map<String, String> details, List<Node> next) {}

  private final List<RunNode> runs;

  /** The columnLineage facet of each table version a completed run wrote. */
  private final Map<TableAt, JsonNode> columns;

  public LineageGraph(List<RunNode> runs) {
    this(runs, Map.of());
  }

  LineageGraph(List<RunNode> runs, Map<TableAt, JsonNode> columns) {
    this.runs = List.copyOf(runs);
    this.columns = Map.copyOf(columns);
  }

  /** Reads the events file; a missing file is an empty graph. */
  public static LineageGraph read(Path events) {
    List<RunNode> runs = new ArrayList<>();
    Map<TableAt, JsonNode> columns = new LinkedHashMap<>();
    if (!Files.exists(events)) {
      return new LineageGraph(runs);
    }
    try {
      for (String line : Files.readAllLines(events, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode event;
        try {
          event = JSON.readTree(line);
        } catch (IOException e) {
          // a line cut short by a crash: the other runs still tell their lineage
          continue;
        }
        if (!"COMPLETE".equals(event.path("eventType").asText())) {
          continue;
        }
        JsonNode mlflow = event.at("/run/facets/mlflow");
        runs.add(
            new RunNode(
                event.at("/job/name").asText(),
                event.at("/run/runId").asText(),
                text(mlflow.path("runId")),
                event.path("eventTime").asText(),
                text(mlflow.path("modelVersion")),
                tables(event.path("inputs")),
                tables(event.path("outputs"))));
        for (JsonNode output : event.path("outputs")) {
          JsonNode facet = output.at("/facets/columnLineage");
          if (facet.isObject()) {
            columns.put(tables(JSON.createArrayNode().add(output)).get(0), facet);
          }
        }
      }
    } catch (IOException e) {
      throw Errors.environment(
          "cannot read the lineage events " + events + ": " + e.getMessage(),
          "make it readable",
          e);
    }
    return new LineageGraph(runs, columns);
  }

  private static String text(JsonNode node) {
    return node.isMissingNode() || node.isNull() ? null : node.asText();
  }

  private static List<TableAt> tables(JsonNode datasets) {
    List<TableAt> tables = new ArrayList<>();
    for (JsonNode dataset : datasets) {
      tables.add(
          new TableAt(
              dataset.path("namespace").asText(),
              dataset.path("name").asText(),
              text(dataset.at("/facets/version/datasetVersion"))));
    }
    return tables;
  }

  public List<RunNode> runs() {
    return runs;
  }

  /**
   * The target as the walk starts from it: {@code TABLE@VERSION} or {@code models:/NAME/VERSION}.
   */
  public Node upstream(String target) {
    return walk(target, true);
  }

  public Node downstream(String target) {
    return walk(target, false);
  }

  private Node walk(String target, boolean up) {
    Objects.requireNonNull(target, "target is null");
    Set<String> seen = new HashSet<>();
    if (target.startsWith("models:/")) {
      ModelUri uri = ModelUri.parse(target);
      if (uri.version() == null) {
        throw Errors.badInput(
            "lineage follows a model version, not " + target + " (an alias moves)",
            "give models:/" + uri.name() + "/VERSION; `kiln models` lists the versions");
      }
      String model = uri.name() + "/" + uri.version();
      if (runs.stream().noneMatch(r -> model.equals(r.model()))) {
        throw Errors.notFound(
            "no recorded run registered or used " + target,
            "the models with lineage: "
                + String.join(
                    ", ",
                    runs.stream()
                        .filter(RunNode::registered)
                        .map(r -> "models:/" + r.model())
                        .collect(java.util.stream.Collectors.toCollection(TreeSet::new))));
      }
      return model(model, up, seen);
    }
    DatasetRef ref = DatasetRef.parse(target);
    if (ref.version() == null) {
      throw Errors.badInput(
          "lineage follows a table at a version, not " + target,
          "give TABLE@VERSION; `kiln datasets history " + ref.table() + "` lists the versions");
    }
    DatasetName name = DatasetName.of(ref.table());
    TableAt table = new TableAt(name.namespace(), name.name(), String.valueOf(ref.version()));
    if (runs.stream().noneMatch(r -> r.inputs().contains(table) || r.outputs().contains(table))) {
      Set<String> known = new TreeSet<>();
      runs.forEach(
          r -> {
            r.inputs().forEach(t -> known.add(t.toString()));
            r.outputs().forEach(t -> known.add(t.toString()));
          });
      throw Errors.notFound(
          "no recorded run read or wrote " + table,
          known.isEmpty()
              ? "no run has recorded lineage in this work directory yet"
              : "the table versions with lineage: " + String.join(", ", known));
    }
    return table(table, up, seen);
  }

  private Node table(TableAt table, boolean up, Set<String> seen) {
    List<Node> next = new ArrayList<>();
    if (seen.add("table " + table)) {
      for (RunNode run : runs) {
        if ((up ? run.outputs() : run.inputs()).contains(table)) {
          next.add(run(run, up, seen));
        }
      }
    }
    Map<String, String> details = new LinkedHashMap<>();
    details.put("namespace", table.namespace());
    details.put("name", table.name());
    if (table.version() != null) {
      details.put("version", table.version());
    }
    return new Node("table", table.toString(), details, next);
  }

  private Node model(String model, boolean up, Set<String> seen) {
    List<Node> next = new ArrayList<>();
    if (seen.add("model " + model)) {
      for (RunNode run : runs) {
        if (model.equals(run.model()) && run.registered() == up) {
          next.add(run(run, up, seen));
        }
      }
    }
    return new Node("model", "models:/" + model, Map.of(), next);
  }

  private Node run(RunNode run, boolean up, Set<String> seen) {
    List<Node> next = new ArrayList<>();
    if (seen.add("run " + run.runId())) {
      for (TableAt table : up ? run.inputs() : run.outputs()) {
        next.add(table(table, up, seen));
      }
      if (!up && run.registered()) {
        next.add(model(run.model(), false, seen));
      }
    }
    Map<String, String> details = new LinkedHashMap<>();
    details.put("job", run.job());
    details.put("time", run.eventTime());
    if (run.mlflowRunId() != null) {
      details.put("mlflowRunId", run.mlflowRunId());
    }
    if (run.model() != null) {
      details.put("model", "models:/" + run.model());
    }
    return new Node("run", run.runId(), details, next);
  }

  /**
   * Where a column of a table version came from, from the columnLineage facets of the runs that
   * wrote it and its sources, and so on up: each source column with how it reaches the column
   * ({@code DIRECT/IDENTITY}, {@code DIRECT/TRANSFORMATION}, {@code DIRECT/AGGREGATION}), then the
   * columns that affect the whole table ({@code INDIRECT/FILTER}, {@code JOIN}, {@code GROUP_BY},
   * ...), not followed further.
   */
  public Node column(String target, String column) {
    Objects.requireNonNull(column, "column is null");
    if (target.startsWith("models:/")) {
      throw Errors.badInput(
          "--column follows a table's column, not a model (" + target + ")",
          "give TABLE@VERSION; `kiln lineage show " + target + "` names the tables it came from");
    }
    DatasetRef ref = DatasetRef.parse(target);
    if (ref.version() == null) {
      throw Errors.badInput(
          "lineage follows a table at a version, not " + target,
          "give TABLE@VERSION; `kiln datasets history " + ref.table() + "` lists the versions");
    }
    DatasetName name = DatasetName.of(ref.table());
    TableAt table = new TableAt(name.namespace(), name.name(), String.valueOf(ref.version()));
    JsonNode facet = columns.get(table);
    if (facet == null) {
      Set<String> known = new TreeSet<>();
      columns.keySet().forEach(t -> known.add(t.toString()));
      throw Errors.notFound(
          "no recorded run wrote column lineage for " + table,
          known.isEmpty()
              ? "no run has recorded column lineage in this work directory yet (jobs record it"
                  + " unless KILN_LINEAGE_COLUMNS=false)"
              : "the table versions with column lineage: " + String.join(", ", known));
    }
    if (!facet.path("fields").has(column)) {
      Set<String> known = new TreeSet<>();
      facet.path("fields").fieldNames().forEachRemaining(known::add);
      throw Errors.notFound(
          "table " + table + " has no column " + column + " in its recorded lineage",
          "its columns: " + String.join(", ", known));
    }
    Node walked = column(table, column, null, new HashSet<>());
    List<Node> next = new ArrayList<>(walked.next());
    for (JsonNode input : facet.path("dataset")) {
      TableAt source = source(table, input);
      Map<String, String> details = new LinkedHashMap<>();
      details.put("table", source.toString());
      details.put("column", input.path("field").asText());
      details.put("transformations", transformations(input));
      next.add(new Node("column", source + "." + details.get("column"), details, List.of()));
    }
    return new Node(walked.kind(), walked.id(), walked.details(), next);
  }

  private Node column(TableAt table, String column, String how, Set<String> seen) {
    List<Node> next = new ArrayList<>();
    JsonNode facet = columns.get(table);
    String id = table + "." + column;
    if (facet != null && seen.add(id)) {
      for (JsonNode input : facet.path("fields").path(column).path("inputFields")) {
        next.add(
            column(
                source(table, input), input.path("field").asText(), transformations(input), seen));
      }
    }
    Map<String, String> details = new LinkedHashMap<>();
    details.put("table", table.toString());
    details.put("column", column);
    if (how != null) {
      details.put("transformations", how);
    }
    return new Node("column", id, details, next);
  }

  /**
   * A source column's table at the version the writing run read (from that run's inputs), or
   * without a version when the run did not record it as an input (ingest's source files).
   */
  private TableAt source(TableAt written, JsonNode input) {
    String namespace = input.path("namespace").asText();
    String name = input.path("name").asText();
    for (RunNode run : runs) {
      if (run.outputs().contains(written)) {
        for (TableAt read : run.inputs()) {
          if (read.namespace().equals(namespace) && read.name().equals(name)) {
            return read;
          }
        }
      }
    }
    return new TableAt(namespace, name, null);
  }

  private static String transformations(JsonNode input) {
    List<String> kinds = new ArrayList<>();
    for (JsonNode t : input.path("transformations")) {
      kinds.add(
          t.path("type").asText()
              + "/"
              + t.path("subtype").asText()
              + (t.path("masking").asBoolean(false) ? " (masking)" : ""));
    }
    return kinds.isEmpty() ? "unknown" : String.join(", ", kinds);
  }

  /** Every table version the walks reach, once each, in walk order. */
  public static List<TableAt> tables(Node... walks) {
    Set<String> seen = new HashSet<>();
    List<TableAt> tables = new ArrayList<>();
    java.util.Deque<Node> queue = new java.util.ArrayDeque<>(List.of(walks));
    while (!queue.isEmpty()) {
      Node node = queue.poll();
      if (node.kind().equals("table") && node.details().containsKey("namespace")) {
        TableAt table =
            new TableAt(
                node.details().get("namespace"),
                node.details().get("name"),
                node.details().get("version"));
        if (seen.add(table.toString())) {
          tables.add(table);
        }
      }
      queue.addAll(node.next());
    }
    return tables;
  }

  /** The walk as an indented tree, one node a line. */
  public static String text(Node root) {
    StringBuilder text = new StringBuilder();
    text(root, "", true, true, text);
    return text.toString().stripTrailing();
  }

  private static void text(Node node, String indent, boolean last, boolean top, StringBuilder out) {
    out.append(indent).append(top ? "" : last ? "└─ " : "├─ ").append(label(node)).append('\n');
    String childIndent = top ? "" : indent + (last ? "   " : "│  ");
    for (int i = 0; i < node.next().size(); i++) {
      text(node.next().get(i), childIndent, i == node.next().size() - 1, false, out);
    }
  }

  private static String label(Node node) {
    if (node.kind().equals("column")) {
      String how = node.details().get("transformations");
      return node.id() + (how == null ? "" : " (" + how + ")");
    }
    if (!node.kind().equals("run")) {
      return node.id();
    }
    Map<String, String> d = node.details();
    return d.get("job")
        + " run "
        + node.id()
        + " at "
        + d.get("time")
        + (d.containsKey("mlflowRunId") ? " (MLflow run " + d.get("mlflowRunId") + ")" : "")
        + (d.containsKey("model") ? " " + d.get("model") : "");
  }
}
