package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Delta cost table: a row per run with its tags, usage, catalog version and cost; retries not
 * repeated.
 */
@ExtendWith(SharedSpark.class)
class CostTableTest {

  @Test
  void aRunsRowIsAppendedOnceAndReadBackSinceADate(SparkSession spark, @TempDir Path dir) {
    CostTable table = new CostTable(spark, dir.resolve("cost").toString());
    assertThat(table.since(Instant.EPOCH)).isEmpty();
    Usage usage = PricingTest.usage(7200, 3600, 1800, "A100");
    Cost cost =
        Pricing.price(
            usage, List.of(new TokenUsage("gpt-x", 2000, 500)), PricingTest.CATALOG, false);
    CostRecord record =
        new CostRecord(
            "drift",
            "run-1",
            Map.of("team", "risk", "model", "fraud"),
            usage,
            List.of(new TokenUsage("gpt-x", 2000, 500)),
            cost);
    assertThat(table.append(record).alreadyWritten()).isFalse();
    assertThat(table.append(record).alreadyWritten())
        .as("a retried append of the same run")
        .isTrue();
    Cost unknown =
        Pricing.price(
            PricingTest.usage(3600, 0, 3600, "B200"), List.of(), PricingTest.CATALOG, false);
    table.append(
        new CostRecord(
            "train",
            "run-2",
            Map.of(),
            PricingTest.usage(3600, 0, 3600, "B200"),
            List.of(),
            unknown));

    List<Row> rows = table.since(PricingTest.T0);
    assertThat(rows).hasSize(2);
    Row first = rows.get(0);
    assertThat(first.<String>getAs("job")).isEqualTo("drift");
    assertThat(first.<String>getAs("run_id")).isEqualTo("run-1");
    assertThat(first.getJavaMap(first.fieldIndex("tags")))
        .containsEntry("team", "risk")
        .containsEntry("model", "fraud");
    assertThat(first.<Double>getAs("cost_total"))
        .isCloseTo(1.708, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(first.<Long>getAs("prompt_tokens")).isEqualTo(2000);
    assertThat(first.<String>getAs("catalog_version")).isEqualTo("test-1");
    assertThat(rows.get(1).<Double>getAs("cost_total")).as("unknown, not zero").isNull();
    assertThat(rows.get(1).getList(rows.get(1).fieldIndex("cost_unknown"))).hasSize(1);
    assertThat(table.since(PricingTest.T0.plusSeconds(1))).isEmpty();
  }
}
