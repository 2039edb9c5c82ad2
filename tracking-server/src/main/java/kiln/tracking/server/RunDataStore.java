package kiln.tracking.server;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.mlflow.api.proto.Service.Dataset;
import org.mlflow.api.proto.Service.DatasetInput;
import org.mlflow.api.proto.Service.GetMetricHistory;
import org.mlflow.api.proto.Service.InputTag;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.RunTag;

/**
 * What runs log: metrics (with their history and latest values), params, tags and dataset inputs.
 */
final class RunDataStore {
  private static final int METRIC_HISTORY_LIMIT = 25_000;

  private final Database database;

  RunDataStore(Database database) {
    this.database = database;
  }

  void setTag(String runId, String key, String value) {
    Validation.runId(runId);
    Validation.key("Tag", key);
    Validation.value("Tag", key, value, Validation.MAX_RUN_TAG_VALUE_LENGTH);
    database.write(
        connection -> {
          RunStore.activeRun(connection, runId);
          writeTag(connection, runId, key, value);
          return null;
        });
  }

  private static void writeTag(Connection connection, String runId, String key, String value)
      throws SQLException {
    Sql.update(
        connection,
        "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
        key,
        value,
        runId);
    if (key.equals(RunStore.RUN_NAME_TAG) && value != null && !value.isEmpty()) {
      Sql.update(connection, "UPDATE runs SET name = ? WHERE run_uuid = ?", value, runId);
    }
  }

  void deleteTag(String runId, String key) {
    Validation.runId(runId);
    database.write(
        connection -> {
          RunStore.activeRun(connection, runId);
          if (Sql.update(connection, "DELETE FROM tags WHERE run_uuid = ? AND key = ?", runId, key)
              == 0) {
            throw ApiException.notFound("No tag with name: " + key + " in run with id " + runId);
          }
          return null;
        });
  }

