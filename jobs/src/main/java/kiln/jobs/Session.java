package kiln.jobs;

import kiln.core.KilnSettings;
import kiln.core.SparkSessions;
import kiln.cost.UsageListener;
import org.apache.spark.sql.SparkSession;

/**
 * A command's Spark session: built once from the resolved settings, stopped when the command ends.
 */
final class Session implements AutoCloseable {
  private final KilnSettings settings;
  private SparkSession spark;
  private boolean owned;

  Session(KilnSettings settings) {
    this.settings = settings;
  }

  SparkSession spark() {
    if (spark == null) {
      // every job's runs carry the code version, which from the shaded jar is its SHA-256 (450 MB:
      // 0.3 s of a core): worked out beside Spark's start-up rather than when the first run opens
      kiln.core.CodeVersion.prefetch();
      // in a notebook or a test the session already exists: use it, and leave it running afterwards
      owned =
          SparkSession.getDefaultSession().isEmpty() && SparkSession.getActiveSession().isEmpty();
      spark = SparkSessions.create(settings.spark());
      // every Kiln job's usage is measured (and priced when its run ends, in Reporting)
      UsageListener.attach(spark);
      // an executor lost mid-task is told on the console even without --verbose (Spark's own
      // "Lost task" lines are WARNs, which Kiln keeps quiet); System.err is read at each line,
      // as a notebook kernel swaps it per cell
      ExecutorLossNotices.attach(
          spark,
          line -> {
            System.err.println("[kiln] " + line);
            System.err.flush();
          });
    }
    return spark;
  }

  KilnSettings settings() {
    return settings;
  }

  @Override
  public void close() {
    // a session that spark-submit's driver owns is stopped by it; a local one we made is ours
    if (spark != null && owned && settings.spark().profile() == kiln.core.SparkProfile.LOCAL) {
      spark.stop();
    }
  }
}
