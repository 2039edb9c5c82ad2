package kiln.core;

import java.util.Collection;
import java.util.stream.Collectors;

/**
 * The one place user-facing errors are built. Each message says what was wrong, with the offending
 * value, then on its own line what to do about it.
 */
public final class Errors {
  private Errors() {}

  /** Bad usage or bad input: running the same command again cannot help. */
  public static BadInputException badInput(String problem, String fix) {
    return new BadInputException(format(problem, fix), null);
  }

  public static BadInputException badInput(String problem, String fix, Throwable cause) {
    return new BadInputException(format(problem, fix), cause);
  }

  /** Something named does not exist: a file, table, version, model or alias. */
  public static NotFoundException notFound(String problem, String fix) {
    return new NotFoundException(format(problem, fix), null);
  }

  public static NotFoundException notFound(String problem, String fix, Throwable cause) {
    return new NotFoundException(format(problem, fix), cause);
  }

  /** The request contradicts what exists already. */
  public static ConflictException conflict(String problem, String fix) {
    return new ConflictException(format(problem, fix), null);
  }

  public static ConflictException conflict(String problem, String fix, Throwable cause) {
    return new ConflictException(format(problem, fix), cause);
  }

  /** A check that ran and failed. */
  public static CheckFailedException checkFailed(String problem, String fix) {
    return new CheckFailedException(format(problem, fix), null);
  }

  /** The environment cannot run what was asked; a retry or a fix of the environment may help. */
  public static EnvironmentException environment(String problem, String fix) {
    return new EnvironmentException(format(problem, fix), null);
  }

  public static EnvironmentException environment(String problem, String fix, Throwable cause) {
    return new EnvironmentException(format(problem, fix), cause);
  }

  /** The same error, said to be at {@code where} (a file, line and column); its fix stays. */
  public static BadInputException at(String where, BadInputException error) {
    return new BadInputException(where + error.getMessage(), error);
  }

  // ---- datasets

  public static BadInputException malformedDatasetRef(String text, String why) {
    return badInput(
        "malformed dataset reference '" + text + "': " + why,
        "write TABLE, TABLE@VERSION or TABLE@TIMESTAMP, e.g. /data/flights, s3a://bucket/flights@3"
            + " or /data/flights@2026-01-31T12:00:00Z");
  }

  public static NotFoundException notADeltaTable(String table) {
    return notFound(
        "'" + table + "' is not a Delta table (no _delta_log found there)",
        "check the path, or create the table first with `kiln ingest --output " + table + " ...`");
  }

  public static NotFoundException versionDoesNotExist(
      String table, long version, long first, long latest) {
    return notFound(
        "version "
            + version
            + " of "
            + table
            + " does not exist; it has versions "
            + range(first, latest),
        "use one of those versions, or leave out @VERSION to read the latest");
  }

  /**
   * A version that existed and can no longer be read: Delta's VACUUM or log retention removed what
   * it needs.
   */
  public static NotFoundException versionUnreadable(String table, long version, String reason) {
    return notFound(
        "version " + version + " of " + table + " can no longer be read: " + reason,
        "read a later version (`kiln datasets history "
            + table
            + "` lists them), or rebuild this one from its sources; to keep pinned versions"
            + " readable, vacuum with a retention longer than their age");
  }

  public static BadInputException timestampBeforeFirstCommit(
      String table, String timestamp, String firstCommit, long firstVersion) {
    return badInput(
        "timestamp "
            + timestamp
            + " is before the first commit of "
            + table
            + " (version "
            + firstVersion
            + " at "
            + firstCommit
            + ")",
        "use a timestamp at or after " + firstCommit + ", or a version number");
  }

  public static BadInputException timestampAfterLatestCommit(
      String table, String timestamp, String latestCommit, long latestVersion) {
    return badInput(
        "timestamp "
            + timestamp
            + " is after the latest commit of "
            + table
            + " (version "
            + latestVersion
            + " at "
            + latestCommit
            + ")",
        "use a timestamp at or before "
            + latestCommit
            + ", or leave out @TIMESTAMP to read the latest");
  }

  public static BadInputException missingColumns(
      String what, Collection<String> missing, Collection<String> available) {
    return badInput(
        what
            + " lacks column"
            + (missing.size() == 1 ? " " : "s ")
            + quoted(missing)
            + "; it has "
            + quoted(available),
        "fix the column names, or the data");
  }

  /**
   * A write that committed nothing: an environment error (exit 3, a retry may help) when storage or
   * an executor failed under it or another writer committed first, bad input (exit 2) when the data
   * or the table refused it.
   */
  public static KilnException writeFailed(String table, String stillAt, Throwable cause) {
    Throwable concurrent = concurrentWrite(cause);
    if (concurrent != null) {
      // Delta's optimistic concurrency: another writer committed first and this commit would
      // contradict it (two loads creating one table, two retries of one load at once). A retry
      // mends it, so it is an environment error (exit 3: Airflow's tasks retry on 3, not on 2)
      return environment(
          "another job committed to "
              + table
              + " while this one was writing it ("
              + concurrent.getClass().getSimpleName()
              + "), so this job committed nothing: "
              + firstLine(concurrent.getMessage()),
          "run the job again once the other has ended: it reads the table afresh, and a load or"
              + " scoring the other job already committed is not written twice",
          cause);
    }
    String problem =
        "writing to " + table + " failed, nothing was committed: " + rootMessage(cause);
    if (isEnvironmentFailure(cause)) {
      return environment(
          problem, stillAt + "; the storage or the cluster failed: run the job again", cause);
    }
    return badInput(problem, stillAt + "; fix the cause above and run the job again", cause);
  }

  /** Delta's concurrent-modification error in the chain, if any. */
  static Throwable concurrentWrite(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof io.delta.exceptions.DeltaConcurrentModificationException
          || t instanceof org.apache.spark.sql.delta.DeltaConcurrentModificationException) {
        return t;
      }
    }
    return null;
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("").strip();
  }

  /**
   * Storage I/O or lost executors anywhere in the chain: failures of the place, not of the data.
   */
  static boolean isEnvironmentFailure(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String message = t.getMessage() == null ? "" : t.getMessage();
      if (t instanceof java.io.IOException
          || message.contains("ExecutorLostFailure")
          || message.contains("FetchFailed")) {
        return true;
      }
    }
    return false;
  }

  static String range(long first, long latest) {
    return first == latest ? String.valueOf(first) : first + " to " + latest;
  }

  public static String quoted(Collection<String> names) {
    return names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
  }

  /** The innermost message of a chain, where Spark puts the actual reason. */
  public static String rootMessage(Throwable error) {
    Throwable current = error;
    String message = error.getMessage();
    while (current.getCause() != null && current.getCause() != current) {
      current = current.getCause();
      if (current.getMessage() != null) {
        message = current.getMessage();
      }
    }
    if (message == null) {
      return error.getClass().getSimpleName();
    }
    int newline = message.indexOf('\n');
    return newline > 0 ? message.substring(0, newline) : message;
  }

  private static String format(String problem, String fix) {
    return problem + "\n  fix: " + fix;
  }
}
