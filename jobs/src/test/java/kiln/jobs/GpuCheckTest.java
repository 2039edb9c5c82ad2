package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.gpu.JobCoverage;
import kiln.gpu.Operator;
import kiln.gpu.PlanCoverage;
import kiln.gpu.Rapids;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The GPU coverage of Kiln's plans, as the real RAPIDS 25.04 jar judges them in explain-only mode
 * (no GPU here or in CI). The plans Kiln writes itself must stay wholly GPU-eligible; what falls
 * back may only do so for a limit of RAPIDS 25.04 named below. The check runs once for the class.
 */
class GpuCheckTest {
  /**
   * RAPIDS 25.04 has only a stub for Delta Lake on Spark 3.5: Delta scans and writes stay on the
   * CPU.
   */
  static final String DELTA_SCAN = "org.apache.spark.sql.delta.DeltaParquetFileFormat";

  /** Spark ML's models and VectorAssembler are Scala UDFs over vectors, which RAPIDS cannot run. */
  static final String SPARK_ML_UDF = "ScalaUDF";

  static final String SPARK_ML_VECTOR = "org.apache.spark.ml.linalg.VectorUDT";

  static final String DELTA_WRITE = "org.apache.spark.sql.delta.sources.DeltaDataSource";

  static SparkSession spark;
  static Path dir;
  static List<JobCoverage> jobs;

  @BeforeAll
  static void runTheCheck() throws IOException {
    Thread thread = Thread.currentThread();
    thread.setContextClassLoader(
        new org.apache.spark.util.MutableURLClassLoader(
            new URL[0], thread.getContextClassLoader()));
    java.util.Map<String, String> conf = new java.util.LinkedHashMap<>(Rapids.explainOnlyConf());
    conf.put("spark.sql.shuffle.partitions", "2");
    spark = SparkSessions.create(new SparkSettings(SparkProfile.LOCAL, "local[2]", false, conf));
    dir = Files.createTempDirectory("gpu-check-test");
    jobs = new GpuCheck(spark, dir, s -> {}).run(GpuCheck.JOBS);
    System.err.println(GpuCommand.Check.text(jobs));
  }

  @AfterAll
  static void stop() throws IOException {
    spark.stop();
    // The check writes real Delta tables; a temp dir left per run filled /tmp over many CI runs.
    kiln.core.LocalFiles.deleteTree(dir);
  }

  @Test
  void everyJobIsJudgedInOrderAndEveryFallbackSaysWhy() {
    assertThat(jobs).extracting(JobCoverage::job).containsExactlyElementsOf(GpuCheck.JOBS);
    for (JobCoverage job : jobs) {
      assertThat(job.plans()).as(job.job()).isNotEmpty();
      assertThat(job.operators()).as(job.job()).isPositive();
      assertThat(job.plans().stream().flatMap(p -> p.fallbacks().stream()))
          .as(job.job())
          .allSatisfy(o -> assertThat(o.reasons()).as(o.name()).isNotEmpty());
    }
  }

  @Test
  void ingestsCastsAndQuarantineReasonsRunWhollyOnTheGpu() {
    // the CSV scan and the one projection that types the columns, builds the quarantine reasons
    // and the raw records: any expression that falls back fails this test, with RAPIDS' reason
    PlanCoverage casts = plan("ingest", GpuCheck.INGEST_CASTS);
    assertThat(casts.operators())
        .extracting(Operator::name)
        .containsExactly("ProjectExec", "FileSourceScanExec");
    assertThat(casts.fallbacks()).isEmpty();
    assertThat(casts.coverage()).isEqualTo(1.0);
  }

  @Test
  void theWholeIngestJobFallsBackOnlyForDeltaTheCsvHeaderAndTheCachedRows() {
    // Delta (a stub in RAPIDS 25.04 on Spark 3.5); Spark's own read of the CSV header (a text scan
    // with a limit, deserialised to strings); and the scans of the rows ingest caches between
    // its count and its writes (InMemoryTableScanExec is off by default in RAPIDS 25.04)
    JobCoverage job = jobs.stream().filter(j -> j.job().equals("ingest")).findFirst().orElseThrow();
    for (PlanCoverage plan : job.plans()) {
      assertThat(
              fallbacksNotFor(
                  plan,
                  DELTA_SCAN,
                  DELTA_WRITE,
                  "datasources.text.TextFileFormat",
                  "CollectLimitExec has been disabled",
                  "DeserializeToObjectExec",
                  "InMemoryTableScanExec has been disabled"))
          .as(plan.name())
          .isEmpty();
    }
  }

  @Test
  void theFeaturePlanRunsWhollyOnTheGpuButForItsDeltaScans() {
    PlanCoverage features = plan("features", GpuCheck.FEATURES_BUILD);
    assertThat(features.operators())
        .extracting(Operator::name)
        .contains("HashAggregateExec", "ProjectExec", "BroadcastHashJoinExec");
    assertThat(fallbacksNotFor(features, DELTA_SCAN)).isEmpty();
    // every operator but the Delta scans runs on the GPU
    assertThat(features.fallbacks()).extracting(Operator::name).containsOnly("FileSourceScanExec");
  }

