package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import kiln.core.KilnSettings;
import kiln.core.NotFoundException;
import kiln.core.SparkSettings;
import kiln.core.testing.SharedSpark;
import kiln.drift.DriftConfig;
import kiln.ingest.IngestResult;
import kiln.ingest.IngestSpec;
import kiln.ingest.SourceFormat;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** KilnSession, the facade notebooks call: jobs as methods, Kiln's errors without stack traces. */
@ExtendWith(SharedSpark.class)
class KilnSessionTest {

  private static Path landing(Path dir, String name, int shift) throws Exception {
    Path landing = Files.createDirectories(dir.resolve("landing/" + name));
    StringBuilder csv = new StringBuilder("id,amount,country\n");
    for (int i = 0; i < 200; i++) {
      csv.append(i).append(',').append(i % 50 + shift).append(',').append(i % 2 == 0 ? "DE" : "FR");
      csv.append('\n');
    }
    Files.writeString(landing.resolve("part.csv"), csv);
    return landing;
  }

  @Test
  void jobsRunAsMethodsPrintTheirResultsAndAreTracked(SparkSession spark, @TempDir Path dir)
      throws Exception {
    String table = dir.resolve("tables/amounts").toString();
    PrintStream out = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (KilnSession kiln = KilnSession.local(dir.resolve("work"))) {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      IngestResult first =
          kiln.ingest(IngestSpec.of(landing(dir, "a", 0).toString(), SourceFormat.CSV, table));
      IngestResult second =
          kiln.ingest(IngestSpec.of(landing(dir, "b", 40).toString(), SourceFormat.CSV, table));
      assertThat(first.table().version()).isZero();
      assertThat(second.table().version()).isEqualTo(1);
      assertThat(kiln.table(table + "@0").count()).isEqualTo(200);

      KilnSession.DriftRun drift =
          kiln.drift(table + "@0", table + "@1", DriftConfig.defaults().withExclude(List.of("id")));
      assertThat(drift.result().drifted()).isTrue();
      assertThat(drift.result().driftedFeatures())
          .extracting(f -> f.name())
          .containsExactly("amount");
      assertThat(drift.html()).startsWith("<!DOCTYPE html>").contains("amount");
      assertThat(drift.runId()).isNotBlank();
      assertThat(kiln.trackingUri()).startsWith("http://127.0.0.1:");
    } finally {
      System.setOut(out);
    }
    // the results are printed as the command line prints them, where the kernel's stdout is now
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("Ingested 200 rows into " + table + ", version 0")
        .contains("Ingested 200 rows into " + table + ", version 1")
        .containsPattern("amount +feature +DRIFTED");
    // the runs went to the embedded server's store in the work directory
    assertThat(dir.resolve("work/mlflow/mlflow.db")).exists();
  }

  @Test
  void aVersionThatDoesNotExistIsKilnsMessageWithItsFixAndNoStackTrace(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String table = dir.resolve("tables/amounts").toString();
    try (KilnSession kiln = KilnSession.local(dir.resolve("work"))) {
      kiln.ingest(IngestSpec.of(landing(dir, "a", 0).toString(), SourceFormat.CSV, table));
      KilnError error = catchThrowableOfType(() -> kiln.table(table + "@7"), KilnError.class);
      assertThat(error)
          .hasMessage(
              "kiln: error: version 7 of "
                  + table
                  + " does not exist; it has versions 0\n"
                  + "  fix: use one of those versions, or leave out @VERSION to read the latest");
      assertThat(error.exitCode()).isEqualTo(Kiln.BAD_INPUT);
      assertThat(error.getStackTrace()).isEmpty();
      assertThat(error.getCause()).isNull();
      assertThat(error.error()).isInstanceOf(NotFoundException.class);

      KilnError model =
          catchThrowableOfType(() -> kiln.modelCard("models:/nothing/1"), KilnError.class);
      assertThat(model.getMessage()).startsWith("kiln: error: ").contains("nothing");
    }
  }

  @Test
  void aVerboseSessionKeepsTheCauseAndItsStackTrace(SparkSession spark, @TempDir Path dir) {
    KilnSettings settings =
        new KilnSettings(
            new SparkSettings(null, "local[2]", null, null), null, dir.resolve("work").toString());
    try (KilnSession kiln = KilnSession.open(settings, true)) {
      KilnError error =
          catchThrowableOfType(
              () -> kiln.table(dir.resolve("missing").toString()), KilnError.class);
      assertThat(error.getMessage()).startsWith("kiln: error: ").contains("is not a Delta table");
      assertThat(error.getCause()).isInstanceOf(NotFoundException.class);
      assertThat(error.getCause().getStackTrace()).isNotEmpty();
    }
  }
}
