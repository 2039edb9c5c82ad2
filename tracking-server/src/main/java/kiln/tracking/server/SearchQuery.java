package kiln.tracking.server;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The one translator from MLflow's search syntax ({@link SearchFilter}) to SQL. Each search
 * endpoint (experiments, runs, registered models, model versions) declares once, in {@link Fields},
 * what it can be filtered and ordered by; a query adds its own conditions, the filter, the order
 * and a page.
 *
 * <pre>{@code
 * Page<Long> ids = new SearchQuery(EXPERIMENTS).where("e.lifecycle_stage = 'active'")
 *         .filter("name LIKE 'a%'").orderBy(List.of("name DESC")).page(connection, row -> row.getLong(1), 10, 0);
 * }</pre>
 */
final class SearchQuery {
  /** The comparators a field accepts, and the value each takes. */
  enum Comparison {
    TEXT("strings", "=", "!=", "LIKE", "ILIKE"),
    NUMBER("numbers", "=", "!=", "<", "<=", ">", ">="),
    ID("ids", "=", "!=", "IN", "NOT IN"),
    TEXT_OR_LIST("strings", "=", "!=", "LIKE", "ILIKE", "IN", "NOT IN");

    private final String valueName;
    private final List<String> comparators;

    Comparison(String valueName, String... comparators) {
      this.valueName = valueName;
      this.comparators = List.of(comparators);
    }
  }

  /**
   * Where a clause's value is compared: {@code column}, placed in {@code condition} (a format whose
   * one {@code %s} is the comparison). Each {@code ?} before the {@code %s} takes, in order, the
   * clause's key when {@code keyed}, then the {@code bound} values.
   */
  record Target(
      String condition, String column, Comparison comparison, boolean keyed, List<Object> bound) {
    Target {
      Objects.requireNonNull(condition, "condition is null");
      Objects.requireNonNull(column, "column is null");
      Objects.requireNonNull(comparison, "comparison is null");
      bound = List.copyOf(bound);
    }

    /** A column of the searched table itself. */
    static Target column(String column, Comparison comparison) {
      return new Target("%s", column, comparison, false, List.of());
    }

    /**
     * A column of a related table, reached through {@code condition}, a subquery on the searched
     * table's rows.
     */
    static Target within(String condition, String column, Comparison comparison) {
      return new Target(condition, column, comparison, false, List.of());
    }

    /** A value found by a subquery on the clause's key, such as a tag's or a param's. */
    static Target byKey(String condition, String column, Comparison comparison) {
      return new Target(condition, column, comparison, true, List.of());
    }
  }

  /**
   * How results sort by a field: the {@code first} terms ascending whatever the direction (so that
   * missing values come last), then {@code value} in the requested direction. When {@code keyed},
   * every term's one {@code ?} takes the order's key.
   */
  record Sort(List<String> first, String value, boolean keyed) {
    Sort {
      first = List.copyOf(first);
      Objects.requireNonNull(value, "value is null");
    }

    static Sort by(String column) {
      return new Sort(List.of(), column, false);
    }

    /** Rows without a value sort after those with one, in either direction. */
    static Sort missingLast(String column) {
      return new Sort(List.of(column + " IS NULL"), column, false);
    }
  }

  /** What one entity can be searched by; built once per endpoint. */
  static final class Fields {
    private final String entity;
    private final String select;
    private final Map<SearchFilter.Kind, Map<String, Target>> named = new LinkedHashMap<>();
    private final Map<SearchFilter.Kind, List<String>> namedKeys = new LinkedHashMap<>();
    private final Map<SearchFilter.Kind, Target> keyed = new LinkedHashMap<>();
    private final Map<String, Sort> attributeSorts = new LinkedHashMap<>();
    private final List<String> sortNames = new ArrayList<>();
    private final Map<SearchFilter.Kind, Sort> keyedSorts = new LinkedHashMap<>();
    private final List<String> tieBreakers = new ArrayList<>();

    /**
     * {@code select} is the query's start, e.g. {@code SELECT e.experiment_id FROM experiments e}.
     */
    Fields(String entity, String select) {
      this.entity = Objects.requireNonNull(entity, "entity is null");
      this.select = Objects.requireNonNull(select, "select is null");
    }

