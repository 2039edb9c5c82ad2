package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class SearchFilterTest {
  @Test
  void parsesClausesOfEveryKind() {
    List<SearchFilter.Clause> clauses =
        SearchFilter.parse(
            "metrics.rmse <= 0.5 and params.\"max depth\" = '6' AND tags.`mlflow.user` ILIKE '%ada%'"
                + " AND attributes.run_id IN ('a', 'b') AND status != \"FAILED\" AND metric.x > -1e3");
    assertThat(clauses)
        .extracting(c -> c.kind() + ":" + c.key() + " " + c.comparator() + " " + c.value())
        .containsExactly(
            "METRIC:rmse <= 0.5",
            "PARAM:max depth = 6",
            "TAG:mlflow.user ILIKE %ada%",
            "ATTRIBUTE:run_id IN [a, b]",
            "ATTRIBUTE:status != FAILED",
            "METRIC:x > -1000.0");
  }

  @Test
  void quotesInsideValuesAreDoubled() {
    assertThat(SearchFilter.parse("tags.note = 'it''s'"))
        .singleElement()
        .extracting(SearchFilter.Clause::value)
        .isEqualTo("it's");
  }

  @Test
  void parsesOrderBy() {
    SearchFilter.Order order = SearchFilter.parseOrder("metrics.`val loss` DESC");
    assertThat(order.identifier())
        .isEqualTo(new SearchFilter.Identifier(SearchFilter.Kind.METRIC, "val loss"));
    assertThat(order.ascending()).isFalse();
    assertThat(SearchFilter.parseOrder("name").ascending()).isTrue();
  }

  @Test
  void rejectsWhatMlflowRejects() {
    assertThatThrownBy(() -> SearchFilter.parse("metrics.a > 1 OR metrics.b > 1"))
        .hasMessageContaining("only AND");
    assertThatThrownBy(() -> SearchFilter.parse("foo.a = 'x'"))
        .hasMessageContaining("Invalid entity type 'foo'");
    assertThatThrownBy(() -> SearchFilter.parse("params.a = 'x"))
        .hasMessageContaining("unterminated");
    assertThatThrownBy(() -> SearchFilter.parse("metrics.a ~ 1"))
        .hasMessageContaining("comparator");
    assertThatThrownBy(() -> SearchFilter.parseOrder("metrics.a sideways"))
        .hasMessageContaining("Invalid order_by");
  }
}
