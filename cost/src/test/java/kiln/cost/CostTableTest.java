package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
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

  @Test
  void aTablesStorageIsMeasuredOnDiskAndPricedOncePerDay(SparkSession spark, @TempDir Path dir)
      throws Exception {
    String data = dir.resolve("data").toString();
    spark.range(0, 1000).write().format("delta").save(data);
    spark.range(0, 1000).write().format("delta").mode("overwrite").save(data);
    long onDisk;
    try (var files = java.nio.file.Files.walk(dir.resolve("data"))) {
      onDisk =
          files
              .filter(java.nio.file.Files::isRegularFile)
              // Hadoop's local file system keeps a hidden .NAME.crc beside each file and does not
              // count it; object stores have none (Delta's own log/N.crc files are counted)
              .filter(
                  f ->
                      !(f.getFileName().toString().startsWith(".")
                          && f.getFileName().toString().endsWith(".crc")))
              .mapToLong(
                  f -> {
                    try {
                      return java.nio.file.Files.size(f);
                    } catch (java.io.IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  })
              .sum();
    }
    long bytes = TableStorage.bytes(spark, data);
    assertThat(bytes)
        .as("both versions' files and the log, as the store bills them")
        .isEqualTo(onDisk)
        .isGreaterThan(0);

    CostTable table = new CostTable(spark, dir.resolve("cost").toString());
    Instant now = Instant.parse("2026-12-05T10:15:00Z");
    CostRecord record =
        TableStorage.record(data, bytes, 1, Map.of("team", "risk"), PricingTest.CATALOG, now);
    assertThat(table.append(record).alreadyWritten()).isFalse();
    assertThat(
            table
                .append(
                    TableStorage.record(
                        data, bytes * 2, 1, Map.of("team", "risk"), PricingTest.CATALOG, now))
                .alreadyWritten())
        .as("the same table on the same day is priced once")
        .isTrue();
    List<CostLine> lines = table.lines(Instant.EPOCH);
    assertThat(lines).singleElement();
    CostLine line = lines.get(0);
    assertThat(line.job()).isEqualTo("storage");
    assertThat(line.tags()).containsEntry("table", data).containsEntry("team", "risk");
    assertThat(line.start()).isEqualTo(Instant.parse("2026-12-05T00:00:00Z"));
    assertThat(line.storage())
        .isCloseTo(
            bytes / (1024.0 * 1024 * 1024) / (365.25 / 12) * 0.02,
            org.assertj.core.data.Offset.offset(1e-15));
    assertThat(line.total()).isEqualTo(line.storage());

    assertThatThrownBy(() -> TableStorage.bytes(spark, dir.resolve("nothing").toString()))
        .isInstanceOf(kiln.core.NotFoundException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void aCostTableWrittenBeforeStorageWasPricedGainsItsColumns(
      SparkSession spark, @TempDir Path dir) {
    String path = dir.resolve("cost").toString();
    StructType old = new StructType();
    for (StructField f : CostTable.SCHEMA.fields()) {
      if (!f.name().equals("storage_bytes") && !f.name().equals("cost_storage")) {
        old = old.add(f);
      }
    }
    Usage usage = PricingTest.usage(7200, 3600, 0, null);
    CostTable table = new CostTable(spark, path);
    Cost cost = Pricing.price(usage, List.of(), PricingTest.CATALOG, false);
    table.append(new CostRecord("drift", "run-new", Map.of(), usage, List.of(), cost));
    // rewrite it as the old table: the same row without the two columns
    spark
        .read()
        .format("delta")
        .load(path)
        .select(
            java.util.Arrays.stream(old.fieldNames())
                .map(org.apache.spark.sql.functions::col)
                .toArray(org.apache.spark.sql.Column[]::new))
        .write()
        .format("delta")
        .mode("overwrite")
        .option("overwriteSchema", "true")
        .save(path);
    assertThat(spark.read().format("delta").load(path).columns()).doesNotContain("cost_storage");

    table.append(new CostRecord("drift", "run-after", Map.of(), usage, List.of(), cost));
    List<CostLine> lines = table.lines(Instant.EPOCH);
    assertThat(lines).hasSize(2);
    assertThat(lines)
        .allSatisfy(
            l ->
                assertThat(l.total())
                    .isCloseTo(cost.total(), org.assertj.core.data.Offset.offset(1e-12)));
    assertThat(spark.read().format("delta").load(path).columns()).contains("cost_storage");
  }
}
