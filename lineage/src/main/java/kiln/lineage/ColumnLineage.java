package kiln.lineage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Crc32;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Md5;
import org.apache.spark.sql.catalyst.expressions.Murmur3Hash;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.Sha1;
import org.apache.spark.sql.catalyst.expressions.Sha2;
import org.apache.spark.sql.catalyst.expressions.XxHash64;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.Join;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.Sort;
import org.apache.spark.sql.catalyst.plans.logical.Union;
import org.apache.spark.sql.catalyst.plans.logical.Window;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import scala.collection.JavaConverters;

/**
 * Column-level lineage of a frame a job writes, read from its analyzed logical plan: each output
 * column with the source columns (of file-based relations: Delta tables, CSV, Parquet, JSON) it was
 * computed from, and the source columns that affect the whole output (filters, joins, grouping,
 * sorting, window partitions). The shapes are OpenLineage's {@code ColumnLineageDatasetFacet}
 * 1-2-0: a direct dependency is {@code IDENTITY} (the value copied), {@code TRANSFORMATION}
 * (computed from it) or {@code AGGREGATION} (computed from many rows of it); an indirect one is
 * {@code FILTER}, {@code JOIN}, {@code GROUP_BY}, {@code SORT} or {@code WINDOW}.
 *
 * <p>Opaque steps (a typed {@code map}, {@code mapPartitions}, a Python UDF's batch) are taken to
 * read every column they are given: their outputs list all of them as TRANSFORMATION. A source that
 * is not a file (a local collection, an RDD) has no columns to name.
 */
public record ColumnLineage(Map<String, List<InputField>> fields, List<InputField> dataset) {
  public ColumnLineage {
    Objects.requireNonNull(fields, "fields is null");
    Objects.requireNonNull(dataset, "dataset is null");
    fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    dataset = List.copyOf(dataset);
  }

  /** A source column and how it reaches the output. */
  public record InputField(
      String namespace, String name, String field, List<Transformation> transformations) {
    public InputField {
      Objects.requireNonNull(namespace, "namespace is null");
      Objects.requireNonNull(name, "name is null");
      Objects.requireNonNull(field, "field is null");
      transformations = List.copyOf(transformations);
    }

    /**
     * This source as it reaches a column through one more step {@code how}: each direct way as
     * strong as the stronger of the two (a copy of a computed value is computed).
     */
    InputField then(Direct how) {
      return new InputField(
          namespace,
          name,
          field,
          transformations.stream()
              .map(
                  t ->
                      t.type().equals("DIRECT") && Direct.valueOf(t.subtype()).compareTo(how) < 0
                          ? new Transformation("DIRECT", how.name(), t.masking())
                          : t)
              .distinct()
              .toList());
    }
  }

  /** {@code type} DIRECT or INDIRECT, with its subtype; masking when a hash hides the value. */
  public record Transformation(String type, String subtype, boolean masking) {
    public Transformation {
      Objects.requireNonNull(type, "type is null");
      Objects.requireNonNull(subtype, "subtype is null");
    }
  }

  /** Direct subtypes, weakest first: a chain of steps is as strong as its strongest step. */
  private enum Direct {
    IDENTITY,
    TRANSFORMATION,
    AGGREGATION
  }

  private record Source(String namespace, String name, String field) {}

  private record Step(Direct kind, boolean masking) {
    Step then(Step outer) {
      return new Step(
          kind.compareTo(outer.kind) >= 0 ? kind : outer.kind, masking || outer.masking);
    }
  }

  /** What one attribute of a plan node was computed from. */
  private static final class Origins {
    final Map<Source, java.util.Set<Step>> sources = new HashMap<>();

    void add(Origins child, Step outer) {
      child.sources.forEach(
          (source, steps) -> {
            java.util.Set<Step> mine =
                sources.computeIfAbsent(source, s -> new java.util.HashSet<>());
            steps.forEach(step -> mine.add(step.then(outer)));
          });
    }
  }

