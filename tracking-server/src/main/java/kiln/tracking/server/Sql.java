package kiln.tracking.server;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.LongConsumer;

/** Small JDBC helpers so that the stores read as SQL and not as statement plumbing. */
final class Sql {
  @FunctionalInterface
  interface Row<T> {
    T map(ResultSet row) throws SQLException;
  }

  private Sql() {}

  static <T> List<T> list(Connection connection, String sql, Row<T> mapper, Object... args)
      throws SQLException {
    try (PreparedStatement statement = prepare(connection, sql, args);
        ResultSet rows = statement.executeQuery()) {
      List<T> result = new ArrayList<>();
      while (rows.next()) {
        result.add(mapper.map(rows));
      }
      return result;
    }
  }

  static <T> Optional<T> first(Connection connection, String sql, Row<T> mapper, Object... args)
      throws SQLException {
    try (PreparedStatement statement = prepare(connection, sql, args);
        ResultSet rows = statement.executeQuery()) {
      return rows.next() ? Optional.ofNullable(mapper.map(rows)) : Optional.empty();
    }
  }

  static int update(Connection connection, String sql, Object... args) throws SQLException {
    try (PreparedStatement statement = prepare(connection, sql, args)) {
      return statement.executeUpdate();
    }
  }

  static PreparedStatement prepare(Connection connection, String sql, Object... args)
      throws SQLException {
    PreparedStatement statement = connection.prepareStatement(sql);
    try {
      bind(statement, args);
    } catch (SQLException | RuntimeException e) {
      statement.close();
      throw e;
    }
    return statement;
  }

  static void bind(PreparedStatement statement, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      Object arg = args[i];
      int index = i + 1;
      if (arg == null) {
        statement.setNull(index, Types.NULL);
      } else if (arg instanceof String text) {
        statement.setString(index, text);
      } else if (arg instanceof Long number) {
        statement.setLong(index, number);
      } else if (arg instanceof Integer number) {
        statement.setInt(index, number);
      } else if (arg instanceof Double number) {
        statement.setDouble(index, number);
      } else if (arg instanceof Boolean flag) {
        statement.setInt(index, flag ? 1 : 0);
      } else {
        throw new IllegalArgumentException("cannot bind " + arg.getClass().getName());
      }
    }
  }

  /** "?, ?, ?" for an IN list of the given size. */
  static String placeholders(Collection<?> values) {
    StringJoiner joiner = new StringJoiner(", ");
    for (int i = 0; i < values.size(); i++) {
      joiner.add("?");
    }
    return joiner.toString();
  }

  /**
   * Gives a column's value to {@code setter} unless it is NULL, which proto builders cannot hold.
   */
  static void ifPresent(ResultSet row, String column, LongConsumer setter) throws SQLException {
    long value = row.getLong(column);
    if (!row.wasNull()) {
      setter.accept(value);
    }
  }
}
