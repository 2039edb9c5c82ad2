package kiln.tracking.server;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every row of every table of a store, read through a separate connection, to prove that a request
 * changed nothing.
 */
final class StoreSnapshot {
  private StoreSnapshot() {}

  static Map<String, List<String>> of(Path database) {
    try (Connection connection =
            DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
        Statement statement = connection.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rows =
          statement.executeQuery(
              "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
        while (rows.next()) {
          tables.add(rows.getString(1));
        }
      }
      Map<String, List<String>> snapshot = new TreeMap<>();
      for (String table : tables) {
        List<String> content = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery("SELECT * FROM " + table)) {
          int columns = rows.getMetaData().getColumnCount();
          while (rows.next()) {
            StringBuilder row = new StringBuilder();
            for (int i = 1; i <= columns; i++) {
              row.append(rows.getString(i)).append('|');
            }
            content.add(row.toString());
          }
        }
        content.sort(null);
        snapshot.put(table, content);
      }
      return snapshot;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static long count(Path database, String sql) {
    try (Connection connection =
            DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String text(Path database, String sql) {
    try (Connection connection =
            DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