  /** The lineage of {@code data}'s columns, from its analyzed plan (no Spark job runs). */
  public static ColumnLineage of(Dataset<Row> data) {
    Objects.requireNonNull(data, "data is null");
    return of(data.queryExecution().analyzed());
  }

  /**
   * The lineage of {@code data}'s columns from its plan, merged with what the writing job said of
   * columns the plan cannot show ({@code known}): each such column also from the sources of the
   * {@code known.from()} columns it is made of (read from that frame's own plan), and the columns
   * that affect all of {@code known.from()} (its filters, joins) affecting the output too.
   */
  public static ColumnLineage of(Dataset<Row> data, kiln.core.ColumnSources known) {
    ColumnLineage planned = of(data);
    if (known == null || known.columns().isEmpty()) {
      return planned;
    }
    ColumnLineage from = of(known.from());
    Map<String, List<InputField>> fields = new LinkedHashMap<>(planned.fields());
    known
        .columns()
        .forEach(
            (column, derived) -> {
              if (!fields.containsKey(column)) {
                return; // a column the write does not hold: nothing to say of it
              }
              Direct how = Direct.valueOf(derived.how().name());
              List<InputField> all = new ArrayList<>(fields.get(column));
              for (String source : derived.fromColumns()) {
                for (InputField input : from.fields().getOrDefault(source, List.of())) {
                  all.add(input.then(how));
                }
              }
              fields.put(column, merged(all));
            });
    List<InputField> dataset = new ArrayList<>(planned.dataset());
    dataset.addAll(from.dataset());
    return new ColumnLineage(fields, merged(dataset));
  }

  /**
   * The same source fields once each, sorted by namespace, name and field, their transformations
   * together.
   */
  private static List<InputField> merged(List<InputField> inputs) {
    Map<String, InputField> byKey = new TreeMap<>();
    for (InputField input : inputs) {
      String key = input.namespace() + "\u0000" + input.name() + "\u0000" + input.field();
      InputField seen = byKey.get(key);
      if (seen == null) {
        byKey.put(key, input);
      } else {
        List<Transformation> both = new ArrayList<>(seen.transformations());
        both.addAll(input.transformations());
        byKey.put(
            key,
            new InputField(
                input.namespace(),
                input.name(),
                input.field(),
                both.stream().distinct().sorted(TRANSFORMATION_ORDER).toList()));
      }
    }
    return List.copyOf(byKey.values());
  }

  /** DIRECT before INDIRECT; direct ones weakest first, unmasked first; indirect ones by name. */
  private static final Comparator<Transformation> TRANSFORMATION_ORDER =
      Comparator.comparing(Transformation::type)
          .thenComparing(
              t ->
                  t.type().equals("DIRECT")
                      ? String.valueOf(Direct.valueOf(t.subtype()).ordinal())
                      : t.subtype())
          .thenComparing(Transformation::masking);

  static ColumnLineage of(LogicalPlan plan) {
    Map<Source, java.util.Set<String>> indirect = new HashMap<>();
    Map<ExprId, Origins> origins = walk(plan, indirect);
    Map<String, List<InputField>> fields = new LinkedHashMap<>();
    for (Attribute attribute : list(plan.output())) {
      Origins found = origins.get(attribute.exprId());
      fields.put(attribute.name(), found == null ? List.of() : direct(found));
    }
    List<InputField> dataset = new ArrayList<>();
    byName(indirect)
        .forEach(
            (source, subtypes) ->
                dataset.add(
                    new InputField(
                        source.namespace(),
                        source.name(),
                        source.field(),
                        subtypes.stream()
                            .map(s -> new Transformation("INDIRECT", s, false))
                            .toList())));
    return new ColumnLineage(fields, dataset);
  }

  private static <V> Map<String, Map.Entry<Source, V>> byNameEntries(Map<Source, V> map) {
    Map<String, Map.Entry<Source, V>> sorted = new TreeMap<>();
    map.forEach((s, v) -> sorted.put(key(s), Map.entry(s, v)));
    return sorted;
  }