    /**
     * A field of a fixed name, such as {@code attributes.name} or {@code datasets.digest}; case
     * does not matter.
     */
    Fields filter(SearchFilter.Kind kind, String name, Target target, String... synonyms) {
      namedKeys.computeIfAbsent(kind, k -> new ArrayList<>()).add(name);
      putNames(named.computeIfAbsent(kind, k -> new LinkedHashMap<>()), name, synonyms, target);
      return this;
    }

    /** Every key of a kind, such as {@code tags.<key>}. */
    Fields filterAnyKey(SearchFilter.Kind kind, Target target) {
      keyed.put(kind, target);
      return this;
    }

    /** An attribute to order by, such as {@code attributes.start_time}; case does not matter. */
    Fields order(String name, Sort sort, String... synonyms) {
      sortNames.add(name);
      putNames(attributeSorts, name, synonyms, sort);
      return this;
    }

    private static <T> void putNames(
        Map<String, T> byName, String name, String[] synonyms, T value) {
      byName.put(name.toLowerCase(Locale.ROOT), value);
      for (String synonym : synonyms) {
        byName.put(synonym.toLowerCase(Locale.ROOT), value);
      }
    }

    /** Every key of a kind to order by, such as {@code metrics.<key>}. */
    Fields orderAnyKey(SearchFilter.Kind kind, Sort sort) {
      keyedSorts.put(kind, sort);
      return this;
    }

    /** What sorts rows that the requested order leaves equal, so that pages never overlap. */
    Fields thenBy(String... terms) {
      tieBreakers.addAll(List.of(terms));
      return this;
    }

    private String filterable() {
      List<String> kinds = new ArrayList<>();
      namedKeys.forEach(
          (kind, names) -> kinds.add(plural(kind) + " (" + String.join(", ", names) + ")"));
      keyed.keySet().forEach(kind -> kinds.add(plural(kind) + "." + "<key>"));
      return String.join(", ", kinds);
    }

    private String sortable() {
      List<String> kinds = new ArrayList<>(sortNames);
      keyedSorts.keySet().forEach(kind -> kinds.add(plural(kind) + ".<key>"));
      return String.join(", ", kinds);
    }

    private static String plural(SearchFilter.Kind kind) {
      return switch (kind) {
        case METRIC -> "metrics";
        case PARAM -> "params";
        case TAG -> "tags";
        case ATTRIBUTE -> "attributes";
        case DATASET -> "datasets";
      };
    }
  }

  /** A page of results and the token for the next one, or null when this was the last page. */
  record Page<T>(List<T> items, String nextPageToken) {
    Page {
      items = List.copyOf(items);
    }
  }

  private final Fields fields;
  private final StringBuilder where = new StringBuilder();
  private final List<Object> whereArgs = new ArrayList<>();
  private final List<String> orders = new ArrayList<>();
  private final List<Object> orderArgs = new ArrayList<>();

  SearchQuery(Fields fields) {
    this.fields = Objects.requireNonNull(fields, "fields is null");
  }

  /** A condition of the endpoint's own, such as the lifecycle stages asked for. */
  SearchQuery where(String condition, Object... args) {
    where.append(where.length() == 0 ? " WHERE " : " AND ").append(condition);
    whereArgs.addAll(List.of(args));
    return this;
  }

  /** Narrows by a filter in MLflow's syntax; blank means no filter. */
  SearchQuery filter(String filter) {
    for (SearchFilter.Clause clause : SearchFilter.parse(filter)) {
      where(condition(clause));
    }
    return this;
  }

  /**
   * MLflow 3's Python client hides prompts from model searches with this tag filter; MLflow's own
   * store reads {@code != 'true'} on it as "not tagged 'true'", so that models without the tag (all
   * of Kiln's, and every model not made by the prompt registry) match. Any other tag's {@code !=}
   * needs the tag.
   */
  static final String IS_PROMPT_TAG = "mlflow.prompt.is_prompt";

