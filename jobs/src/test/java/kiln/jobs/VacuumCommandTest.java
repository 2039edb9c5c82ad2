package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln datasets pins} and {@code vacuum} against a real (embedded, loopback) tracking server
 * and a ten-row Delta table in a temp dir: a model version's pin keeps VACUUM away from the files
 * of the version it pins until the version is archived.
 */
@ExtendWith(SharedSpark.class)
class VacuumCommandTest {

  @Test
  void aPinnedVersionStopsVacuumUntilItsModelVersionIsArchived(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String table = dir.resolve("features").toString();
    spark.sql("SELECT id, id * 2 AS x FROM range(10)").write().format("delta").save(table);
    spark
        .sql("SELECT id, id * 3 AS x FROM range(10)")
        .write()
        .format("delta")
        .mode("overwrite")
        .save(table);
    String[] version0Files =
        spark.read().format("delta").option("versionAsOf", 0).load(table).inputFiles();
    assertThat(version0Files).isNotEmpty();
    String listingParallelism = spark.conf().get(DatasetsCommand.LISTING_PARALLELISM);

    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start()) {
      String uri = server.uri().toString();
      try (MlflowTracking tracking =
          MlflowTracking.connect(uri, Map.of(), dir.resolve("spool"), n -> {})) {
        TrackedRun run = tracking.startRun("kiln", "train", Map.of());
        // the tags training writes (TrainingJob) and the triad's input tag
        tracking.registerModel(
            "delays",
            run.artifactUri() + "/model",
            run.id(),
            Map.of(
                TablePins.FEATURE_TABLE,
                table,
                TablePins.FEATURE_VERSION,
                "0",
                TablePins.DATA_TABLE,
                "null",
                TablePins.DATA_VERSION,
                "null",
                "kiln.input.training",
                table + "@0"));
        tracking.setAlias("delays", "champion", "1");
        // a second model pins the latest version, which VACUUM never touches
        tracking.registerModel(
            "other",
            run.artifactUri() + "/model",
            run.id(),
            Map.of("kiln.input.training", "file:" + table + "/@1"));
        run.finish();
      }

      KilnRun pins = KilnRun.kiln("datasets", "pins", table, "--tracking-uri", uri, "--json");
      assertThat(pins.exitCode()).as(pins.err()).isZero();
      JsonNode listed = new ObjectMapper().readTree(pins.out());
      assertThat(listed.get("pins")).hasSize(2);
      JsonNode first = listed.get("pins").get(0);
      assertThat(first.get("model").asText()).isEqualTo("delays");
      assertThat(first.get("modelVersion").asText()).isEqualTo("1");
      assertThat(first.get("tableVersion").asLong()).isZero();
      assertThat(first.get("aliases").toString()).isEqualTo("[\"champion\"]");
      assertThat(first.get("roles").toString()).contains("feature table", "input training");
      assertThat(listed.get("pins").get(1).get("tableVersion").asLong()).isEqualTo(1);
      assertThat(pins.err()).contains("models:/delays/1", "champion");

      KilnRun tooShort =
          KilnRun.kiln("datasets", "vacuum", table, "--retain", "0", "--tracking-uri", uri);
      assertThat(tooShort.exitCode()).as(tooShort.err()).isEqualTo(2);
      assertThat(tooShort.err()).contains("168", "--force-retention");

      KilnRun refused =
          KilnRun.kiln(
              "datasets",
              "vacuum",
              table,
              "--retain",
              "0",
              "--force-retention",
              "--tracking-uri",
              uri);
      assertThat(refused.exitCode()).as(refused.err()).isEqualTo(1);
      assertThat(refused.err())
          .contains("version 0", "models:/delays/1 (champion)", "nothing was deleted")
          .doesNotContain("models:/other/1");
      for (String file : version0Files) {
        assertThat(Path.of(URI.create(file))).exists();
      }
      assertThat(new Datasets(spark).unreadable(DatasetRef.atVersion(table, 0))).isEmpty();
      assertThat(spark.read().format("delta").option("versionAsOf", 0).load(table).count())
          .isEqualTo(10);
      assertThat(spark.conf().get("spark.databricks.delta.retentionDurationCheck.enabled", "true"))
          .as("the safety check is back on after the command")
          .isEqualTo("true");
      assertThat(spark.conf().get(DatasetsCommand.LISTING_PARALLELISM))
          .as("the listing parallelism is only set for the VACUUM statements")
          .isEqualTo(listingParallelism);

      archive(uri, "delays", "1");
      KilnRun nowPins = KilnRun.kiln("datasets", "pins", table, "--tracking-uri", uri, "--json");
      assertThat(nowPins.exitCode()).as(nowPins.err()).isZero();
      JsonNode left = new ObjectMapper().readTree(nowPins.out()).get("pins");
      assertThat(left).hasSize(1);
      assertThat(left.get(0).get("model").asText()).isEqualTo("other");

      KilnRun dry =
          KilnRun.kiln(
              "datasets",
              "vacuum",
              table,
              "--retain",
              "0",
              "--force-retention",
              "--dry-run",
              "--json",
              "--tracking-uri",
              uri);
      assertThat(dry.exitCode()).as(dry.err()).isZero();
      assertThat(new ObjectMapper().readTree(dry.out()).get("files")).hasSize(version0Files.length);
      for (String file : version0Files) {
        assertThat(Path.of(URI.create(file))).exists();
      }

      KilnRun vacuumed =
          KilnRun.kiln(
              "datasets",
              "vacuum",
              table,
              "--retain",
              "0",
              "--force-retention",
              "--json",
              "--tracking-uri",
              uri);
      assertThat(vacuumed.exitCode()).as(vacuumed.err()).isZero();
      assertThat(vacuumed.err()).contains("VACUUM deleted " + version0Files.length + " file(s)");
      for (String file : version0Files) {
        assertThat(Path.of(URI.create(file))).doesNotExist();
      }
      assertThat(new Datasets(spark).unreadable(DatasetRef.atVersion(table, 0)))
          .hasValueSatisfying(reason -> assertThat(reason).contains("VACUUM"));
      assertThat(spark.read().format("delta").load(table).count()).isEqualTo(10);

      KilnRun show = KilnRun.kiln("datasets", "show", table + "@0");
      assertThat(show.exitCode()).as(show.err()).isEqualTo(2);
    }
  }

  @Test
  void vacuumOfATableThatIsNotThereIsBadInput(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("empty"));
    KilnRun run =
        KilnRun.kiln(
            "datasets",
            "vacuum",
            dir.resolve("empty").toString(),
            "--workdir",
            dir.resolve("work").toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
  }

  /** MLflow's stage transition, which Kiln's Tracking does not offer: as a user's client would. */
  private static void archive(String uri, String name, String version) throws Exception {
    String body =
        new ObjectMapper()
            .writeValueAsString(
                Map.of(
                    "name",
                    name,
                    "version",
                    version,
                    "stage",
                    "Archived",
                    "archive_existing_versions",
                    false));
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(uri + "/api/2.0/mlflow/model-versions/transition-stage"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).contains("Archived");
  }
}
