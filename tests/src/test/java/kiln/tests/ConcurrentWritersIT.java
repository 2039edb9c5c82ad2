package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 4: two kiln processes writing one Delta table at once. Each either succeeds or
 * fails with Kiln's conflict message (exit 3, a retry mends it) and then succeeds when run again;
 * the table ends with every load's rows exactly once. Two scorings into one table at once are in
 * {@link DriverKillIT}, which has a model.
 */
@ExtendWith(SharedSpark.class)
class ConcurrentWritersIT {
  static final Duration TIMEOUT = Duration.ofMinutes(5);
  @TempDir static Path dir;

  static List<String> ingest(Path landing, Path table, Path work) {
    return List.of(
        "ingest",
        "--source",
        landing.toString(),
        "--format",
        "csv",
        "--output",
        table.toString(),
        "--master",
        "local[1]",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        "--conf",
        "spark.ui.enabled=false",
        "--workdir",
        work.toString());
  }

  @Test
  void twoIngestsIntoOneTableAtOnceEndWithEveryRowOnce(SparkSession spark) throws Exception {
    Path logs = Path.of("target", "faults-logs", "concurrent-writers").toAbsolutePath();
    Path table = dir.resolve("tables/amounts");
    List<Path> landings = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path landing = Files.createDirectories(dir.resolve("landing-" + i));
      Files.writeString(
          landing.resolve("part-1.csv"), DriverKillIT.csv(i * 500, i * 500 + 500, false));
      landings.add(landing);
    }
    List<String> lines = new ArrayList<>();
    // round 1: the same load twice at once into a table that does not exist yet (a DAG run and its
    // manual re-run); round 2: two different loads at once into the existing table
    List<List<Path>> rounds =
        List.of(List.of(landings.get(0), landings.get(0)), landings.subList(1, 3));
    int round = 0;
    for (List<Path> sources : rounds) {
      round++;
      List<KilnProcess> writers = new ArrayList<>();
      for (int w = 0; w < sources.size(); w++) {
        writers.add(
            KilnProcess.start(
                logs, ingest(sources.get(w), table, dir.resolve("work-" + round + "-" + w))));
      }
      List<String> outcomes = new ArrayList<>();
      for (int w = 0; w < writers.size(); w++) {
        KilnProcess.Result result = writers.get(w).await(TIMEOUT);
        if (result.exitCode() == 0) {
          outcomes.add(
              (result.out() + result.err()).contains("Already ingested")
                  ? "found it already committed"
                  : "committed");
          continue;
        }
        assertThat(result.exitCode()).as(result.output()).isEqualTo(3);
        assertThat(result.err())
            .as(result.output())
            .contains("kiln: error: another job committed to " + table)
            .contains("so this job committed nothing")
            .contains("fix: run the job again");
        KilnProcess.Result retry =
            KilnProcess.run(
                logs, TIMEOUT, ingest(sources.get(w), table, dir.resolve("work-retry-" + round)));
        assertThat(retry.exitCode()).as(retry.output()).isZero();
        outcomes.add(
            "conflict (exit 3), retry "
                + ((retry.out() + retry.err()).contains("Already ingested")
                    ? "found it committed"
                    : "committed"));
      }
      lines.add(
          "  round "
              + round
              + (round == 1 ? " (the same load twice, new table): " : " (two loads): ")
              + String.join("; ", outcomes));
      Row counts =
          spark
              .read()
              .format("delta")
              .load(table.toString())
              .selectExpr("count(*)", "count(distinct id)")
              .first();
      long expected = round == 1 ? 500 : 1500;
      assertThat(counts.getLong(0)).as("rows after round %d", round).isEqualTo(expected);
      assertThat(counts.getLong(1)).as("distinct ids after round %d", round).isEqualTo(expected);
    }
    String summary =
        "concurrent writers: 2 rounds of two ingests at once, every row once\n"
            + String.join("\n", lines)
            + "\n";
    System.err.print("[faults] " + summary);
    Files.writeString(
        Path.of("target", "faults-summary.txt"),
        summary,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }
}