  private static Map<Source, java.util.Set<String>> byName(Map<Source, java.util.Set<String>> map) {
    Map<Source, java.util.Set<String>> sorted =
        new TreeMap<>(Comparator.comparing(ColumnLineage::key));
    map.forEach((s, v) -> sorted.put(s, new TreeSet<>(v)));
    return sorted;
  }

  private static String key(Source s) {
    return s.namespace() + "\u0000" + s.name() + "\u0000" + s.field();
  }

  private static List<InputField> direct(Origins found) {
    List<InputField> fields = new ArrayList<>();
    byNameEntries(found.sources)
        .values()
        .forEach(
            entry ->
                fields.add(
                    new InputField(
                        entry.getKey().namespace(),
                        entry.getKey().name(),
                        entry.getKey().field(),
                        entry.getValue().stream()
                            .sorted(Comparator.comparing(Step::kind).thenComparing(Step::masking))
                            .map(s -> new Transformation("DIRECT", s.kind().name(), s.masking()))
                            .distinct()
                            .toList())));
    return fields;
  }

  /**
   * The origins of every attribute {@code node} outputs (and, for nodes that pass their children's
   * attributes on, of those too), keyed by expression id; indirect dependencies are added to {@code
   * indirect}.
   */
  private static Map<ExprId, Origins> walk(
      LogicalPlan node, Map<Source, java.util.Set<String>> indirect) {
    Map<ExprId, Origins> below = new HashMap<>();
    for (LogicalPlan child : list(node.children())) {
      below.putAll(walk(child, indirect));
    }
    Map<ExprId, Origins> out = new HashMap<>(below);
    if (node instanceof LogicalRelation relation) {
      Source table = source(relation);
      for (Attribute attribute : list(relation.output())) {
        Origins origins = new Origins();
        if (table != null) {
          origins.sources.put(
              new Source(table.namespace(), table.name(), attribute.name()),
              new java.util.HashSet<>(java.util.Set.of(new Step(Direct.IDENTITY, false))));
        }
        out.put(attribute.exprId(), origins);
      }
      return out;
    }
    if (node instanceof Project project) {
      named(list(project.projectList()), below, out);
    } else if (node instanceof Aggregate aggregate) {
      named(list(aggregate.aggregateExpressions()), below, out);
      indirect(list(aggregate.groupingExpressions()), "GROUP_BY", below, indirect);
    } else if (node instanceof Filter filter) {
      indirect(List.of(filter.condition()), "FILTER", below, indirect);
    } else if (node instanceof Join join) {
      if (join.condition().isDefined()) {
        indirect(List.of(join.condition().get()), "JOIN", below, indirect);
      }
    } else if (node instanceof Sort sort) {
      indirect(new ArrayList<Expression>(list(sort.order())), "SORT", below, indirect);
    } else if (node instanceof Window window) {
      named(list(window.windowExpressions()), below, out);
      indirect(list(window.partitionSpec()), "WINDOW", below, indirect);
      indirect(new ArrayList<Expression>(list(window.orderSpec())), "WINDOW", below, indirect);
    } else if (node instanceof Union union) {
      // the i-th column of a union comes from the i-th column of every child
      // (a new Origins: the first child's attributes, whose ids the union's output reuses, keep
      // their own)
      List<Attribute> output = list(union.output());
      for (int i = 0; i < output.size(); i++) {
        Origins origins = new Origins();
        for (LogicalPlan child : list(union.children())) {
          List<Attribute> childOutput = list(child.output());
          Origins from = i < childOutput.size() ? below.get(childOutput.get(i).exprId()) : null;
          if (from != null) {
            origins.add(from, new Step(Direct.IDENTITY, false));
          }
        }
        out.put(output.get(i).exprId(), origins);
      }
    } else {
      List<Expression> expressions = list(node.expressions());
      List<NamedExpression> aliases = new ArrayList<>();
      java.util.Set<ExprId> bound = new java.util.HashSet<>();
      for (Expression expression : expressions) {
        if (expression instanceof Alias alias) {
          aliases.add(alias);
          if (contains(alias.child(), BoundReference.class)) {
            bound.add(alias.exprId());
          }
        }
      }
      named(aliases, below, out);
      // an attribute made here by no alias (a deserialized object, a map's result), or by one that
      // reads its input by position (a typed serializer), is opaque: from everything the node was
      // given
      for (Attribute attribute : list(node.output())) {
        if (!out.containsKey(attribute.exprId()) || bound.contains(attribute.exprId())) {
          Origins origins = new Origins();
          for (LogicalPlan child : list(node.children())) {
            for (Attribute input : list(child.output())) {
              Origins from = below.get(input.exprId());
              if (from != null) {
                origins.add(from, new Step(Direct.TRANSFORMATION, false));
              }
            }
          }
          out.put(attribute.exprId(), origins);
        }
      }
    }
    return out;
  }

