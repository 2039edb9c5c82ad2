package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import kiln.gpu.JobCoverage;
import kiln.gpu.PlanCoverage;
import kiln.gpu.Rapids;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GpuCheckTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    Thread.currentThread()
        .setContextClassLoader(
            new org.apache.spark.util.MutableURLClassLoader(
                new URL[0], Thread.currentThread().getContextClassLoader()));
    SparkSession.Builder builder =
        SparkSession.builder()
            .master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config(
                "spark.sql.catalog.spark_catalog",
                "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config("spark.sql.legacy.timeParserPolicy", "CORRECTED");
    Rapids.explainOnlyConf().forEach(builder::config);
    spark = builder.getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void everyJobIsJudged(@TempDir Path dir) {
    List<JobCoverage> jobs = new GpuCheck(spark, dir, System.err::println).run(GpuCheck.JOBS);
    for (JobCoverage job : jobs) {
      System.err.printf(
          "%s %.3f (%d/%d)%n", job.job(), job.coverage(), job.onGpu(), job.operators());
      for (PlanCoverage plan : job.plans()) {
        System.err.printf("  %s %.3f%n", plan.name(), plan.coverage());
        plan.fallbacks().forEach(o -> System.err.println("    ! " + o.name() + " " + o.reasons()));
      }
    }
    assertThat(jobs).extracting(JobCoverage::job).containsExactlyElementsOf(GpuCheck.JOBS);
  }
}
