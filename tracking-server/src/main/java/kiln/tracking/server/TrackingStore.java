package kiln.tracking.server;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.mlflow.api.proto.Service.CreateExperiment;
import org.mlflow.api.proto.Service.CreateRun;
import org.mlflow.api.proto.Service.Dataset;
import org.mlflow.api.proto.Service.DatasetInput;
import org.mlflow.api.proto.Service.Experiment;
import org.mlflow.api.proto.Service.ExperimentTag;
import org.mlflow.api.proto.Service.GetMetricHistory;
import org.mlflow.api.proto.Service.InputTag;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunData;
import org.mlflow.api.proto.Service.RunInfo;
import org.mlflow.api.proto.Service.RunInputs;
import org.mlflow.api.proto.Service.RunStatus;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.SearchExperiments;
import org.mlflow.api.proto.Service.SearchRuns;
import org.mlflow.api.proto.Service.UpdateRun;
import org.mlflow.api.proto.Service.ViewType;

/** Experiments, runs, metrics, params, tags and dataset inputs, stored as MLflow's SqlAlchemyStore stores them. */
final class TrackingStore {
    static final String ACTIVE = "active";
    static final String DELETED = "deleted";
    static final String RUN_NAME_TAG = "mlflow.runName";
    private static final String DATASET_CONTEXT_TAG = "mlflow.data.context";

    private static final int SEARCH_RUNS_DEFAULT = 1000;
    private static final int SEARCH_RUNS_LIMIT = 50_000;
    private static final int SEARCH_EXPERIMENTS_DEFAULT = 1000;
    private static final int SEARCH_EXPERIMENTS_LIMIT = 50_000;
    private static final int METRIC_HISTORY_LIMIT = 25_000;

    private static final List<String> NAME_ADJECTIVES = List.of(
            "amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "gentle", "glowing", "keen",
            "lucid", "mellow", "nimble", "quiet", "rapid", "serene", "steady", "sunny", "tidy", "vivid");
    private static final List<String> NAME_NOUNS = List.of(
            "anvil", "badger", "brick", "cedar", "comet", "ember", "falcon", "forge", "heron", "kiln",
            "lynx", "maple", "otter", "pebble", "quartz", "raven", "spark", "tern", "willow", "wren");

    private final Database database;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();

    TrackingStore(Database database, LongSupplier clock) {
        this.database = database;
        this.clock = clock;
    }

    static String experimentArtifactLocation(String experimentId) {
        return "mlflow-artifacts:/" + experimentId;
    }

    // ---- experiments ----