  /** Attributes a node computes: an alias from what its expression references. */
  private static void named(
      List<? extends NamedExpression> expressions,
      Map<ExprId, Origins> below,
      Map<ExprId, Origins> out) {
    for (NamedExpression named : expressions) {
      if (named instanceof Alias alias) {
        Step step = step(alias.child());
        Origins origins = new Origins();
        for (Attribute reference : references(alias.child())) {
          Origins from = below.get(reference.exprId());
          if (from != null) {
            origins.add(from, step);
          }
        }
        out.put(alias.exprId(), origins);
      }
    }
  }

  private static void indirect(
      List<Expression> expressions,
      String subtype,
      Map<ExprId, Origins> below,
      Map<Source, java.util.Set<String>> indirect) {
    for (Expression expression : expressions) {
      for (Attribute reference : references(expression)) {
        Origins from = below.get(reference.exprId());
        if (from != null) {
          from.sources
              .keySet()
              .forEach(s -> indirect.computeIfAbsent(s, k -> new TreeSet<>()).add(subtype));
        }
      }
    }
  }

  private static List<Attribute> references(Expression expression) {
    return new ArrayList<>(JavaConverters.asJavaCollection(expression.references().toSeq()));
  }

  /** How an expression treats what it references. */
  private static Step step(Expression expression) {
    if (expression instanceof Attribute) {
      return new Step(Direct.IDENTITY, false);
    }
    return new Step(
        contains(expression, AggregateExpression.class)
            ? Direct.AGGREGATION
            : Direct.TRANSFORMATION,
        masks(expression));
  }

  private static boolean contains(Expression expression, Class<?> type) {
    if (type.isInstance(expression)) {
      return true;
    }
    for (Expression child : list(expression.children())) {
      if (contains(child, type)) {
        return true;
      }
    }
    return false;
  }

  /** A hash hides the value it is given: the output column is masked. */
  private static boolean masks(Expression expression) {
    return contains(expression, Sha2.class)
        || contains(expression, Sha1.class)
        || contains(expression, Md5.class)
        || contains(expression, Crc32.class)
        || contains(expression, Murmur3Hash.class)
        || contains(expression, XxHash64.class);
  }

  /**
   * The dataset a file-based relation reads: its one root path (a Delta table's directory, a source
   * directory or file), or the common parent of several.
   */
  private static Source source(LogicalRelation relation) {
    if (!(relation.relation() instanceof HadoopFsRelation files)) {
      return null;
    }
    List<org.apache.hadoop.fs.Path> roots = list(files.location().rootPaths());
    if (roots.isEmpty()) {
      return null;
    }
    DatasetName name = DatasetName.ofRoots(roots.stream().map(Object::toString).toList());
    return new Source(name.namespace(), name.name(), "");
  }

  private static <T> List<T> list(scala.collection.Seq<T> seq) {
    return JavaConverters.seqAsJavaList(seq);
  }
}
