package kiln.tracking.server;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mlflow.api.proto.Service.Dataset;
import org.mlflow.api.proto.Service.DatasetInput;
import org.mlflow.api.proto.Service.InputTag;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunData;
import org.mlflow.api.proto.Service.RunInfo;
import org.mlflow.api.proto.Service.RunInputs;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.api.proto.Service.RunTag;

/** Reads whole runs (info, metrics, params, tags, dataset inputs) from MLflow's tables. */
final class RunLoader {
  private RunLoader() {}

  /**
   * Loads whole runs in the order of the ids given, with a fixed number of queries whatever their
   * count.
   */
  static List<Run> load(Connection connection, List<String> runIds) throws SQLException {
    if (runIds.isEmpty()) {
      return List.of();
    }
    String in = Sql.placeholders(runIds);
    Object[] ids = runIds.toArray();
    Map<String, RunInfo> infos = new HashMap<>();
    for (RunInfo info :
        Sql.list(
            connection,
            "SELECT * FROM runs WHERE run_uuid IN (" + in + ")",
            RunLoader::runInfoRow,
            ids)) {
      infos.put(info.getRunId(), info);
    }
    Map<String, RunData.Builder> data = new HashMap<>();
    Map<String, RunInputs.Builder> inputs = new HashMap<>();
    for (String id : runIds) {
      data.put(id, RunData.newBuilder());
      inputs.put(id, RunInputs.newBuilder());
    }
    for (ResultRow row :
        Sql.list(
            connection,
            "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics"
                + " WHERE run_uuid IN ("
                + in
                + ") ORDER BY key",
            r -> new ResultRow(r.getString(1), metricRow(r)),
            ids)) {
      data.get(row.runId()).addMetrics((Metric) row.value());
    }
    for (ResultRow row :
        Sql.list(
            connection,
            "SELECT run_uuid, key, value FROM params WHERE run_uuid IN (" + in + ") ORDER BY key",
            r ->
                new ResultRow(
                    r.getString(1),
                    Param.newBuilder().setKey(r.getString(2)).setValue(r.getString(3)).build()),
            ids)) {
      data.get(row.runId()).addParams((Param) row.value());
    }
    for (ResultRow row :
        Sql.list(
            connection,
            "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (" + in + ") ORDER BY key",
            r -> {
              RunTag.Builder tag = RunTag.newBuilder().setKey(r.getString(2));
              String value = r.getString(3);
              if (value != null) {
                tag.setValue(value);
              }
              return new ResultRow(r.getString(1), tag.build());
            },
            ids)) {
      data.get(row.runId()).addTags((RunTag) row.value());
    }
    Map<String, List<InputTag>> inputTags = new HashMap<>();
    List<Object[]> datasetRows =
        Sql.list(
            connection,
            "SELECT i.destination_id, i.input_uuid, d.name, d.digest,"
                + " d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile"
                + " FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id"
                + " WHERE i.destination_type = 'RUN' AND i.destination_id IN ("
                + in
                + ") ORDER BY d.name, d.digest",
            r -> {
              Dataset.Builder dataset =
                  Dataset.newBuilder()
                      .setName(r.getString(3))
                      .setDigest(r.getString(4))
                      .setSourceType(r.getString(5))
                      .setSource(r.getString(6));
              if (r.getString(7) != null) {
                dataset.setSchema(r.getString(7));
              }
              if (r.getString(8) != null) {
                dataset.setProfile(r.getString(8));
              }
              return new Object[] {r.getString(1), r.getString(2), dataset.build()};
            },
            ids);
    if (!datasetRows.isEmpty()) {
      List<Object> inputIds = new ArrayList<>();
      for (Object[] row : datasetRows) {
        inputIds.add(row[1]);
      }
      for (Object[] tag :
          Sql.list(
              connection,
              "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN ("
                  + Sql.placeholders(inputIds)
                  + ") ORDER BY name",
              r ->
                  new Object[] {
                    r.getString(1),
                    InputTag.newBuilder().setKey(r.getString(2)).setValue(r.getString(3)).build()
                  },
              inputIds.toArray())) {
        inputTags.computeIfAbsent((String) tag[0], k -> new ArrayList<>()).add((InputTag) tag[1]);
      }
      for (Object[] row : datasetRows) {
        inputs
            .get((String) row[0])
            .addDatasetInputs(
                DatasetInput.newBuilder()
                    .setDataset((Dataset) row[2])
                    .addAllTags(inputTags.getOrDefault((String) row[1], List.of())));
      }
    }
    List<Run> runs = new ArrayList<>();
    for (String id : runIds) {
      RunInfo info = infos.get(id);
      if (info != null) {
        runs.add(
            Run.newBuilder().setInfo(info).setData(data.get(id)).setInputs(inputs.get(id)).build());
      }
    }
    return runs;
  }

  private record ResultRow(String runId, Object value) {}

  private static RunInfo runInfoRow(ResultSet row) throws SQLException {
    String runId = row.getString("run_uuid");
    RunInfo.Builder info =
        RunInfo.newBuilder()
            .setRunId(runId)
            .setRunUuid(runId)
            .setExperimentId(Long.toString(row.getLong("experiment_id")))
            .setLifecycleStage(row.getString("lifecycle_stage"));
    setIfPresent(row.getString("name"), info::setRunName);
    setIfPresent(row.getString("user_id"), info::setUserId);
    setIfPresent(row.getString("artifact_uri"), info::setArtifactUri);
    String status = row.getString("status");
    if (status != null) {
      info.setStatus(RunStatus.valueOf(status));
    }
    Sql.ifPresent(row, "start_time", info::setStartTime);
    Sql.ifPresent(row, "end_time", info::setEndTime);
    return info.build();
  }

  private static void setIfPresent(String value, java.util.function.Consumer<String> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }

  static Metric metricRow(ResultSet row) throws SQLException {
    return Metric.newBuilder()
        .setKey(row.getString("key"))
        .setValue(row.getBoolean("is_nan") ? Double.NaN : row.getDouble("value"))
        .setTimestamp(row.getLong("timestamp"))
        .setStep(row.getLong("step"))
        .build();
  }
}