  private String condition(SearchFilter.Clause clause) {
    Target target = target(clause);
    if (target.keyed()
        && clause.kind() == SearchFilter.Kind.TAG
        && clause.key().equals(IS_PROMPT_TAG)
        && clause.comparator().equals("!=")) {
      whereArgs.add(clause.key());
      whereArgs.addAll(target.bound());
      whereArgs.add(clause.stringValue());
      return "NOT (" + target.condition().formatted(target.column() + " = ?") + ")";
    }
    Comparison comparison = target.comparison();
    String comparator = clause.comparator();
    if (!comparison.comparators.contains(comparator)) {
      throw ApiException.invalidParameter(
          "Invalid comparator '"
              + comparator
              + "' for "
              + clause.describe()
              + "; valid comparators for "
              + comparison.valueName
              + " are "
              + String.join(", ", comparison.comparators)
              + ".");
    }
    if (target.keyed()) {
      whereArgs.add(clause.key());
    }
    whereArgs.addAll(target.bound());
    String column = target.column();
    String sql;
    switch (comparator) {
      case "IN", "NOT IN" -> {
        List<String> values = clause.listValue();
        whereArgs.addAll(values);
        sql = column + " " + comparator + " (" + Sql.placeholders(values) + ")";
      }
      case "LIKE" -> {
        whereArgs.add(clause.stringValue());
        sql = column + " LIKE ?";
      }
      case "ILIKE" -> {
        whereArgs.add(clause.stringValue());
        sql = "LOWER(" + column + ") LIKE LOWER(?)";
      }
      default -> {
        whereArgs.add(
            comparison == Comparison.NUMBER ? clause.numberValue() : clause.stringValue());
        sql = column + " " + comparator + " ?";
      }
    }
    return target.condition().formatted(sql);
  }

  private Target target(SearchFilter.Clause clause) {
    Target anyKey = fields.keyed.get(clause.kind());
    if (anyKey != null) {
      return anyKey;
    }
    Map<String, Target> byName = fields.named.get(clause.kind());
    if (byName == null) {
      throw ApiException.invalidParameter(
          "Invalid search expression: "
              + fields.entity
              + " can be filtered by "
              + fields.filterable()
              + ", not by "
              + clause.describe()
              + ".");
    }
    Target target = byName.get(clause.key().toLowerCase(Locale.ROOT));
    if (target == null) {
      throw ApiException.invalidParameter(
          "Invalid "
              + clause.kind().name().toLowerCase(Locale.ROOT)
              + " key '"
              + clause.key()
              + "' in a search of "
              + fields.entity
              + ". Valid keys are "
              + String.join(", ", fields.namedKeys.get(clause.kind()))
              + ".");
    }
    return target;
  }

  /**
   * Sorts by MLflow order_by entries such as {@code metrics.loss DESC}, before the endpoint's own
   * order.
   */
  SearchQuery orderBy(List<String> orderBy) {
    for (String entry : orderBy) {
      SearchFilter.Order order = SearchFilter.parseOrder(entry);
      SearchFilter.Identifier identifier = order.identifier();
      Sort sort =
          identifier.kind() == SearchFilter.Kind.ATTRIBUTE
              ? fields.attributeSorts.get(identifier.key().toLowerCase(Locale.ROOT))
              : fields.keyedSorts.get(identifier.kind());
      if (sort == null) {
        throw ApiException.invalidParameter(
            "Invalid order_by clause '"
                + entry
                + "': "
                + fields.entity
                + " can be ordered by "
                + fields.sortable()
                + ".");
      }
      for (String term : sort.first()) {
        orders.add(term + " ASC");
        if (sort.keyed()) {
          orderArgs.add(identifier.key());
        }
      }
      orders.add(sort.value() + (order.ascending() ? " ASC" : " DESC"));
      if (sort.keyed()) {
        orderArgs.add(identifier.key());
      }
    }
    return this;
  }

  /** Runs the query for one page: {@code maxResults} rows from {@code offset}. */
  <T> Page<T> page(Connection connection, Sql.Row<T> row, int maxResults, int offset)
      throws SQLException {
    List<String> allOrders = new ArrayList<>(orders);
    allOrders.addAll(fields.tieBreakers);
    String sql =
        fields.select + where + " ORDER BY " + String.join(", ", allOrders) + " LIMIT ? OFFSET ?";
    List<Object> args = new ArrayList<>(whereArgs);
    args.addAll(orderArgs);
    args.add(maxResults + 1);
    args.add(offset);
    List<T> found = Sql.list(connection, sql, row, args.toArray());
    return new Page<>(
        found.subList(0, Math.min(maxResults, found.size())),
        found.size() > maxResults ? PageToken.forOffset(offset + maxResults) : null);
  }
}
