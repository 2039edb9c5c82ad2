package kiln.tracking.server;

import java.util.regex.Pattern;

/** MLflow's input limits and name rules (mlflow/utils/validation.py in 2.17). */
final class Validation {
  static final int MAX_KEY_LENGTH = 250;
  static final int MAX_PARAM_VALUE_LENGTH = 6000;
  static final int MAX_RUN_TAG_VALUE_LENGTH = 8000;
  static final int MAX_TAG_VALUE_LENGTH = 5000;
  static final int MAX_METRICS_PER_BATCH = 1000;
  static final int MAX_PARAMS_OR_TAGS_PER_BATCH = 100;
  static final int MAX_ENTITIES_PER_BATCH = 1000;
  static final int MAX_EXPERIMENT_NAME_LENGTH = 256;

  private static final Pattern NAME =
      Pattern.compile("^[/\\w.\\- :]*$", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern RUN_ID = Pattern.compile("^[a-zA-Z0-9][\\w\\-]{0,255}$");
  private static final Pattern EXPERIMENT_ID = Pattern.compile("^[0-9]{1,18}$");

  private Validation() {}

  static String required(String name, boolean present, String value) {
    if (!present || value == null || value.isEmpty()) {
      throw ApiException.missingParameter(name);
    }
    return value;
  }

  /** Metric, param and tag keys also name files in MLflow's file store, hence the path rules. */
  static void key(String what, String key) {
    if (key.length() > MAX_KEY_LENGTH) {
      throw ApiException.invalidParameter(
          what
              + " name '"
              + key.substring(0, 40)
              + "...' is "
              + key.length()
              + " characters long; the limit is "
              + MAX_KEY_LENGTH
              + ".");
    }
    if (!NAME.matcher(key).matches()) {
      throw ApiException.invalidParameter(
          "Invalid "
              + what.toLowerCase(java.util.Locale.ROOT)
              + " name: '"
              + key
              + "'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ),"
              + " colon(:) and slashes (/).");
    }
    if (!isNormalPath(key)) {
      throw ApiException.invalidParameter(
          "Invalid "
              + what.toLowerCase(java.util.Locale.ROOT)
              + " name: '"
              + key
              + "'. Names cannot resolve to a different path when normalized (no empty, '.' or '..' segments).");
    }
  }

  static void value(String what, String key, String value, int limit) {
    if (value != null && value.length() > limit) {
      throw ApiException.invalidParameter(
          what
              + " value for '"
              + key
              + "' is "
              + value.length()
              + " characters long; the limit is "
              + limit
              + ".");
    }
  }

  static String runId(String runId) {
    if (!RUN_ID.matcher(runId).matches()) {
      throw ApiException.invalidParameter("Invalid run ID: '" + abbreviate(runId) + "'.");
    }
    return runId;
  }

  static long experimentId(String experimentId) {
    if (!EXPERIMENT_ID.matcher(experimentId).matches()) {
      throw ApiException.invalidParameter(
          "Invalid experiment ID: '"
              + abbreviate(experimentId)
              + "'. Experiment IDs are integers.");
    }
    return Long.parseLong(experimentId);
  }

  static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "...";
  }

  /** Whether posixpath.normpath would leave the name unchanged. */
  private static boolean isNormalPath(String name) {
    if (name.isEmpty() || name.endsWith("/")) {
      return false;
    }
    String[] segments = name.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i];
      if (segment.equals(".") || segment.equals("..") || (segment.isEmpty() && i > 0)) {
        return false;
      }
    }
    return true;
  }
}