  @Test
  void trainingsInputChecksRunWhollyOnTheGpuButForTheDeltaScan() {
    PlanCoverage checks = plan("train", "train: input checks");
    assertThat(checks.operators()).extracting(Operator::name).contains("HashAggregateExec");
    assertThat(fallbacksNotFor(checks, DELTA_SCAN)).isEmpty();
  }

  /**
   * Training's data preparation under RAPIDS: the train and validation rows XGBoost reads, each
   * feature a double column it reads by name (xgboost4j-spark-gpu reads no vector), run wholly on
   * the GPU but for the Delta scan. Before, the vector assembly (array_to_vector, a Scala UDF
   * producing a VectorUDT) kept every projection over them on the CPU.
   */
  @Test
  void trainingsRowsRunWhollyOnTheGpuButForTheDeltaScanWithNoVector() {
    for (String name : List.of(GpuCheck.TRAIN_ROWS, GpuCheck.VALIDATION_ROWS)) {
      PlanCoverage rows = plan("train", name);
      assertThat(rows.operators()).extracting(Operator::name).contains("ProjectExec");
      assertThat(fallbacksNotFor(rows, DELTA_SCAN)).as(name).isEmpty();
      assertThat(rows.fallbacks())
          .as(name)
          .extracting(Operator::name)
          .containsOnly("FileSourceScanExec");
      assertThat(rows.operators())
          .as(name)
          .flatExtracting(Operator::reasons)
          .noneMatch(r -> r.contains(SPARK_ML_UDF) || r.contains(SPARK_ML_VECTOR));
    }
  }

  /**
   * Delta's scans and writes fall back because RAPIDS 25.04 has no OSS Delta support on Spark 3.5
   * (a stub): the report says so, not only RAPIDS' "unsupported format".
   */
  @Test
  void deltasFallbacksSayTheirCauseIsTheRapidsRelease() {
    List<String> delta =
        jobs.stream()
            .flatMap(j -> j.plans().stream())
            .flatMap(p -> p.fallbacks().stream())
            .flatMap(o -> o.reasons().stream())
            .filter(r -> r.contains("org.apache.spark.sql.delta."))
            .toList();
    assertThat(delta).anyMatch(r -> r.contains(DELTA_SCAN)).anyMatch(r -> r.contains(DELTA_WRITE));
    assertThat(delta).allMatch(r -> r.contains(Rapids.DELTA_ON_SPARK_35 + ": "));
    assertThat(GpuCommand.Check.text(jobs)).contains(Rapids.DELTA_ON_SPARK_35);
  }

  /**
   * Scoring's pre-processing and writes, Kiln's part of {@code kiln score}, as GpuCheck defines it:
   * the plan the model reads (the input's rows, each feature cast to double with NaN for null, the
   * provenance columns) and the count of error rows on the written version run wholly on the GPU
   * but for the Delta scan, which RAPIDS 25.04 does not run on Spark 3.5.
   */
  @Test
  void scoringsPreprocessingAndRowCountsRunWhollyOnTheGpuButForTheDeltaScan() {
    PlanCoverage prepare = plan("score", GpuCheck.SCORE_PREPARE);
    assertThat(prepare.operators())
        .extracting(Operator::name)
        .containsExactly("ProjectExec", "FileSourceScanExec");
    PlanCoverage counts = plan("score", GpuCheck.SCORE_COUNTS);
    assertThat(counts.operators()).extracting(Operator::name).contains("HashAggregateExec");
    for (PlanCoverage plan : List.of(prepare, counts)) {
      assertThat(fallbacksNotFor(plan, DELTA_SCAN)).as(plan.name()).isEmpty();
      assertThat(plan.fallbacks())
          .as(plan.name())
          .extracting(Operator::name)
          .containsOnly("FileSourceScanExec");
    }
  }

  /**
   * The write: RAPIDS plans it (no observe, which RAPIDS 25.04 fails to plan), and what falls back
   * does so for Delta (no Delta Lake writes in RAPIDS 25.04 on Spark 3.5) or for the model's own
   * vectors and UDFs, never for an expression of Kiln's. The model's inference is reported as it
   * is: a Spark ML stand-in's VectorAssembler and UDFs.
   */
  @Test
  void scoringsWriteIsPlannedByRapidsAndFallsBackOnlyForDeltaAndTheModel() {
    JobCoverage job = job("score");
    List<PlanCoverage> whole = job.plans(GpuCheck.SCORE_JOB);
    assertThat(whole).isNotEmpty();
    assertThat(whole).extracting(PlanCoverage::name).noneMatch(n -> n.contains("could not plan"));
    for (PlanCoverage plan : whole) {
      assertThat(fallbacksNotFor(plan, DELTA_SCAN, DELTA_WRITE, SPARK_ML_UDF, SPARK_ML_VECTOR))
          .as(plan.name())
          .isEmpty();
    }
    PlanCoverage model = plan("score", GpuCheck.SCORE_MODEL);
    assertThat(fallbacksNotFor(model, DELTA_SCAN, SPARK_ML_UDF, SPARK_ML_VECTOR)).isEmpty();
  }

