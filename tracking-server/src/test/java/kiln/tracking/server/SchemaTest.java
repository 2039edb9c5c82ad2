package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite file must be what MLflow 2.17 itself would have created, so that `mlflow server` opens
 * it.
 */
class SchemaTest {
  @TempDir Path store;

  @Test
  void tablesColumnsKeysAndRevisionMatchMlflow217() throws Exception {
    try (TrackingServer server = TestServers.start(store)) {
      server.uri();
    }
    List<String> expected = expectedColumns();
    List<String> actual = new ArrayList<>();
    try (Connection connection =
            DriverManager.getConnection("jdbc:sqlite:" + store.resolve("mlflow.db"));
        Statement statement = connection.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rows =
          statement.executeQuery(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
        while (rows.next()) {
          tables.add(rows.getString(1));
        }
      }
      for (String table : tables) {
        try (ResultSet columns = statement.executeQuery("PRAGMA table_info(" + table + ")")) {
          while (columns.next()) {
            actual.add(
                table
                    + "\t"
                    + columns.getString("name")
                    + "\t"
                    + columns.getString("type")
                    + "\t"
                    + columns.getInt("notnull")
                    + "\t"
                    + columns.getInt("pk"));
          }
        }
      }
      try (ResultSet revision = statement.executeQuery("SELECT version_num FROM alembic_version")) {
        assertThat(revision.next()).isTrue();
        assertThat(revision.getString(1)).isEqualTo("f5a4f2784254");
        assertThat(revision.next()).isFalse();
      }
      try (ResultSet defaults =
          statement.executeQuery(
              "SELECT name, artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = 0")) {
        assertThat(defaults.next()).isTrue();
        assertThat(defaults.getString(1)).isEqualTo("Default");
        assertThat(defaults.getString(2)).isEqualTo("mlflow-artifacts:/0");
        assertThat(defaults.getString(3)).isEqualTo("active");
      }
      List<String> indexes = new ArrayList<>();
      try (ResultSet rows =
          statement.executeQuery(
              "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'index_%' ORDER BY name")) {
        while (rows.next()) {
          indexes.add(rows.getString(1));
        }
      }
      assertThat(indexes)
          .contains(
              "index_metrics_run_uuid",
              "index_latest_metrics_run_uuid",
              "index_params_run_uuid",
              "index_tags_run_uuid",
              "index_datasets_dataset_uuid",
              "index_inputs_input_uuid",
              "index_trace_info_experiment_id_timestamp_ms");
      try (ResultSet journal = statement.executeQuery("PRAGMA journal_mode")) {
        journal.next();
        assertThat(journal.getString(1)).isEqualToIgnoringCase("wal");
      }
    }
    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void aDatabaseAtAnotherRevisionIsRefusedWithAClearMessage() throws SQLException {
    try (TrackingServer server = TestServers.start(store)) {
      server.uri();
    }
    try (Connection connection =
            DriverManager.getConnection("jdbc:sqlite:" + store.resolve("mlflow.db"));
        Statement statement = connection.createStatement()) {
      statement.executeUpdate("UPDATE alembic_version SET version_num = '0584bdc529eb'");
    }
    assertThatThrownBy(() -> TestServers.start(store))
        .hasMessageContaining("revision 0584bdc529eb")
        .hasMessageContaining("f5a4f2784254");
  }

  private static List<String> expectedColumns() throws IOException {
    try (InputStream in = SchemaTest.class.getResourceAsStream("/mlflow-2.17-schema.tsv")) {
      List<String> lines = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          lines.add(line.strip());
        }
      }
      return lines;
    }
  }
}
