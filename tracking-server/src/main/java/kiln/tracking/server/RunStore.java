package kiln.tracking.server;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;
import kiln.tracking.server.SearchFilter.Kind;
import kiln.tracking.server.SearchQuery.Comparison;
import kiln.tracking.server.SearchQuery.Sort;
import kiln.tracking.server.SearchQuery.Target;
import org.mlflow.api.proto.Service.CreateRun;
import org.mlflow.api.proto.Service.Experiment;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunInfo;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.SearchRuns;
import org.mlflow.api.proto.Service.UpdateRun;
import org.mlflow.api.proto.Service.ViewType;

/**
 * Runs: their creation, status, lifecycle and search. What a run logs is {@link RunDataStore}'s.
 */
final class RunStore {
  static final String RUN_NAME_TAG = "mlflow.runName";
  static final String DATASET_CONTEXT_TAG = "mlflow.data.context";

  private static final int SEARCH_RUNS_DEFAULT = 1000;
  private static final int SEARCH_RUNS_LIMIT = 50_000;

  private static final String RUN_DATASETS =
      "r.run_uuid IN (SELECT i.destination_id FROM inputs i JOIN datasets d"
          + " ON d.dataset_uuid = i.source_id WHERE i.destination_type = 'RUN' AND %s)";

  private static final SearchQuery.Fields SEARCH_FIELDS =
      new SearchQuery.Fields("runs", "SELECT r.run_uuid FROM runs r")
          .filter(Kind.ATTRIBUTE, "run_id", Target.column("r.run_uuid", Comparison.ID))
          .filter(Kind.ATTRIBUTE, "run_name", Target.column("r.name", Comparison.TEXT), "run name")
          .filter(Kind.ATTRIBUTE, "status", Target.column("r.status", Comparison.TEXT))
          .filter(Kind.ATTRIBUTE, "user_id", Target.column("r.user_id", Comparison.TEXT))
          .filter(Kind.ATTRIBUTE, "artifact_uri", Target.column("r.artifact_uri", Comparison.TEXT))
          .filter(
              Kind.ATTRIBUTE,
              "lifecycle_stage",
              Target.column("r.lifecycle_stage", Comparison.TEXT))
          .filter(
              Kind.ATTRIBUTE,
              "start_time",
              Target.column("r.start_time", Comparison.NUMBER),
              "created")
          .filter(Kind.ATTRIBUTE, "end_time", Target.column("r.end_time", Comparison.NUMBER))
          // latest_metrics keeps NaN as 0 with is_nan set: a NaN matches no comparison, as in
          // MLflow
          .filterAnyKey(
              Kind.METRIC,
              Target.byKey(
                  "r.run_uuid IN (SELECT run_uuid FROM latest_metrics WHERE key = ?"
                      + " AND is_nan = 0 AND %s)",
                  "value", Comparison.NUMBER))
          .filterAnyKey(
              Kind.PARAM,
              Target.byKey(
                  "r.run_uuid IN (SELECT run_uuid FROM params WHERE key = ? AND %s)",
                  "value", Comparison.TEXT))
          .filterAnyKey(
              Kind.TAG,
              Target.byKey(
                  "r.run_uuid IN (SELECT run_uuid FROM tags WHERE key = ? AND %s)",
                  "value", Comparison.TEXT))
          .filter(Kind.DATASET, "name", Target.within(RUN_DATASETS, "d.name", Comparison.TEXT))
          .filter(Kind.DATASET, "digest", Target.within(RUN_DATASETS, "d.digest", Comparison.TEXT))
          .filter(
              Kind.DATASET,
              "context",
              new Target(
                  "r.run_uuid IN (SELECT i.destination_id FROM inputs i JOIN input_tags t"
                      + " ON t.input_uuid = i.input_uuid WHERE i.destination_type = 'RUN' AND t.name = ? AND %s)",
                  "t.value", Comparison.TEXT, false, List.of(DATASET_CONTEXT_TAG)))
          .order("start_time", Sort.missingLast("r.start_time"), "created")
          .order("end_time", Sort.missingLast("r.end_time"))
          .order("run_name", Sort.missingLast("r.name"), "run name")
          .order("status", Sort.missingLast("r.status"))
          .order("user_id", Sort.missingLast("r.user_id"))
          .order("artifact_uri", Sort.missingLast("r.artifact_uri"))
          .order("lifecycle_stage", Sort.missingLast("r.lifecycle_stage"))
          .order("run_id", Sort.missingLast("r.run_uuid"))
          // missing metrics sort last, then NaN, whatever the direction, as in MLflow
          .orderAnyKey(
              Kind.METRIC,
              new Sort(
                  List.of(
                      "COALESCE((SELECT m.is_nan FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?), 2)"),
                  "(SELECT m.value FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?)",
                  true))
          .orderAnyKey(Kind.PARAM, keyedValueLast("params"))
          .orderAnyKey(Kind.TAG, keyedValueLast("tags"))
          .thenBy("r.start_time DESC", "r.run_uuid ASC");

