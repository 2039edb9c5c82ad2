package kiln.core.tracking;

import java.util.Map;

/**
 * Where every job reports: an MLflow tracking server and model registry (the user's own, or Kiln's
 * embedded one). A job opens a {@link TrackedRun}, logs into it and ends it FINISHED or FAILED.
 */
public interface Tracking extends AutoCloseable {

  /** The server's base URI, for the messages that tell a user where to look. */
  String uri();

  /** Starts a run in the experiment (created if missing). */
  TrackedRun startRun(String experiment, String runName, Map<String, String> tags);

  @Override
  void close();
}
