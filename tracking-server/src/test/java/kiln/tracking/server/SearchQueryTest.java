package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import kiln.tracking.server.SearchFilter.Kind;
import kiln.tracking.server.SearchQuery.Comparison;
import kiln.tracking.server.SearchQuery.Sort;
import kiln.tracking.server.SearchQuery.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one search-to-SQL translator, against a real SQLite table. */
class SearchQueryTest {
  private static final SearchQuery.Fields THINGS =
      new SearchQuery.Fields("things", "SELECT t.id FROM things t")
          .filter(Kind.ATTRIBUTE, "name", Target.column("t.name", Comparison.TEXT), "label")
          .filter(Kind.ATTRIBUTE, "size", Target.column("t.size", Comparison.NUMBER))
          .filter(Kind.ATTRIBUTE, "id", Target.column("t.id", Comparison.ID))
          .filterAnyKey(
              Kind.TAG,
              Target.byKey(
                  "t.id IN (SELECT id FROM thing_tags WHERE key = ? AND %s)",
                  "value", Comparison.TEXT))
          .order("size", Sort.missingLast("t.size"))
          .order("name", Sort.by("t.name"))
          .thenBy("t.id ASC");

  @TempDir Path dir;

  @Test
  void filtersOrdersAndPagesWithBoundValues() throws Exception {
    try (Database database = new Database(dir.resolve("things.db"))) {
      database.write(
          connection -> {
            Sql.update(
                connection, "CREATE TABLE things (id TEXT PRIMARY KEY, name TEXT, size INTEGER)");
            Sql.update(connection, "CREATE TABLE thing_tags (id TEXT, key TEXT, value TEXT)");
            Sql.update(
                connection,
                "INSERT INTO things VALUES ('a', 'Apple', 3), ('b', 'banana', NULL), ('c', 'cherry', 1),"
                    + " ('d', 'date''s', 2)");
            Sql.update(
                connection,
                "INSERT INTO thing_tags VALUES ('a', 'colour', 'red'), ('c', 'colour', 'red'),"
                    + " ('d', 'colour', 'brown')");
            return null;
          });
      assertThat(
              ids(database, "tags.colour = 'red' AND size >= 1", List.of("size DESC"), 10, 0)
                  .items())
          .containsExactly("a", "c");
      // an unsized thing sorts last in either direction
      assertThat(ids(database, "", List.of("size ASC"), 10, 0).items())
          .containsExactly("c", "d", "a", "b");
      assertThat(ids(database, "", List.of("size DESC"), 10, 0).items())
          .containsExactly("a", "d", "c", "b");
      assertThat(ids(database, "label ILIKE 'APPLE' ", List.of(), 10, 0).items())
          .containsExactly("a");
      assertThat(ids(database, "name = 'date''s'", List.of(), 10, 0).items()).containsExactly("d");
      assertThat(ids(database, "id NOT IN ('a', 'b')", List.of("name DESC"), 10, 0).items())
          .containsExactly("d", "c");

      SearchQuery.Page<String> first = ids(database, "", List.of("name ASC"), 3, 0);
      assertThat(first.items()).containsExactly("a", "b", "c");
      assertThat(PageToken.offset(first.nextPageToken())).isEqualTo(3);
      SearchQuery.Page<String> last = ids(database, "", List.of("name ASC"), 3, 3);
      assertThat(last.items()).containsExactly("d");
      assertThat(last.nextPageToken()).isNull();
    }
  }

  @Test
  void whatAnEntityCannotBeSearchedByIsRefusedWithTheValidChoices() {
    assertThatThrownBy(() -> new SearchQuery(THINGS).filter("colour = 'red'"))
        .hasMessage(
            "Invalid attribute key 'colour' in a search of things. Valid keys are name, size, id.");
    assertThatThrownBy(() -> new SearchQuery(THINGS).filter("metrics.weight > 1"))
        .hasMessage(
            "Invalid search expression: things can be filtered by attributes (name, size, id), tags.<key>,"
                + " not by metric 'weight'.");
    assertThatThrownBy(() -> new SearchQuery(THINGS).filter("size LIKE '1%'"))
        .hasMessage(
            "Invalid comparator 'LIKE' for attribute 'size'; valid comparators for numbers are"
                + " =, !=, <, <=, >, >=.");
    assertThatThrownBy(() -> new SearchQuery(THINGS).filter("name > 'a'"))
        .hasMessage(
            "Invalid comparator '>' for attribute 'name'; valid comparators for strings are =, !=, LIKE, ILIKE.");
    assertThatThrownBy(() -> new SearchQuery(THINGS).filter("size = 'big'"))
        .hasMessage("Expected a numeric value for attribute 'size' but got 'big'.");
    assertThatThrownBy(() -> new SearchQuery(THINGS).orderBy(List.of("tags.colour")))
        .hasMessage("Invalid order_by clause 'tags.colour': things can be ordered by size, name.");
  }

  private static SearchQuery.Page<String> ids(
      Database database, String filter, List<String> orderBy, int maxResults, int offset) {
    SearchQuery query = new SearchQuery(THINGS).filter(filter).orderBy(orderBy);
    return database.read(
        connection -> query.page(connection, row -> row.getString(1), maxResults, offset));
  }
}
