package kiln.core;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class DatasetsTest {

  private static Dataset<Row> rows(SparkSession spark, int from, int to) {
    return spark.range(from, to).withColumn("label", expr("concat('row-', id)"));
  }

  @Test
  void aTableIsResolvedOnceWhenPinnedAndItsRowsStayAtThatVersion(
      SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    datasets.write(rows(spark, 0, 10), table, WriteOptions.of(WriteMode.APPEND));
    long before = Datasets.resolutions(table);

    PinnedTable pinned = datasets.pin(DatasetRef.latest(table));
    datasets.write(rows(spark, 10, 15), table, WriteOptions.of(WriteMode.APPEND));

    assertThat(pinned.ref()).isEqualTo(DatasetRef.atVersion(table, 0));
    assertThat(pinned.version()).isZero();
    assertThat(pinned.rows().count()).isEqualTo(10);
    assertThat(pinned.withRows(pinned.rows().where("id < 3")).ref()).isEqualTo(pinned.ref());
    assertThat(Datasets.resolutions(table) - before).isEqualTo(1);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(15);
    assertThat(Datasets.resolutions(table) - before).isEqualTo(2);
  }

  @Test
  void writesReturnVersionsAndReadsTravelInTime(SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();

    WriteResult first =
        datasets.write(rows(spark, 0, 10), table, WriteOptions.of(WriteMode.APPEND));
    WriteResult second =
        datasets.write(rows(spark, 10, 15), table, WriteOptions.of(WriteMode.APPEND));
    WriteResult third =
        datasets.write(rows(spark, 100, 103), table, WriteOptions.of(WriteMode.OVERWRITE));

    assertThat(first.written()).isEqualTo(DatasetRef.atVersion(table, 0));
    assertThat(first.rows()).isEqualTo(10);
    assertThat(second.version()).isEqualTo(1);
    assertThat(second.rows()).isEqualTo(5);
    assertThat(third.version()).isEqualTo(2);
    assertThat(datasets.read(DatasetRef.atVersion(table, 0)).count()).isEqualTo(10);
    assertThat(datasets.read(DatasetRef.atVersion(table, 1)).count()).isEqualTo(15);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(3);
    assertThat(datasets.resolve(DatasetRef.latest(table)))
        .isEqualTo(DatasetRef.atVersion(table, 2));

    List<TableVersion> history = datasets.history(table);
    assertThat(history).extracting(TableVersion::version).containsExactly(0L, 1L, 2L);
    assertThat(history)
        .extracting(TableVersion::operation)
        .containsExactly("WRITE", "WRITE", "WRITE");
    assertThat(history.get(1).outputRows()).hasValue(5);
    TableVersion last = datasets.lastCommit(table);
    assertThat(last.version()).isEqualTo(2);
    assertThat(last.operation()).isEqualTo(history.get(2).operation());
    assertThat(last.outputRows()).isEqualTo(history.get(2).outputRows());
    assertThat(last.timestamp()).isEqualTo(history.get(2).timestamp());
    assertThat(last.operationParameters()).containsEntry("mode", "Overwrite");
    // any commit, read from its log file, is the commit Delta's history reports
    for (TableVersion commit : history) {
      TableVersion read = datasets.commitAt(table, commit.version());
      assertThat(read.version()).isEqualTo(commit.version());
      assertThat(read.operationParameters()).isEqualTo(commit.operationParameters());
      assertThat(read.outputRows()).isEqualTo(commit.outputRows());
      assertThat(read.timestamp()).isEqualTo(commit.timestamp());
    }
    assertThatThrownBy(() -> datasets.commitAt(table, 9)).hasMessageContaining("has no commit 9");

    // a timestamp resolves to the version current at that time
    Instant secondCommit = history.get(1).timestamp();
    DatasetRef atTime = new DatasetRef(table, null, secondCommit.toString());
    assertThat(datasets.resolve(atTime).version()).isEqualTo(1);
  }

  @Test
  void retriedAppendWithTheSameKeyIsNotWrittenTwice(SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    WriteOptions keyed =
        new WriteOptions(WriteMode.APPEND, "ingest-batch-1", Map.of("kiln.job", "test"));

    WriteResult written = datasets.write(rows(spark, 0, 10), table, keyed);
    datasets.write(rows(spark, 50, 52), table, WriteOptions.of(WriteMode.APPEND));
    WriteResult retried = datasets.write(rows(spark, 0, 10), table, keyed);

    assertThat(written.alreadyWritten()).isFalse();
    assertThat(retried.alreadyWritten()).isTrue();
    assertThat(retried.written()).isEqualTo(DatasetRef.atVersion(table, 0));
    assertThat(retried.rows()).isEqualTo(10);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(12);
    assertThat(datasets.latestVersion(table)).isEqualTo(1);
    assertThat(Datasets.commitMetadata(datasets.history(table).get(0)))
        .containsEntry("kiln.job", "test")
        .containsEntry(Datasets.IDEMPOTENCY_KEY, "ingest-batch-1");
  }

  @Test
  void deltaTxnGuardsAnAppendWhoseKeyIsOnlyInTheTransactionLog(
      SparkSession spark, @TempDir Path dir) {
    // a concurrent retry: the other writer committed txnAppId=key without our commit metadata
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    rows(spark, 0, 4)
        .write()
        .format("delta")
        .option("txnAppId", "k")
        .option("txnVersion", 0L)
        .save(table);
    WriteResult result =
        datasets.write(rows(spark, 0, 4), table, new WriteOptions(WriteMode.APPEND, "k", Map.of()));
    assertThat(result.alreadyWritten()).isTrue();
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(4);
  }

  @Test
  void overwriteSkipsOnlyWhenTheLatestCommitHasTheKey(SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    WriteOptions a = new WriteOptions(WriteMode.OVERWRITE, "source-a", Map.of());
    WriteOptions b = new WriteOptions(WriteMode.OVERWRITE, "source-b", Map.of());

    datasets.write(rows(spark, 0, 3), table, a);
    assertThat(datasets.write(rows(spark, 0, 3), table, a).alreadyWritten()).isTrue();
    datasets.write(rows(spark, 0, 5), table, b);
    WriteResult backToA = datasets.write(rows(spark, 0, 3), table, a);

    assertThat(backToA.alreadyWritten()).isFalse();
    assertThat(backToA.version()).isEqualTo(2);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(3);
  }

  @Test
  void aWriteThatFailsHalfWayLeavesThePreviousVersion(SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    datasets.write(rows(spark, 0, 10), table, WriteOptions.of(WriteMode.APPEND));

    // two partitions; the task of the second fails after the first has written its file
    Dataset<Row> failing =
        spark
            .range(0, 1000, 1, 2)
            .withColumn(
                "label",
                expr(
                    "CASE WHEN id < 900 THEN concat('row-', id) ELSE raise_error('row 900 is bad') END"));
    assertThatThrownBy(() -> datasets.write(failing, table, WriteOptions.of(WriteMode.APPEND)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("writing to " + table + " failed, nothing was committed")
        .hasMessageContaining("row 900 is bad")
        .hasMessageContaining("the table stays at version 0");

    assertThat(datasets.latestVersion(table)).isEqualTo(0);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(10);
    assertThat(datasets.read(DatasetRef.latest(table)).filter(col("id").geq(10)).count()).isZero();
  }

  @Test
  void badReferencesSayWhatExists(SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    datasets.write(rows(spark, 0, 2), table, WriteOptions.of(WriteMode.APPEND));
    datasets.write(rows(spark, 0, 2), table, WriteOptions.of(WriteMode.APPEND));

    assertThatThrownBy(() -> datasets.read(DatasetRef.atVersion(table, 7)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("version 7 of " + table + " does not exist; it has versions 0 to 1");
    assertThatThrownBy(() -> datasets.read(new DatasetRef(table, null, "2001-01-01T00:00:00Z")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "timestamp 2001-01-01T00:00:00Z is before the first commit of "
                + table
                + " (version 0 at ");
    String notDelta = dir.resolve("plain").toString();
    spark.range(3).write().parquet(notDelta);
    assertThatThrownBy(() -> datasets.read(DatasetRef.latest(notDelta)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("'" + notDelta + "' is not a Delta table");
    assertThatThrownBy(() -> datasets.history(dir.resolve("missing").toString()))
        .hasMessageContaining("is not a Delta table");
  }

  @Test
  void aVersionWhoseFilesWereVacuumedIsRefusedByNameBeforeAnyJobReadsIt(
      SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String table = dir.resolve("t").toString();
    // one file per write: version 0 has one, version 1 two, version 2 one of its own
    datasets.write(rows(spark, 0, 10).coalesce(1), table, WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(rows(spark, 10, 12).coalesce(1), table, WriteOptions.of(WriteMode.APPEND));
    datasets.write(rows(spark, 20, 25).coalesce(1), table, WriteOptions.of(WriteMode.OVERWRITE));
    assertThat(datasets.unreadable(DatasetRef.atVersion(table, 0))).isEmpty();

    spark.conf().set("spark.databricks.delta.retentionDurationCheck.enabled", "false");
    try {
      io.delta.tables.DeltaTable.forPath(spark, table).vacuum(0);
    } finally {
      spark.conf().unset("spark.databricks.delta.retentionDurationCheck.enabled");
    }

    assertThat(datasets.unreadable(DatasetRef.atVersion(table, 2))).isEmpty();
    assertThat(datasets.unreadable(DatasetRef.atVersion(table, 1)))
        .hasValueSatisfying(
            reason ->
                assertThat(reason)
                    .startsWith("VACUUM deleted 2 of its 2 data file(s), e.g. part-"));
    assertThatThrownBy(() -> datasets.pin(DatasetRef.atVersion(table, 0)))
        .isInstanceOf(NotFoundException.class)
        .hasMessageStartingWith(
            "version 0 of "
                + table
                + " can no longer be read: VACUUM deleted 1 of its 1 data file(s)")
        .hasMessageContaining("delta.deletedFileRetentionDuration")
        .hasMessageContaining("fix: read a later version (`kiln datasets history " + table);
    assertThat(datasets.pin(DatasetRef.atVersion(table, 2)).rows().count()).isEqualTo(5);
    // VACUUM logs its own commits: the latest is past 2 and still readable
    assertThat(datasets.pin(DatasetRef.latest(table)).rows().count()).isEqualTo(5);
  }
}