  private static JobCoverage job(String name) {
    return jobs.stream().filter(j -> j.job().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void driftsProfilesRunWhollyOnTheGpuButForTheDeltaScans() {
    // under RAPIDS drift profiles with built-in expressions (GpuProfiler): aggregates, the values
    // exploded and grouped, their count per column joined back, and approx_percentile beyond the
    // exact limit; every operator of those plans must stay on the GPU but the Delta scans
    JobCoverage job = jobs.stream().filter(j -> j.job().equals("drift")).findFirst().orElseThrow();
    List<PlanCoverage> sides = job.plans(GpuCheck.DRIFT_SIDES);
    assertThat(sides).isNotEmpty();
    for (PlanCoverage plan : sides) {
      assertThat(fallbacksNotFor(plan, DELTA_SCAN)).as(plan.name()).isEmpty();
    }
    assertThat(sides)
        .flatExtracting(PlanCoverage::operators)
        .extracting(Operator::name)
        .contains(
            "GenerateExec",
            "BroadcastHashJoinExec",
            "ObjectHashAggregateExec",
            "HashAggregateExec");
    assertThat(sides)
        .flatExtracting(PlanCoverage::fallbacks)
        .extracting(Operator::name)
        .containsOnly("FileSourceScanExec");
  }

  /**
   * kiln drift --chunk under RAPIDS: every current chunk is profiled with the built-in aggregates
   * too (its exploded value counts, GenerateExec, in a plan per chunk beside the two sides'), not
   * the JVM fold, whose plan would be only a scan and a projection; those plans fall back only for
   * the Delta scans and the cached chunks (InMemoryTableScanExec, off in RAPIDS 25.04).
   */
  @Test
  void chunkedDriftProfilesEveryChunkWithTheGpuPath() {
    List<PlanCoverage> chunked = job("drift").plans(GpuCheck.DRIFT_CHUNKED);
    List<PlanCoverage> profiles =
        chunked.stream()
            .filter(p -> p.operators().stream().anyMatch(o -> o.name().equals("GenerateExec")))
            .toList();
    long sides =
        job("drift").plans(GpuCheck.DRIFT_SIDES).stream()
            .filter(p -> p.operators().stream().anyMatch(o -> o.name().equals("GenerateExec")))
            .count();
    assertThat(sides).isPositive();
    assertThat(profiles.size())
        .isGreaterThanOrEqualTo((int) (sides + sides / 2 * GpuCheck.DRIFT_CHUNKS));
    for (PlanCoverage plan : profiles) {
      assertThat(fallbacksNotFor(plan, DELTA_SCAN, "InMemoryTableScanExec has been disabled"))
          .as(plan.name())
          .isEmpty();
    }
  }

  @Test
  void llmPreprocessingFallsBackOnlyForSparkNlpRowCodeTheHashAndDelta() {
    // Spark NLP's annotators are Scala UDFs and Kiln's redaction and rendering stages map rows in
    // the JVM; sha2 (the prompt's hash, the cache key) has no GPU version in RAPIDS 25.04
    JobCoverage job =
        jobs.stream().filter(j -> j.job().equals(GpuCheck.LLM_JOB)).findFirst().orElseThrow();
    assertThat(job.plans()).hasSizeGreaterThanOrEqualTo(2);
    for (PlanCoverage plan : job.plans()) {
      assertThat(
              fallbacksNotFor(
                  plan,
                  DELTA_SCAN,
                  SPARK_ML_UDF,
                  "Sha2",
                  "SerializeFromObjectExec",
                  "DeserializeToObjectExec",
                  "MapPartitionsExec",
                  "RDDScanExec"))
          .as(plan.name())
          .isEmpty();
    }
  }

  @Test
  void contractsAreReportedAsTheyAre() {
    for (String job : List.of("contracts")) {
      JobCoverage coverage =
          jobs.stream().filter(j -> j.job().equals(job)).findFirst().orElseThrow();
      assertThat(coverage.coverage()).as(job).isBetween(0.0, 1.0);
    }
  }

  private static PlanCoverage plan(String job, String name) {
    List<PlanCoverage> plans =
        jobs.stream().filter(j -> j.job().equals(job)).findFirst().orElseThrow().plans(name);
    assertThat(plans).as(name).hasSize(1);
    return plans.get(0);
  }

  private static List<Operator> fallbacksNotFor(PlanCoverage plan, String... known) {
    return plan.fallbacks().stream()
        .filter(
            o -> o.reasons().stream().noneMatch(r -> List.of(known).stream().anyMatch(r::contains)))
        .toList();
  }
}