  void logBatch(String runId, List<Metric> metrics, List<Param> params, List<RunTag> tags) {
    Validation.runId(runId);
    if (metrics.size() > Validation.MAX_METRICS_PER_BATCH) {
      throw ApiException.invalidParameter(
          "A batch logging request can contain at most "
              + Validation.MAX_METRICS_PER_BATCH
              + " metrics. Got "
              + metrics.size()
              + " metrics.");
    }
    if (params.size() > Validation.MAX_PARAMS_OR_TAGS_PER_BATCH
        || tags.size() > Validation.MAX_PARAMS_OR_TAGS_PER_BATCH) {
      throw ApiException.invalidParameter(
          "A batch logging request can contain at most "
              + Validation.MAX_PARAMS_OR_TAGS_PER_BATCH
              + " params and "
              + Validation.MAX_PARAMS_OR_TAGS_PER_BATCH
              + " tags. Got "
              + params.size()
              + " params and "
              + tags.size()
              + " tags.");
    }
    if (metrics.size() + params.size() + tags.size() > Validation.MAX_ENTITIES_PER_BATCH) {
      throw ApiException.invalidParameter(
          "A batch logging request can contain at most "
              + Validation.MAX_ENTITIES_PER_BATCH
              + " metrics, params and tags in total.");
    }
    for (Metric metric : metrics) {
      Validation.required("metrics.key", metric.hasKey(), metric.getKey());
      if (!metric.hasValue()) {
        throw ApiException.invalidParameter(
            "Got invalid value for metric '" + metric.getKey() + "': a value is required.");
      }
      Validation.key("Metric", metric.getKey());
    }
    Map<String, String> paramValues = new LinkedHashMap<>();
    for (Param param : params) {
      Validation.required("params.key", param.hasKey(), param.getKey());
      Validation.key("Param", param.getKey());
      String value = param.hasValue() ? param.getValue() : "";
      Validation.value("Param", param.getKey(), value, Validation.MAX_PARAM_VALUE_LENGTH);
      String previous = paramValues.putIfAbsent(param.getKey(), value);
      if (previous != null && !previous.equals(value)) {
        throw ApiException.invalidParameter(
            "Duplicate parameter keys have been submitted with different values: '"
                + param.getKey()
                + "'.");
      }
    }
    for (RunTag tag : tags) {
      Validation.required("tags.key", tag.hasKey(), tag.getKey());
      Validation.key("Tag", tag.getKey());
      Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_RUN_TAG_VALUE_LENGTH);
    }
    database.write(
        connection -> {
          RunStore.activeRun(connection, runId);
          writeParams(connection, runId, paramValues);
          writeMetrics(connection, runId, metrics);
          for (RunTag tag : tags) {
            writeTag(connection, runId, tag.getKey(), tag.getValue());
          }
          return null;
        });
  }

  /**
   * A param is write-once: the same value again is a harmless retry, a different value is an error.
   */
  private static void writeParams(Connection connection, String runId, Map<String, String> params)
      throws SQLException {
    if (params.isEmpty()) {
      return;
    }
    Map<String, String> existing = new HashMap<>();
    for (String[] pair :
        Sql.list(
            connection,
            "SELECT key, value FROM params WHERE run_uuid = ?",
            row -> new String[] {row.getString(1), row.getString(2)},
            runId)) {
      existing.put(pair[0], pair[1]);
    }
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)")) {
      for (Map.Entry<String, String> param : params.entrySet()) {
        String old = existing.get(param.getKey());
        if (old == null) {
          Sql.bind(insert, param.getKey(), param.getValue(), runId);
          insert.addBatch();
        } else if (!old.equals(param.getValue())) {
          throw ApiException.invalidParameter(
              "Changing param values is not allowed. Param with key='"
                  + param.getKey()
                  + "' was already logged with value='"
                  + old
                  + "' for run ID='"
                  + runId
                  + "'. Attempted logging new value '"
                  + param.getValue()
                  + "'.");
        }
      }
      insert.executeBatch();
    }
  }

  private record LatestMetric(double value, long timestamp, long step) {
    /** MLflow's latest metric is the maximum of (step, timestamp, value). */
    boolean isAfter(LatestMetric other) {
      if (step != other.step) {
        return step > other.step;
      }
      if (timestamp != other.timestamp) {
        return timestamp > other.timestamp;
      }
      return Double.compare(value, other.value) >= 0;
    }
  }

  private static void writeMetrics(Connection connection, String runId, List<Metric> metrics)
      throws SQLException {
    if (metrics.isEmpty()) {
      return;
    }
    Map<String, LatestMetric> candidates = new HashMap<>();
    // The primary key covers every column, so a retried batch inserts nothing twice.
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)")) {
      for (Metric metric : metrics) {
        double value = metric.getValue();
        boolean isNan = Double.isNaN(value);
        // SQLite turns NaN into NULL; MLflow stores 0 with is_nan set.
        Sql.bind(
            insert,
            metric.getKey(),
            isNan ? 0.0 : value,
            metric.getTimestamp(),
            runId,
            metric.getStep(),
            isNan);
        insert.addBatch();
        LatestMetric candidate = new LatestMetric(value, metric.getTimestamp(), metric.getStep());
        candidates.merge(metric.getKey(), candidate, (a, b) -> b.isAfter(a) ? b : a);
      }
      insert.executeBatch();
    }
    Map<String, LatestMetric> latest = new HashMap<>();
    for (Map.Entry<String, LatestMetric> row :
        Sql.list(
            connection,
            "SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ?",
            row ->
                Map.entry(
                    row.getString(1),
                    new LatestMetric(
                        row.getBoolean(5) ? Double.NaN : row.getDouble(2),
                        row.getLong(3),
                        row.getLong(4))),
            runId)) {
      latest.put(row.getKey(), row.getValue());
    }
    try (PreparedStatement upsert =
        connection.prepareStatement(
            "INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)")) {
      boolean any = false;
      for (Map.Entry<String, LatestMetric> candidate : candidates.entrySet()) {
        LatestMetric current = latest.get(candidate.getKey());
        LatestMetric next = candidate.getValue();
        if (current == null || next.isAfter(current)) {
          boolean isNan = Double.isNaN(next.value());
          Sql.bind(
              upsert,
              candidate.getKey(),
              isNan ? 0.0 : next.value(),
              next.timestamp(),
              next.step(),
              isNan,
              runId);
          upsert.addBatch();
          any = true;
        }
      }
      if (any) {
        upsert.executeBatch();
      }
    }
  }

  void logInputs(String runId, List<DatasetInput> inputs) {
    Validation.runId(runId);
    for (DatasetInput input : inputs) {
      Dataset dataset = input.getDataset();
      Validation.required("datasets.dataset.name", dataset.hasName(), dataset.getName());
      Validation.required("datasets.dataset.digest", dataset.hasDigest(), dataset.getDigest());
      Validation.required(
          "datasets.dataset.source_type", dataset.hasSourceType(), dataset.getSourceType());
      Validation.required("datasets.dataset.source", dataset.hasSource(), dataset.getSource());
      Validation.value("Dataset", "name", dataset.getName(), 500);
      Validation.value("Dataset", "digest", dataset.getDigest(), 36);
      Validation.value("Dataset", "source_type", dataset.getSourceType(), 36);
      for (InputTag tag : input.getTagsList()) {
        Validation.required("datasets.tags.key", tag.hasKey(), tag.getKey());
        Validation.required("datasets.tags.value", tag.hasValue(), tag.getValue());
        Validation.value("Input tag", tag.getKey(), tag.getKey(), 255);
        Validation.value("Input tag", tag.getKey(), tag.getValue(), 500);
      }
    }
    database.write(
        connection -> {
          RunStore.RunRecord run = RunStore.activeRun(connection, runId);
          for (DatasetInput input : inputs) {
            Dataset dataset = input.getDataset();
            String datasetUuid =
                Sql.first(
                        connection,
                        "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
                        row -> row.getString(1),
                        run.experimentId(),
                        dataset.getName(),
                        dataset.getDigest())
                    .orElse(null);
            if (datasetUuid == null) {
              datasetUuid = UUID.randomUUID().toString().replace("-", "");
              Sql.update(
                  connection,
                  "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type,"
                      + " dataset_source, dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  datasetUuid,
                  run.experimentId(),
                  dataset.getName(),
                  dataset.getDigest(),
                  dataset.getSourceType(),
                  dataset.getSource(),
                  dataset.hasSchema() ? dataset.getSchema() : null,
                  dataset.hasProfile() ? dataset.getProfile() : null);
            }
            String inputUuid =
                Sql.first(
                        connection,
                        "SELECT input_uuid FROM inputs WHERE source_type = 'DATASET'"
                            + " AND source_id = ? AND destination_type = 'RUN' AND destination_id = ?",
                        row -> row.getString(1),
                        datasetUuid,
                        runId)
                    .orElse(null);
            if (inputUuid == null) {
              inputUuid = UUID.randomUUID().toString().replace("-", "");
              Sql.update(
                  connection,
                  "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id)"
                      + " VALUES (?, 'DATASET', ?, 'RUN', ?)",
                  inputUuid,
                  datasetUuid,
                  runId);
            }
            for (InputTag tag : input.getTagsList()) {
              Sql.update(
                  connection,
                  "INSERT OR REPLACE INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?)",
                  inputUuid,
                  tag.getKey(),
                  tag.getValue());
            }
          }
          return null;
        });
  }

  GetMetricHistory.Response metricHistory(GetMetricHistory request) {
    String runId =
        Validation.runId(
            Validation.required(
                "run_id",
                request.hasRunId() || request.hasRunUuid(),
                request.hasRunId() ? request.getRunId() : request.getRunUuid()));
    String key = Validation.required("metric_key", request.hasMetricKey(), request.getMetricKey());
    int maxResults =
        PageToken.maxResults(
            request.hasMaxResults(),
            request.getMaxResults(),
            METRIC_HISTORY_LIMIT,
            METRIC_HISTORY_LIMIT);
    int offset = PageToken.offset(request.getPageToken());
    // The official Java client 2.17.2 always asks for max_results=25000 and crashes on a
    // next_page_token
    // (it appends to the response's read-only list); MLflow 2.17's server never paged this
    // endpoint. A
    // first request for the largest page therefore gets the whole history and no token: more than
    // asked,
    // and complete, which a paging client (MLflow 3's Python client) reads just as well.
    boolean paged = request.hasMaxResults() && !(offset == 0 && maxResults == METRIC_HISTORY_LIMIT);
    return database.read(
        connection -> {
          RunStore.runRecord(connection, runId);
          String sql =
              "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ?"
                  + " ORDER BY timestamp, step, value"
                  + (paged || offset > 0 ? " LIMIT ? OFFSET ?" : "");
          Object[] args =
              paged || offset > 0
                  ? new Object[] {runId, key, maxResults + 1, offset}
                  : new Object[] {runId, key};
          List<Metric> metrics = Sql.list(connection, sql, RunLoader::metricRow, args);
          GetMetricHistory.Response.Builder response = GetMetricHistory.Response.newBuilder();
          response.addAllMetrics(
              metrics.subList(
                  0, Math.min(metrics.size(), paged || offset > 0 ? maxResults : metrics.size())));
          if ((paged || offset > 0) && metrics.size() > maxResults) {
            response.setNextPageToken(PageToken.forOffset(offset + maxResults));
          }
          return response.build();
        });
  }
}
