package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import kiln.core.testing.SharedSpark;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.cluster.ExecutorInfo;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.JavaConverters;

/** Usage measured on a real local session, and executor lifetimes clipped to a job's window. */
@ExtendWith(SharedSpark.class)
class UsageListenerTest {

  @Test
  void aLocalJobsTasksBytesAndCpuAreMeasuredWithTheDriverAsTheExecutor(
      SparkSession spark, @TempDir Path dir) throws Exception {
    UsageListener listener = UsageListener.attach(spark);
    assertThat(UsageListener.attach(spark)).as("one listener per context").isSameAs(listener);
    UsageListener.Mark mark = listener.mark();
    Thread.sleep(50);

    Dataset<Row> ten = spark.range(10).toDF("id").repartition(2);
    ten.write().parquet(dir.resolve("ten").toString());
    long groups =
        spark
            .read()
            .parquet(dir.resolve("ten").toString())
            .groupBy(org.apache.spark.sql.functions.expr("id % 3"))
            .count()
            .count();
    assertThat(groups).isEqualTo(3);

    Usage usage = listener.since(mark, spark.sparkContext());
    assertThat(usage.tasks())
        .as("range+repartition, write, read, aggregate: several stages of 2 tasks")
        .isGreaterThanOrEqualTo(6);
    assertThat(usage.failedTasks()).isZero();
    assertThat(usage.outputBytes()).isGreaterThan(0);
    assertThat(usage.inputBytes()).isGreaterThan(0);
    assertThat(usage.shuffleWriteBytes()).isGreaterThan(0);
    assertThat(usage.shuffleReadBytes()).isGreaterThan(0);
    // local[2]: the driver is one executor of 2 cores over the window
    assertThat(usage.coreSecondsAllocated())
        .isCloseTo(2 * usage.driverSeconds(), org.assertj.core.data.Offset.offset(0.01));
    assertThat(usage.coreSecondsUsed())
        .isGreaterThan(0)
        .isLessThanOrEqualTo(usage.coreSecondsAllocated());
    assertThat(usage.memoryGbSeconds()).isGreaterThan(0);
    assertThat(usage.gpuSecondsAllocated()).isZero();
    assertThat(usage.gpuType()).isNull();
    assertThat(usage.stages()).allSatisfy(s -> assertThat(s.jobId()).isGreaterThanOrEqualTo(0));
    assertThat(usage.jobs()).hasSizeGreaterThanOrEqualTo(2);
    assertThat(usage.jobs().stream().mapToLong(StageUsage::tasks).sum()).isEqualTo(usage.tasks());
    assertThat(usage.metrics())
        .containsKeys("usage.core_seconds_allocated", "usage.tasks", "usage.output_bytes");

    // a later window does not count this one's tasks again
    UsageListener.Mark second = listener.mark();
    spark.range(10).toDF("id").repartition(2).count();
    Usage later = listener.since(second, spark.sparkContext());
    assertThat(later.tasks()).isGreaterThan(0).isLessThan(usage.tasks());
    assertThat(later.outputBytes()).isZero();
  }

  @Test
  void failedTasksAreCounted(SparkSession spark) {
    UsageListener listener = UsageListener.attach(spark);
    UsageListener.Mark mark = listener.mark();
    spark
        .udf()
        .register(
            "boom",
            (UDF1<Long, Long>)
                id -> {
                  if (id == 7) {
                    throw new IllegalStateException("row 7");
                  }
                  return id;
                },
            DataTypes.LongType);
    assertThatThrownBy(() -> spark.range(10).selectExpr("boom(id)").collect())
        .hasStackTraceContaining("row 7");
    Usage usage = listener.since(mark, spark.sparkContext());
    assertThat(usage.failedTasks()).isGreaterThanOrEqualTo(1);
    assertThat(usage.tasks()).isGreaterThanOrEqualTo(usage.failedTasks());
  }

  @Test
  void executorLifetimesAreClippedToTheWindowAndPricedByCoresGpusAndMemory() {
    UsageListener listener = new UsageListener(4.0, 1.0, "A100", 4);
    listener.onExecutorAdded(new SparkListenerExecutorAdded(1_000, "1", info(4, 0)));
    listener.onExecutorAdded(new SparkListenerExecutorAdded(5_000, "2", info(2, 2)));
    listener.onExecutorRemoved(new SparkListenerExecutorRemoved(15_000, "1", "idle"));
    UsageListener.Mark mark = new UsageListener.Mark(10_000, Map.of());
    Usage usage = listener.since(mark, 20_000);
    // executor 1: 10..15 s = 5 s x 4 cores; executor 2: 10..20 s = 10 s x 2 cores, 2 GPUs (from its
    // resources)
    assertThat(usage.coreSecondsAllocated()).isEqualTo(5 * 4 + 10 * 2);
    // executor 1 has no GPU resources reported: the configured 1 per executor applies
    assertThat(usage.gpuSecondsAllocated()).isEqualTo(5 * 1 + 10 * 2);
    assertThat(usage.gpuType()).isEqualTo("A100");
    assertThat(usage.memoryGbSeconds()).isEqualTo((5 + 10) * 4.0);
    assertThat(usage.driverSeconds()).isEqualTo(10);
    assertThat(usage.tasks()).isZero();
  }

  private static ExecutorInfo info(int cores, int gpus) {
    Map<String, ResourceInformation> resources =
        gpus == 0
            ? Map.of()
            : Map.of(
                "gpu",
                new ResourceInformation(
                    "gpu",
                    java.util.stream.IntStream.range(0, gpus)
                        .mapToObj(String::valueOf)
                        .toArray(String[]::new)));
    scala.collection.immutable.Map<String, String> none =
        scala.collection.immutable.Map$.MODULE$.empty();
    return new ExecutorInfo(
        "host",
        cores,
        none,
        none,
        scala.collection.immutable.Map$.MODULE$
            .<String, ResourceInformation>empty()
            .$plus$plus(JavaConverters.mapAsScalaMap(resources)),
        0,
        scala.Option.empty(),
        scala.Option.empty());
  }
}