    String createExperiment(CreateExperiment request) {
        String name = Validation.required("name", request.hasName(), request.getName()).strip();
        if (name.isEmpty()) {
            throw ApiException.invalidParameter("Invalid experiment name: it must not be blank.");
        }
        if (name.length() > Validation.MAX_EXPERIMENT_NAME_LENGTH) {
            throw ApiException.invalidParameter("Experiment name is " + name.length() + " characters long; the limit is "
                    + Validation.MAX_EXPERIMENT_NAME_LENGTH + ".");
        }
        for (ExperimentTag tag : request.getTagsList()) {
            Validation.key("Tag", tag.getKey());
            Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_TAG_VALUE_LENGTH);
        }
        return database.write(connection -> {
            if (Sql.first(connection, "SELECT 1 FROM experiments WHERE name = ?", row -> 1, name).isPresent()) {
                throw ApiException.alreadyExists("Experiment '" + name + "' already exists.");
            }
            long now = clock.getAsLong();
            long id = Sql.first(connection, "SELECT COALESCE(MAX(experiment_id), -1) + 1 FROM experiments",
                    row -> row.getLong(1)).orElseThrow();
            String location = request.hasArtifactLocation() && !request.getArtifactLocation().isEmpty()
                    ? request.getArtifactLocation()
                    : experimentArtifactLocation(Long.toString(id));
            Sql.update(connection, "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                    + " creation_time, last_update_time) VALUES (?, ?, ?, 'active', ?, ?)", id, name, location, now, now);
            for (ExperimentTag tag : request.getTagsList()) {
                Sql.update(connection, "INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
                        tag.getKey(), tag.getValue(), id);
            }
            return Long.toString(id);
        });
    }

    Experiment experiment(String experimentId) {
        long id = Validation.experimentId(experimentId);
        return database.read(connection -> experiment(connection, id));
    }

    Experiment experimentByName(String name) {
        return database.read(connection -> {
            long id = Sql.first(connection, "SELECT experiment_id FROM experiments WHERE name = ?", row -> row.getLong(1), name)
                    .orElseThrow(() -> ApiException.notFound("Could not find experiment with name '" + name + "'"));
            return experiment(connection, id);
        });
    }

    private Experiment experiment(Connection connection, long id) throws SQLException {
        Experiment.Builder experiment = Sql.first(connection, "SELECT * FROM experiments WHERE experiment_id = ?",
                TrackingStore::experimentRow, id)
                .orElseThrow(() -> ApiException.notFound("No Experiment with id=" + id + " exists"));
        for (ExperimentTag tag : Sql.list(connection, "SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key",
                row -> tag(row.getString(1), row.getString(2)), id)) {
            experiment.addTags(tag);
        }
        return experiment.build();
    }

    private static ExperimentTag tag(String key, String value) {
        ExperimentTag.Builder tag = ExperimentTag.newBuilder().setKey(key);
        if (value != null) {
            tag.setValue(value);
        }
        return tag.build();
    }

    private static Experiment.Builder experimentRow(ResultSet row) throws SQLException {
        Experiment.Builder experiment = Experiment.newBuilder()
                .setExperimentId(Long.toString(row.getLong("experiment_id")))
                .setName(row.getString("name"))
                .setLifecycleStage(row.getString("lifecycle_stage"));
        String location = row.getString("artifact_location");
        if (location != null) {
            experiment.setArtifactLocation(location);
        }
        Long created = Sql.nullableLong(row, "creation_time");
        if (created != null) {
            experiment.setCreationTime(created);
        }
        Long updated = Sql.nullableLong(row, "last_update_time");
        if (updated != null) {
            experiment.setLastUpdateTime(updated);
        }
        return experiment;
    }

    SearchExperiments.Response searchExperiments(SearchExperiments request) {
        int maxResults = PageToken.maxResults(request.hasMaxResults(), request.getMaxResults(),
                SEARCH_EXPERIMENTS_DEFAULT, SEARCH_EXPERIMENTS_LIMIT);
        int offset = PageToken.offset(request.getPageToken());
        List<Object> args = new ArrayList<>();
        StringBuilder sql = new StringBuilder("SELECT e.experiment_id FROM experiments e WHERE e.lifecycle_stage IN (")
                .append(lifecycleStages(request.hasViewType() ? request.getViewType() : ViewType.ACTIVE_ONLY)).append(')');
        for (SearchFilter.Clause clause : SearchFilter.parse(request.getFilter())) {
            sql.append(" AND ");
            switch (clause.kind()) {
                case TAG -> {
                    sql.append("e.experiment_id IN (SELECT experiment_id FROM experiment_tags WHERE key = ? AND ")
                            .append(stringComparison("value", clause, args, clause.key())).append(')');
                }
                case ATTRIBUTE -> {
                    switch (clause.key().toLowerCase(Locale.ROOT)) {
                        case "name" -> sql.append(stringComparison("e.name", clause, args));
                        case "creation_time" -> sql.append(numberComparison("e.creation_time", clause, args));
                        case "last_update_time" -> sql.append(numberComparison("e.last_update_time", clause, args));
                        default -> throw ApiException.invalidParameter("Invalid attribute key '" + clause.key()
                                + "' in experiment search. Valid keys are name, creation_time, last_update_time.");
                    }
                }
                default -> throw ApiException.invalidParameter("Invalid search expression: experiments can be"
                        + " filtered by attributes and tags, not by " + clause.describe() + ".");
            }
        }
        List<String> orders = new ArrayList<>();
        for (String orderBy : request.getOrderByList()) {
            SearchFilter.Order order = SearchFilter.parseOrder(orderBy);
            if (order.identifier().kind() != SearchFilter.Kind.ATTRIBUTE) {
                throw ApiException.invalidParameter("Invalid order_by clause '" + orderBy
                        + "': experiments can be ordered by name, experiment_id, creation_time or last_update_time.");
            }
            String column = switch (order.identifier().key().toLowerCase(Locale.ROOT)) {
                case "name" -> "e.name";
                case "experiment_id" -> "e.experiment_id";
                case "creation_time" -> "e.creation_time";
                case "last_update_time" -> "e.last_update_time";
                default -> throw ApiException.invalidParameter("Invalid order_by clause '" + orderBy
                        + "': experiments can be ordered by name, experiment_id, creation_time or last_update_time.");
            };
            orders.add(column + (order.ascending() ? " ASC" : " DESC"));
        }
        orders.add("e.creation_time DESC");
        orders.add("e.experiment_id ASC");
        sql.append(" ORDER BY ").append(String.join(", ", orders)).append(" LIMIT ? OFFSET ?");
        args.add(maxResults + 1);
        args.add(offset);
        return database.read(connection -> {
            List<Long> ids = Sql.list(connection, sql.toString(), row -> row.getLong(1), args.toArray());
            SearchExperiments.Response.Builder response = SearchExperiments.Response.newBuilder();
            for (Long id : ids.subList(0, Math.min(maxResults, ids.size()))) {
                response.addExperiments(experiment(connection, id));
            }
            if (ids.size() > maxResults) {
                response.setNextPageToken(PageToken.forOffset(offset + maxResults));
            }
            return response.build();
        });
    }

    void renameExperiment(String experimentId, String newName) {
        long id = Validation.experimentId(experimentId);
        String name = newName.strip();
        if (name.isEmpty()) {
            throw ApiException.invalidParameter("Invalid experiment name: it must not be blank.");
        }
        database.write(connection -> {
            Experiment experiment = experiment(connection, id);
            requireActive(experiment);
            if (!experiment.getName().equals(name)
                    && Sql.first(connection, "SELECT 1 FROM experiments WHERE name = ?", row -> 1, name).isPresent()) {
                throw ApiException.alreadyExists("Experiment '" + name + "' already exists.");
            }
            Sql.update(connection, "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                    name, clock.getAsLong(), id);
            return null;
        });
    }

    /** Like MLflow, deleting an experiment also deletes its runs, and restoring restores them. */
    void deleteExperiment(String experimentId) {
        long id = Validation.experimentId(experimentId);
        if (id == 0) {
            throw ApiException.invalidParameter("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
        }
        database.write(connection -> {
            experiment(connection, id);
            long now = clock.getAsLong();
            Sql.update(connection, "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?",
                    now, id);
            Sql.update(connection, "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?"
                    + " WHERE experiment_id = ? AND lifecycle_stage = 'active'", now, id);
            return null;
        });
    }

    void restoreExperiment(String experimentId) {
        long id = Validation.experimentId(experimentId);
        database.write(connection -> {
            Experiment experiment = experiment(connection, id);
            if (!experiment.getLifecycleStage().equals(DELETED)) {
                throw ApiException.invalidParameter("Cannot restore an active experiment. Experiment id " + id + " is active.");
            }
            Sql.update(connection, "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?",
                    clock.getAsLong(), id);
            Sql.update(connection, "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL"
                    + " WHERE experiment_id = ? AND lifecycle_stage = 'deleted'", id);
            return null;
        });
    }

    void setExperimentTag(String experimentId, String key, String value) {
        long id = Validation.experimentId(experimentId);
        Validation.key("Tag", key);
        Validation.value("Tag", key, value, Validation.MAX_TAG_VALUE_LENGTH);
        database.write(connection -> {
            requireActive(experiment(connection, id));
            Sql.update(connection, "INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
                    key, value, id);
            return null;
        });
    }

    private static void requireActive(Experiment experiment) {
        if (!experiment.getLifecycleStage().equals(ACTIVE)) {
            throw ApiException.invalidParameter("The experiment " + experiment.getExperimentId()
                    + " must be in the 'active' state. Current state is " + experiment.getLifecycleStage() + ".");
        }
    }

    // ---- runs ----

    Run createRun(CreateRun request) {
        String experimentId = request.hasExperimentId() && !request.getExperimentId().isEmpty()
                ? request.getExperimentId() : "0";
        long expId = Validation.experimentId(experimentId);
        for (RunTag tag : request.getTagsList()) {
            Validation.key("Tag", tag.getKey());
            Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_RUN_TAG_VALUE_LENGTH);
        }
        String tagName = request.getTagsList().stream().filter(t -> t.getKey().equals(RUN_NAME_TAG))
                .map(RunTag::getValue).findFirst().orElse(null);
        String requestedName = request.hasRunName() && !request.getRunName().isEmpty() ? request.getRunName() : null;
        if (requestedName != null && tagName != null && !requestedName.equals(tagName)) {
            throw ApiException.invalidParameter("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with"
                    + " different values (run_name='" + requestedName + "', mlflow.runName='" + tagName + "').");
        }
        String runName = requestedName != null ? requestedName : tagName != null ? tagName : randomName();
        Validation.value("Run name", "run_name", runName, Validation.MAX_KEY_LENGTH);
        String runId = UUID.randomUUID().toString().replace("-", "");
        return database.write(connection -> {
            Experiment experiment = experiment(connection, expId);
            requireActive(experiment);
            long start = request.hasStartTime() ? request.getStartTime() : clock.getAsLong();
            String artifactUri = experiment.getArtifactLocation() + "/" + runId + "/artifacts";
            Sql.update(connection, "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
                    + " status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)"
                    + " VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)",
                    runId, runName, request.getUserId(), start, artifactUri, expId);
            for (RunTag tag : request.getTagsList()) {
                Sql.update(connection, "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                        tag.getKey(), tag.getValue(), runId);
            }
            Sql.update(connection, "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                    RUN_NAME_TAG, runName, runId);
            return runs(connection, List.of(runId)).get(0);
        });
    }

    private String randomName() {
        return NAME_ADJECTIVES.get(random.nextInt(NAME_ADJECTIVES.size())) + "-"
                + NAME_NOUNS.get(random.nextInt(NAME_NOUNS.size())) + "-" + random.nextInt(1000);
    }

    Run run(String runId) {
        Validation.runId(runId);
        return database.read(connection -> {
            List<Run> runs = runs(connection, List.of(runId));
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

    private static RunRecord runRecord(Connection connection, String runId) throws SQLException {
        return Sql.first(connection, "SELECT experiment_id, lifecycle_stage, artifact_uri FROM runs WHERE run_uuid = ?",
                row -> new RunRecord(runId, row.getLong(1), row.getString(2), row.getString(3)), runId)
                .orElseThrow(() -> runNotFound(runId));
    }

    private static RunRecord activeRun(Connection connection, String runId) throws SQLException {
        RunRecord run = runRecord(connection, runId);
        if (!run.lifecycleStage().equals(ACTIVE)) {
            throw ApiException.invalidParameter("The run " + runId + " must be in the 'active' state. Current state is "
                    + run.lifecycleStage() + ".");
        }
        return run;
    }

    RunInfo updateRun(UpdateRun request) {
        String runId = Validation.runId(Validation.required("run_id",
                request.hasRunId() || request.hasRunUuid(), request.hasRunId() ? request.getRunId() : request.getRunUuid()));
        if (request.hasRunName()) {
            Validation.value("Run name", "run_name", request.getRunName(), Validation.MAX_KEY_LENGTH);
        }
        return database.write(connection -> {
            activeRun(connection, runId);
            if (request.hasStatus()) {
                Sql.update(connection, "UPDATE runs SET status = ? WHERE run_uuid = ?", request.getStatus().name(), runId);
            }
            if (request.hasEndTime()) {
                Sql.update(connection, "UPDATE runs SET end_time = ? WHERE run_uuid = ?", request.getEndTime(), runId);
            }
            if (request.hasRunName() && !request.getRunName().isEmpty()) {
                Sql.update(connection, "UPDATE runs SET name = ? WHERE run_uuid = ?", request.getRunName(), runId);
                Sql.update(connection, "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                        RUN_NAME_TAG, request.getRunName(), runId);
            }
            return runs(connection, List.of(runId)).get(0).getInfo();
        });
    }

    void deleteRun(String runId) {
        Validation.runId(runId);
        database.write(connection -> {
            runRecord(connection, runId);
            Sql.update(connection, "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?",
                    clock.getAsLong(), runId);
            return null;
        });
    }

    void restoreRun(String runId) {
        Validation.runId(runId);
        database.write(connection -> {
            runRecord(connection, runId);
            Sql.update(connection, "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?", runId);
            return null;
        });
    }

    void setTag(String runId, String key, String value) {
        Validation.runId(runId);
        Validation.key("Tag", key);
        Validation.value("Tag", key, value, Validation.MAX_RUN_TAG_VALUE_LENGTH);
        database.write(connection -> {
            activeRun(connection, runId);
            writeTag(connection, runId, key, value);
            return null;
        });
    }

    private static void writeTag(Connection connection, String runId, String key, String value) throws SQLException {
        Sql.update(connection, "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", key, value, runId);
        if (key.equals(RUN_NAME_TAG) && value != null && !value.isEmpty()) {
            Sql.update(connection, "UPDATE runs SET name = ? WHERE run_uuid = ?", value, runId);
        }
    }

    void deleteTag(String runId, String key) {
        Validation.runId(runId);
        database.write(connection -> {
            activeRun(connection, runId);
            if (Sql.update(connection, "DELETE FROM tags WHERE run_uuid = ? AND key = ?", runId, key) == 0) {
                throw ApiException.notFound("No tag with name: " + key + " in run with id " + runId);
            }
            return null;
        });
    }

    void logBatch(String runId, List<Metric> metrics, List<Param> params, List<RunTag> tags) {
        Validation.runId(runId);
        if (metrics.size() > Validation.MAX_METRICS_PER_BATCH) {
            throw ApiException.invalidParameter("A batch logging request can contain at most "
                    + Validation.MAX_METRICS_PER_BATCH + " metrics. Got " + metrics.size() + " metrics.");
        }
        if (params.size() > Validation.MAX_PARAMS_OR_TAGS_PER_BATCH || tags.size() > Validation.MAX_PARAMS_OR_TAGS_PER_BATCH) {
            throw ApiException.invalidParameter("A batch logging request can contain at most "
                    + Validation.MAX_PARAMS_OR_TAGS_PER_BATCH + " params and " + Validation.MAX_PARAMS_OR_TAGS_PER_BATCH
                    + " tags. Got " + params.size() + " params and " + tags.size() + " tags.");
        }
        if (metrics.size() + params.size() + tags.size() > Validation.MAX_ENTITIES_PER_BATCH) {
            throw ApiException.invalidParameter("A batch logging request can contain at most "
                    + Validation.MAX_ENTITIES_PER_BATCH + " metrics, params and tags in total.");
        }
        for (Metric metric : metrics) {
            Validation.required("metrics.key", metric.hasKey(), metric.getKey());
            if (!metric.hasValue()) {
                throw ApiException.invalidParameter("Got invalid value for metric '" + metric.getKey() + "': a value is required.");
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
                throw ApiException.invalidParameter("Duplicate parameter keys have been submitted with different values: '"
                        + param.getKey() + "'.");
            }
        }
        for (RunTag tag : tags) {
            Validation.required("tags.key", tag.hasKey(), tag.getKey());
            Validation.key("Tag", tag.getKey());
            Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_RUN_TAG_VALUE_LENGTH);
        }
        database.write(connection -> {
            activeRun(connection, runId);
            writeParams(connection, runId, paramValues);
            writeMetrics(connection, runId, metrics);
            for (RunTag tag : tags) {
                writeTag(connection, runId, tag.getKey(), tag.getValue());
            }
            return null;
        });
    }

    /** A param is write-once: the same value again is a harmless retry, a different value is an error. */
    private static void writeParams(Connection connection, String runId, Map<String, String> params) throws SQLException {
        if (params.isEmpty()) {
            return;
        }
        Map<String, String> existing = new HashMap<>();
        for (String[] pair : Sql.list(connection, "SELECT key, value FROM params WHERE run_uuid = ?",
                row -> new String[] {row.getString(1), row.getString(2)}, runId)) {
            existing.put(pair[0], pair[1]);
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)")) {
            for (Map.Entry<String, String> param : params.entrySet()) {
                String old = existing.get(param.getKey());
                if (old == null) {
                    Sql.bind(insert, param.getKey(), param.getValue(), runId);
                    insert.addBatch();
                } else if (!old.equals(param.getValue())) {
                    throw ApiException.invalidParameter("Changing param values is not allowed. Param with key='"
                            + param.getKey() + "' was already logged with value='" + old + "' for run ID='" + runId
                            + "'. Attempted logging new value '" + param.getValue() + "'.");
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

    private static void writeMetrics(Connection connection, String runId, List<Metric> metrics) throws SQLException {
        if (metrics.isEmpty()) {
            return;
        }
        Map<String, LatestMetric> candidates = new HashMap<>();
        // The primary key covers every column, so a retried batch inserts nothing twice.
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)")) {
            for (Metric metric : metrics) {
                double value = metric.getValue();
                boolean isNan = Double.isNaN(value);
                // SQLite turns NaN into NULL; MLflow stores 0 with is_nan set.
                Sql.bind(insert, metric.getKey(), isNan ? 0.0 : value, metric.getTimestamp(), runId, metric.getStep(), isNan);
                insert.addBatch();
                LatestMetric candidate = new LatestMetric(value, metric.getTimestamp(), metric.getStep());
                candidates.merge(metric.getKey(), candidate, (a, b) -> b.isAfter(a) ? b : a);
            }
            insert.executeBatch();
        }
        Map<String, LatestMetric> latest = new HashMap<>();
        for (Map.Entry<String, LatestMetric> row : Sql.list(connection,
                "SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ?",
                row -> Map.entry(row.getString(1), new LatestMetric(row.getBoolean(5) ? Double.NaN : row.getDouble(2),
                        row.getLong(3), row.getLong(4))), runId)) {
            latest.put(row.getKey(), row.getValue());
        }
        try (PreparedStatement upsert = connection.prepareStatement(
                "INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)")) {
            boolean any = false;
            for (Map.Entry<String, LatestMetric> candidate : candidates.entrySet()) {
                LatestMetric current = latest.get(candidate.getKey());
                LatestMetric next = candidate.getValue();
                if (current == null || next.isAfter(current)) {
                    boolean isNan = Double.isNaN(next.value());
                    Sql.bind(upsert, candidate.getKey(), isNan ? 0.0 : next.value(), next.timestamp(), next.step(), isNan, runId);
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
            Validation.required("datasets.dataset.source_type", dataset.hasSourceType(), dataset.getSourceType());
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
        database.write(connection -> {
            RunRecord run = activeRun(connection, runId);
            for (DatasetInput input : inputs) {
                Dataset dataset = input.getDataset();
                String datasetUuid = Sql.first(connection,
                        "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
                        row -> row.getString(1), run.experimentId(), dataset.getName(), dataset.getDigest()).orElse(null);
                if (datasetUuid == null) {
                    datasetUuid = UUID.randomUUID().toString().replace("-", "");
                    Sql.update(connection, "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type,"
                            + " dataset_source, dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            datasetUuid, run.experimentId(), dataset.getName(), dataset.getDigest(), dataset.getSourceType(),
                            dataset.getSource(), dataset.hasSchema() ? dataset.getSchema() : null,
                            dataset.hasProfile() ? dataset.getProfile() : null);
                }
                String inputUuid = Sql.first(connection, "SELECT input_uuid FROM inputs WHERE source_type = 'DATASET'"
                        + " AND source_id = ? AND destination_type = 'RUN' AND destination_id = ?",
                        row -> row.getString(1), datasetUuid, runId).orElse(null);
                if (inputUuid == null) {
                    inputUuid = UUID.randomUUID().toString().replace("-", "");
                    Sql.update(connection, "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id)"
                            + " VALUES (?, 'DATASET', ?, 'RUN', ?)", inputUuid, datasetUuid, runId);
                }
                for (InputTag tag : input.getTagsList()) {
                    Sql.update(connection, "INSERT OR REPLACE INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?)",
                            inputUuid, tag.getKey(), tag.getValue());
                }
            }
            return null;
        });
    }

    GetMetricHistory.Response metricHistory(GetMetricHistory request) {
        String runId = Validation.runId(Validation.required("run_id",
                request.hasRunId() || request.hasRunUuid(), request.hasRunId() ? request.getRunId() : request.getRunUuid()));
        String key = Validation.required("metric_key", request.hasMetricKey(), request.getMetricKey());
        boolean paged = request.hasMaxResults();
        int maxResults = PageToken.maxResults(paged, request.getMaxResults(), METRIC_HISTORY_LIMIT, METRIC_HISTORY_LIMIT);
        int offset = PageToken.offset(request.getPageToken());
        return database.read(connection -> {
            runRecord(connection, runId);
            String sql = "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ?"
                    + " ORDER BY timestamp, step, value" + (paged || offset > 0 ? " LIMIT ? OFFSET ?" : "");
            Object[] args = paged || offset > 0 ? new Object[] {runId, key, maxResults + 1, offset} : new Object[] {runId, key};
            List<Metric> metrics = Sql.list(connection, sql, TrackingStore::metricRow, args);
            GetMetricHistory.Response.Builder response = GetMetricHistory.Response.newBuilder();
            response.addAllMetrics(metrics.subList(0, Math.min(metrics.size(), paged || offset > 0 ? maxResults : metrics.size())));
            if ((paged || offset > 0) && metrics.size() > maxResults) {
                response.setNextPageToken(PageToken.forOffset(offset + maxResults));
            }
            return response.build();
        });
    }

    private static Metric metricRow(ResultSet row) throws SQLException {
        return Metric.newBuilder()
                .setKey(row.getString("key"))
                .setValue(row.getBoolean("is_nan") ? Double.NaN : row.getDouble("value"))
                .setTimestamp(row.getLong("timestamp"))
                .setStep(row.getLong("step"))
                .build();
    }

    // ---- search ----

    SearchRuns.Response searchRuns(SearchRuns request) {
        int maxResults = PageToken.maxResults(request.hasMaxResults(), request.getMaxResults(), SEARCH_RUNS_DEFAULT,
                SEARCH_RUNS_LIMIT);
        int offset = PageToken.offset(request.getPageToken());
        List<Long> experimentIds = new ArrayList<>();
        for (String id : request.getExperimentIdsList()) {
            experimentIds.add(Validation.experimentId(id));
        }
        if (experimentIds.isEmpty()) {
            return SearchRuns.Response.getDefaultInstance();
        }
        List<Object> args = new ArrayList<>(experimentIds);
        StringBuilder sql = new StringBuilder("SELECT r.run_uuid FROM runs r WHERE r.experiment_id IN (")
                .append(Sql.placeholders(experimentIds)).append(") AND r.lifecycle_stage IN (")
                .append(lifecycleStages(request.hasRunViewType() ? request.getRunViewType() : ViewType.ACTIVE_ONLY))
                .append(')');
        for (SearchFilter.Clause clause : SearchFilter.parse(request.getFilter())) {
            sql.append(" AND ").append(runCondition(clause, args));
        }
        List<String> orders = new ArrayList<>();
        for (String orderBy : request.getOrderByList()) {
            runOrder(SearchFilter.parseOrder(orderBy), orders, args);
        }
        orders.add("r.start_time DESC");
        orders.add("r.run_uuid ASC");
        sql.append(" ORDER BY ").append(String.join(", ", orders)).append(" LIMIT ? OFFSET ?");
        args.add(maxResults + 1);
        args.add(offset);
        return database.read(connection -> {
            List<String> ids = Sql.list(connection, sql.toString(), row -> row.getString(1), args.toArray());
            SearchRuns.Response.Builder response = SearchRuns.Response.newBuilder();
            response.addAllRuns(runs(connection, ids.subList(0, Math.min(maxResults, ids.size()))));
            if (ids.size() > maxResults) {
                response.setNextPageToken(PageToken.forOffset(offset + maxResults));
            }
            return response.build();
        });
    }

    private static String lifecycleStages(ViewType viewType) {
        return switch (viewType) {
            case DELETED_ONLY -> "'deleted'";
            case ALL -> "'active', 'deleted'";
            default -> "'active'";
        };
    }

    private static String runCondition(SearchFilter.Clause clause, List<Object> args) {
        return switch (clause.kind()) {
            case METRIC -> {
                args.add(clause.key());
                yield "r.run_uuid IN (SELECT run_uuid FROM latest_metrics WHERE key = ? AND is_nan = 0 AND "
                        + numberComparison("value", clause, args) + ")";
            }
            case PARAM -> "r.run_uuid IN (SELECT run_uuid FROM params WHERE key = ? AND "
                    + stringComparison("value", clause, args, clause.key()) + ")";
            case TAG -> "r.run_uuid IN (SELECT run_uuid FROM tags WHERE key = ? AND "
                    + stringComparison("value", clause, args, clause.key()) + ")";
            case DATASET -> switch (clause.key()) {
                case "name" -> "r.run_uuid IN (SELECT i.destination_id FROM inputs i JOIN datasets d"
                        + " ON d.dataset_uuid = i.source_id WHERE i.destination_type = 'RUN' AND "
                        + stringComparison("d.name", clause, args) + ")";
                case "digest" -> "r.run_uuid IN (SELECT i.destination_id FROM inputs i JOIN datasets d"
                        + " ON d.dataset_uuid = i.source_id WHERE i.destination_type = 'RUN' AND "
                        + stringComparison("d.digest", clause, args) + ")";
                case "context" -> "r.run_uuid IN (SELECT i.destination_id FROM inputs i JOIN input_tags t"
                        + " ON t.input_uuid = i.input_uuid WHERE i.destination_type = 'RUN' AND t.name = ? AND "
                        + stringComparison("t.value", clause, args, DATASET_CONTEXT_TAG) + ")";
                default -> throw ApiException.invalidParameter("Invalid dataset key '" + clause.key()
                        + "'. Valid keys are name, digest, context.");
            };
            case ATTRIBUTE -> attributeCondition(clause, args);
        };
    }

    private static String attributeCondition(SearchFilter.Clause clause, List<Object> args) {
        String key = clause.key();
        switch (key) {
            case "run_id" -> {
                if (clause.comparator().equals("IN") || clause.comparator().equals("NOT IN")) {
                    List<String> values = clause.listValue();
                    args.addAll(values);
                    return "r.run_uuid " + clause.comparator() + " (" + Sql.placeholders(values) + ")";
                }
                if (!clause.comparator().equals("=") && !clause.comparator().equals("!=")) {
                    throw ApiException.invalidParameter("Invalid comparator '" + clause.comparator()
                            + "' for attribute run_id; valid comparators are =, !=, IN, NOT IN.");
                }
                args.add(clause.stringValue());
                return "r.run_uuid " + clause.comparator() + " ?";
            }
            case "run_name", "run name", "Run name", "Run Name" -> {
                return stringComparison("r.name", clause, args);
            }
            case "status", "user_id", "artifact_uri", "lifecycle_stage" -> {
                return stringComparison("r." + key, clause, args);
            }
            case "start_time", "created", "Created" -> {
                return numberComparison("r.start_time", clause, args);
            }
            case "end_time" -> {
                return numberComparison("r.end_time", clause, args);
            }
            default -> throw ApiException.invalidParameter("Invalid attribute key '" + key + "' specified. Valid keys are"
                    + " run_id, run_name, status, user_id, artifact_uri, start_time, end_time, created.");
        }
    }

    /** For tag and param comparisons the key is bound first, hence the optional leading argument. */
    private static String stringComparison(String column, SearchFilter.Clause clause, List<Object> args, String... leading) {
        args.addAll(List.of(leading));
        String value = clause.stringValue();
        args.add(value);
        return switch (clause.comparator()) {
            case "=", "!=" -> column + " " + clause.comparator() + " ?";
            case "LIKE" -> column + " LIKE ?";
            case "ILIKE" -> "LOWER(" + column + ") LIKE LOWER(?)";
            default -> throw ApiException.invalidParameter("Invalid comparator '" + clause.comparator() + "' for "
                    + clause.describe() + "; valid comparators for strings are =, !=, LIKE, ILIKE.");
        };
    }

    private static String numberComparison(String column, SearchFilter.Clause clause, List<Object> args) {
        if (!Set.of("=", "!=", "<", "<=", ">", ">=").contains(clause.comparator())) {
            throw ApiException.invalidParameter("Invalid comparator '" + clause.comparator() + "' for "
                    + clause.describe() + "; valid comparators for numbers are =, !=, <, <=, >, >=.");
        }
        args.add(clause.numberValue());
        return column + " " + clause.comparator() + " ?";
    }

    private static void runOrder(SearchFilter.Order order, List<String> orders, List<Object> args) {
        String direction = order.ascending() ? " ASC" : " DESC";
        String key = order.identifier().key();
        switch (order.identifier().kind()) {
            case METRIC -> {
                // missing metrics sort last, then NaN, whatever the direction, as in MLflow
                args.add(key);
                args.add(key);
                orders.add("COALESCE((SELECT m.is_nan FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?), 2) ASC");
                orders.add("(SELECT m.value FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?)" + direction);
            }
            case PARAM, TAG -> {
                String table = order.identifier().kind() == SearchFilter.Kind.PARAM ? "params" : "tags";
                String value = "(SELECT x.value FROM " + table + " x WHERE x.run_uuid = r.run_uuid AND x.key = ?)";
                args.add(key);
                args.add(key);
                orders.add(value + " IS NULL ASC");
                orders.add(value + direction);
            }
            case ATTRIBUTE -> {
                String column = switch (key) {
                    case "start_time", "created", "Created" -> "r.start_time";
                    case "end_time" -> "r.end_time";
                    case "run_name", "run name", "Run name", "Run Name" -> "r.name";
                    case "status", "user_id", "artifact_uri", "lifecycle_stage" -> "r." + key;
                    case "run_id" -> "r.run_uuid";
                    default -> throw ApiException.invalidParameter("Invalid order_by attribute '" + key + "'.");
                };
                orders.add(column + " IS NULL ASC");
                orders.add(column + direction);
            }
            default -> throw ApiException.invalidParameter("Invalid order_by entity: runs can be ordered by metrics,"
                    + " params, tags and attributes.");
        }
    }

    /** Loads whole runs in the order of the ids given, with a fixed number of queries whatever their count. */
    private static List<Run> runs(Connection connection, List<String> runIds) throws SQLException {
        if (runIds.isEmpty()) {
            return List.of();
        }
        String in = Sql.placeholders(runIds);
        Object[] ids = runIds.toArray();
        Map<String, RunInfo> infos = new HashMap<>();
        for (RunInfo info : Sql.list(connection, "SELECT * FROM runs WHERE run_uuid IN (" + in + ")", TrackingStore::runInfoRow, ids)) {
            infos.put(info.getRunId(), info);
        }
        Map<String, RunData.Builder> data = new HashMap<>();
        Map<String, RunInputs.Builder> inputs = new HashMap<>();
        for (String id : runIds) {
            data.put(id, RunData.newBuilder());
            inputs.put(id, RunInputs.newBuilder());
        }
        for (ResultRow row : Sql.list(connection, "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics"
                + " WHERE run_uuid IN (" + in + ") ORDER BY key", r -> new ResultRow(r.getString(1), metricRow(r)), ids)) {
            data.get(row.runId()).addMetrics((Metric) row.value());
        }
        for (ResultRow row : Sql.list(connection, "SELECT run_uuid, key, value FROM params WHERE run_uuid IN (" + in
                + ") ORDER BY key", r -> new ResultRow(r.getString(1),
                Param.newBuilder().setKey(r.getString(2)).setValue(r.getString(3)).build()), ids)) {
            data.get(row.runId()).addParams((Param) row.value());
        }
        for (ResultRow row : Sql.list(connection, "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (" + in
                + ") ORDER BY key", r -> {
                    RunTag.Builder tag = RunTag.newBuilder().setKey(r.getString(2));
                    String value = r.getString(3);
                    if (value != null) {
                        tag.setValue(value);
                    }
                    return new ResultRow(r.getString(1), tag.build());
                }, ids)) {
            data.get(row.runId()).addTags((RunTag) row.value());
        }
        Map<String, List<InputTag>> inputTags = new HashMap<>();
        List<Object[]> datasetRows = Sql.list(connection, "SELECT i.destination_id, i.input_uuid, d.name, d.digest,"
                + " d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile"
                + " FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id"
                + " WHERE i.destination_type = 'RUN' AND i.destination_id IN (" + in + ") ORDER BY d.name, d.digest",
                r -> {
                    Dataset.Builder dataset = Dataset.newBuilder().setName(r.getString(3)).setDigest(r.getString(4))
                            .setSourceType(r.getString(5)).setSource(r.getString(6));
                    if (r.getString(7) != null) {
                        dataset.setSchema(r.getString(7));
                    }
                    if (r.getString(8) != null) {
                        dataset.setProfile(r.getString(8));
                    }
                    return new Object[] {r.getString(1), r.getString(2), dataset.build()};
                }, ids);
        if (!datasetRows.isEmpty()) {
            List<Object> inputIds = new ArrayList<>();
            for (Object[] row : datasetRows) {
                inputIds.add(row[1]);
            }
            for (Object[] tag : Sql.list(connection, "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN ("
                    + Sql.placeholders(inputIds) + ") ORDER BY name",
                    r -> new Object[] {r.getString(1), InputTag.newBuilder().setKey(r.getString(2)).setValue(r.getString(3)).build()},
                    inputIds.toArray())) {
                inputTags.computeIfAbsent((String) tag[0], k -> new ArrayList<>()).add((InputTag) tag[1]);
            }
            for (Object[] row : datasetRows) {
                inputs.get((String) row[0]).addDatasetInputs(DatasetInput.newBuilder()
                        .setDataset((Dataset) row[2])
                        .addAllTags(inputTags.getOrDefault((String) row[1], List.of())));
            }
        }
        List<Run> runs = new ArrayList<>();
        for (String id : runIds) {
            RunInfo info = infos.get(id);
            if (info != null) {
                runs.add(Run.newBuilder().setInfo(info).setData(data.get(id)).setInputs(inputs.get(id)).build());
            }
        }
        return runs;
    }

    private record ResultRow(String runId, Object value) {}

    private static RunInfo runInfoRow(ResultSet row) throws SQLException {
        String runId = row.getString("run_uuid");
        RunInfo.Builder info = RunInfo.newBuilder()
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
        Long start = Sql.nullableLong(row, "start_time");
        if (start != null) {
            info.setStartTime(start);
        }
        Long end = Sql.nullableLong(row, "end_time");
        if (end != null) {
            info.setEndTime(end);
        }
        return info.build();
    }

    private static void setIfPresent(String value, java.util.function.Consumer<String> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }
}
