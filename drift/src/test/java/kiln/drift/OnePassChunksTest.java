package kiln.drift;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiln.drift.internal.Chunker;
import kiln.drift.internal.Profiler;
import kiln.drift.internal.TableProfile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The drift job's passes done once per side: count chunks numbered without a pass that converts
 * rows, every chunk profiled in one pass, CBPE's sums over rows pooled per score.
 */
@ExtendWith(kiln.core.testing.SharedSpark.class)
class OnePassChunksTest {

  @Test
  void countChunksNumberRowsInReadOrderAcrossPartitionsAsTheSortedPathDoes(SparkSession spark) {
    // three partitions, no shuffle: the numbering from per-partition offsets
    Dataset<Row> rows = spark.range(0, 10, 1, 3).toDF();

    Map<Long, String> fast = chunks(Chunker.assign(rows, Chunking.count(4), null));
    // ordered by a time column: the zipWithIndex path
    Map<Long, String> sorted = chunks(Chunker.assign(rows, Chunking.count(4), "id"));

    assertThat(fast).isEqualTo(sorted);
    // row i of 10 in 4 chunks: floor(4 i / 10)
    for (long i = 0; i < 10; i++) {
      assertThat(fast.get(i)).isEqualTo(String.valueOf(4 * i / 10));
    }
  }

  @Test
  void everyChunkProfiledInOnePassEqualsAProfileOfThatChunkAlone(SparkSession spark) {
    StructType schema =
        new StructType()
            .add("x", DataTypes.DoubleType)
            .add("city", DataTypes.StringType)
            .add(Chunker.CHUNK, DataTypes.StringType);
    List<Row> data = new ArrayList<>();
    String[] cities = {"Oslo", "Rome", "Lima"};
    for (int i = 0; i < 10; i++) {
      data.add(
          RowFactory.create(
              i == 3 ? null : i * 1.5, cities[i % 3], i < 4 ? "0" : i < 7 ? "1" : "2"));
    }
    Dataset<Row> side = spark.createDataFrame(data, schema).repartition(2);
    Profiler profiler = new Profiler(1000, 200);
    List<String> columns = List.of("x", "city");

    Map<String, TableProfile> byChunk = profiler.profileBy(side, Chunker.CHUNK, columns, Set.of());

    assertThat(byChunk).containsOnlyKeys("0", "1", "2");
    for (String chunk : byChunk.keySet()) {
      TableProfile alone =
          profiler.profile(side.where(col(Chunker.CHUNK).equalTo(chunk)), columns, Set.of());
      TableProfile together = byChunk.get(chunk);
      assertThat(together.rows()).isEqualTo(alone.rows());
      for (String column : columns) {
        assertThat(TableProfile.encode(together.columns().get(column)))
            .as("chunk %s column %s", chunk, column)
            .isEqualTo(TableProfile.encode(alone.columns().get(column)));
      }
    }
    assertThat(byChunk.get("0").rows()).isEqualTo(4);
  }

  @Test
  void realizedAucAndAccuracyWithTiedScoresEqualTheirPairCounts(SparkSession spark) {
    StructType schema =
        new StructType().add("score", DataTypes.DoubleType).add("label", DataTypes.IntegerType);
    double[] scores = {0.9, 0.9, 0.7, 0.7, 0.7, 0.4, 0.4, 0.2, 0.6, 0.1};
    int[] labels = {1, 0, 1, 1, 0, 0, 1, 0, 0, 0};
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      data.add(RowFactory.create(scores[i], labels[i]));
    }
    Dataset<Row> side = spark.createDataFrame(data, schema);

    Cbpe cbpe = Cbpe.fit(side, "score", "label", 0.5);
    List<PerformanceEstimate> estimates =
        cbpe.estimate(
            side.withColumn(Chunker.CHUNK, lit("0")), side.withColumn(Chunker.CHUNK, lit("all")));

    // every (positive, negative) pair: 1 when the positive scores higher, 1/2 when tied
    double pairs = 0;
    int positives = 0;
    int negatives = 0;
    int correct = 0;
    for (int i = 0; i < scores.length; i++) {
      positives += labels[i];
      negatives += 1 - labels[i];
      correct += (scores[i] >= 0.5 ? 1 : 0) == labels[i] ? 1 : 0;
      for (int j = 0; j < scores.length; j++) {
        if (labels[i] == 1 && labels[j] == 0) {
          pairs += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
        }
      }
    }
    Map<String, ChunkValue> current = new HashMap<>();
    for (PerformanceEstimate e : estimates) {
      current.put(e.metric(), e.current().get(0));
    }
    assertThat(current.get(Cbpe.ROC_AUC).realized())
        .isCloseTo(pairs / (positives * negatives), org.assertj.core.data.Offset.offset(1e-12));
    assertThat(current.get(Cbpe.ACCURACY).realized())
        .isCloseTo(correct / 10.0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(current.get(Cbpe.ROC_AUC).rows()).isEqualTo(10);
  }

  private static Map<Long, String> chunks(Dataset<Row> chunked) {
    Map<Long, String> byId = new HashMap<>();
    for (Row row : chunked.select("id", Chunker.CHUNK).collectAsList()) {
      byId.put(row.getLong(0), row.getString(1));
    }
    return byId;
  }
}