  private static final List<String> NAME_ADJECTIVES =
      List.of(
          "amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "gentle", "glowing", "keen",
          "lucid", "mellow", "nimble", "quiet", "rapid", "serene", "steady", "sunny", "tidy",
          "vivid");
  private static final List<String> NAME_NOUNS =
      List.of(
          "anvil", "badger", "brick", "cedar", "comet", "ember", "falcon", "forge", "heron", "kiln",
          "lynx", "maple", "otter", "pebble", "quartz", "raven", "spark", "tern", "willow", "wren");

  private final Database database;
  private final LongSupplier clock;
  private final SecureRandom random = new SecureRandom();

  RunStore(Database database, LongSupplier clock) {
    this.database = database;
    this.clock = clock;
  }

  private static Sort keyedValueLast(String table) {
    String value =
        "(SELECT x.value FROM " + table + " x WHERE x.run_uuid = r.run_uuid AND x.key = ?)";
    return new Sort(List.of(value + " IS NULL"), value, true);
  }

  Run createRun(CreateRun request) {
    String experimentId =
        request.hasExperimentId() && !request.getExperimentId().isEmpty()
            ? request.getExperimentId()
            : "0";
    long expId = Validation.experimentId(experimentId);
    for (RunTag tag : request.getTagsList()) {
      Validation.key("Tag", tag.getKey());
      Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_RUN_TAG_VALUE_LENGTH);
    }
    String tagName =
        request.getTagsList().stream()
            .filter(t -> t.getKey().equals(RUN_NAME_TAG))
            .map(RunTag::getValue)
            .findFirst()
            .orElse(null);
    String requestedName =
        request.hasRunName() && !request.getRunName().isEmpty() ? request.getRunName() : null;
    if (requestedName != null && tagName != null && !requestedName.equals(tagName)) {
      throw ApiException.invalidParameter(
          "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with"
              + " different values (run_name='"
              + requestedName
              + "', mlflow.runName='"
              + tagName
              + "').");
    }
    String runName =
        requestedName != null ? requestedName : tagName != null ? tagName : randomName();
    Validation.value("Run name", "run_name", runName, Validation.MAX_KEY_LENGTH);
    String runId = UUID.randomUUID().toString().replace("-", "");
    return database.write(
        connection -> {
          Experiment experiment = ExperimentStore.experiment(connection, expId);
          ExperimentStore.requireActive(experiment);
          long start = request.hasStartTime() ? request.getStartTime() : clock.getAsLong();
          String artifactUri = experiment.getArtifactLocation() + "/" + runId + "/artifacts";
          Sql.update(
              connection,
              "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
                  + " status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)"
                  + " VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)",
              runId,
              runName,
              request.getUserId(),
              start,
              artifactUri,
              expId);
          for (RunTag tag : request.getTagsList()) {
            Sql.update(
                connection,
                "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                tag.getKey(),
                tag.getValue(),
                runId);
          }
          Sql.update(
              connection,
              "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
              RUN_NAME_TAG,
              runName,
              runId);
          return RunLoader.load(connection, List.of(runId)).get(0);
        });
  }

  private String randomName() {
    return NAME_ADJECTIVES.get(random.nextInt(NAME_ADJECTIVES.size()))
        + "-"
        + NAME_NOUNS.get(random.nextInt(NAME_NOUNS.size()))
        + "-"
        + random.nextInt(1000);
  }

  Run run(String runId) {
    Validation.runId(runId);
    return database.read(
        connection -> {
          List<Run> runs = RunLoader.load(connection, List.of(runId));
          if (runs.isEmpty()) {
            throw runNotFound(runId);
          }
          return runs.get(0);
        });
  }

  private static ApiException runNotFound(String runId) {
    return ApiException.notFound("Run with id=" + runId + " not found");
  }

  /** The run's experiment id and lifecycle stage, or RESOURCE_DOES_NOT_EXIST. */
  record RunRecord(String runId, long experimentId, String lifecycleStage, String artifactUri) {}

  RunRecord runRecord(String runId) {
    Validation.runId(runId);
    return database.read(connection -> runRecord(connection, runId));
  }

  static RunRecord runRecord(Connection connection, String runId) throws SQLException {
    return Sql.first(
            connection,
            "SELECT experiment_id, lifecycle_stage, artifact_uri FROM runs WHERE run_uuid = ?",
            row -> new RunRecord(runId, row.getLong(1), row.getString(2), row.getString(3)),
            runId)
        .orElseThrow(() -> runNotFound(runId));
  }

  /** The run, which must be active to be changed. */
  static RunRecord activeRun(Connection connection, String runId) throws SQLException {
    RunRecord run = runRecord(connection, runId);
    if (!run.lifecycleStage().equals(ExperimentStore.ACTIVE)) {
      throw ApiException.invalidParameter(
          "The run "
              + runId
              + " must be in the 'active' state. Current state is "
              + run.lifecycleStage()
              + ".");
    }
    return run;
  }

  RunInfo updateRun(UpdateRun request) {
    String runId =
        Validation.runId(
            Validation.required(
                "run_id",
                request.hasRunId() || request.hasRunUuid(),
                request.hasRunId() ? request.getRunId() : request.getRunUuid()));
    if (request.hasRunName()) {
      Validation.value("Run name", "run_name", request.getRunName(), Validation.MAX_KEY_LENGTH);
    }
    return database.write(
        connection -> {
          activeRun(connection, runId);
          if (request.hasStatus()) {
            Sql.update(
                connection,
                "UPDATE runs SET status = ? WHERE run_uuid = ?",
                request.getStatus().name(),
                runId);
          }
          if (request.hasEndTime()) {
            Sql.update(
                connection,
                "UPDATE runs SET end_time = ? WHERE run_uuid = ?",
                request.getEndTime(),
                runId);
          }
          if (request.hasRunName() && !request.getRunName().isEmpty()) {
            Sql.update(
                connection,
                "UPDATE runs SET name = ? WHERE run_uuid = ?",
                request.getRunName(),
                runId);
            Sql.update(
                connection,
                "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                RUN_NAME_TAG,
                request.getRunName(),
                runId);
          }
          return RunLoader.load(connection, List.of(runId)).get(0).getInfo();
        });
  }

  void deleteRun(String runId) {
    Validation.runId(runId);
    database.write(
        connection -> {
          runRecord(connection, runId);
          Sql.update(
              connection,
              "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?",
              clock.getAsLong(),
              runId);
          return null;
        });
  }

  void restoreRun(String runId) {
    Validation.runId(runId);
    database.write(
        connection -> {
          runRecord(connection, runId);
          Sql.update(
              connection,
              "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?",
              runId);
          return null;
        });
  }

  SearchRuns.Response searchRuns(SearchRuns request) {
    int maxResults =
        PageToken.maxResults(
            request.hasMaxResults(),
            request.getMaxResults(),
            SEARCH_RUNS_DEFAULT,
            SEARCH_RUNS_LIMIT);
    int offset = PageToken.offset(request.getPageToken());
    List<Long> experimentIds = new ArrayList<>();
    for (String id : request.getExperimentIdsList()) {
      experimentIds.add(Validation.experimentId(id));
    }
    if (experimentIds.isEmpty()) {
      return SearchRuns.Response.getDefaultInstance();
    }
    SearchQuery query =
        new SearchQuery(SEARCH_FIELDS)
            .where(
                "r.experiment_id IN (" + Sql.placeholders(experimentIds) + ")",
                experimentIds.toArray())
            .where(
                "r.lifecycle_stage IN ("
                    + ExperimentStore.lifecycleStages(
                        request.hasRunViewType() ? request.getRunViewType() : ViewType.ACTIVE_ONLY)
                    + ")")
            .filter(request.getFilter())
            .orderBy(request.getOrderByList());
    return database.read(
        connection -> {
          SearchQuery.Page<String> ids =
              query.page(connection, row -> row.getString(1), maxResults, offset);
          SearchRuns.Response.Builder response = SearchRuns.Response.newBuilder();
          response.addAllRuns(RunLoader.load(connection, ids.items()));
          if (ids.nextPageToken() != null) {
            response.setNextPageToken(ids.nextPageToken());
          }
          return response.build();
        });
  }
}
