package kiln.tracking.server;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite file behind the server. Writes go through one connection under a JVM lock with {@code
 * BEGIN IMMEDIATE}, so writers in this process queue instead of failing with SQLITE_BUSY and
 * writers in other processes wait on the busy timeout; reads use a small pool of WAL snapshots.
 */
final class Database implements AutoCloseable {
  @FunctionalInterface
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private static final int READERS = 4;
  private static final int BUSY_TIMEOUT_MILLIS = 30_000;

  private final Path file;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final Connection writer;
  private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READERS);
  private final List<Connection> all = new ArrayList<>();

  Database(Path file) {
    this.file = file;
    try {
      writer = open();
      for (int i = 0; i < READERS; i++) {
        readers.add(open());
      }
    } catch (SQLException e) {
      close();
      throw new IllegalStateException(
          "Cannot open the tracking database " + file + ": " + e.getMessage(), e);
    }
  }

  Path file() {
    return file;
  }

  private Connection open() throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
    config.enforceForeignKeys(true);
    // MLflow's LIKE is case-sensitive; SQLite's is not unless told so.
    config.setPragma(SQLiteConfig.Pragma.CASE_SENSITIVE_LIKE, "true");
    Connection connection = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
    // Transactions are begun by hand: with autocommit off, the driver would begin the next
    // IMMEDIATE transaction right after each commit and hold the write lock while idle.
    connection.setAutoCommit(true);
    synchronized (all) {
      all.add(connection);
    }
    return connection;
  }

  <T> T write(Work<T> work) {
    writeLock.lock();
    try {
      return inTransaction(writer, "BEGIN IMMEDIATE", work);
    } finally {
      writeLock.unlock();
    }
  }

  <T> T read(Work<T> work) {
    Connection connection;
    try {
      connection = readers.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a database connection", e);
    }
    try {
      return inTransaction(connection, "BEGIN DEFERRED", work);
    } finally {
      readers.add(connection);
    }
  }

  private static <T> T inTransaction(Connection connection, String begin, Work<T> work) {
    try {
      execute(connection, begin);
    } catch (SQLException e) {
      throw new IllegalStateException("database error: " + e.getMessage(), e);
    }
    try {
      T result = work.run(connection);
      execute(connection, "COMMIT");
      return result;
    } catch (SQLException e) {
      rollback(connection, e);
      throw new IllegalStateException("database error: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      rollback(connection, e);
      throw e;
    }
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static void rollback(Connection connection, Exception cause) {
    try {
      execute(connection, "ROLLBACK");
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public void close() {
    synchronized (all) {
      for (Connection connection : all) {
        try {
          connection.close();
        } catch (SQLException e) {
          // closing at shutdown: the file stays consistent through SQLite's journal
        }
      }
      all.clear();
    }
  }
}
