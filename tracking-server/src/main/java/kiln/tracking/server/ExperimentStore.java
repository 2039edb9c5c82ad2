package kiln.tracking.server;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.LongSupplier;
import kiln.tracking.server.SearchQuery.Comparison;
import kiln.tracking.server.SearchQuery.Sort;
import kiln.tracking.server.SearchQuery.Target;
import org.mlflow.api.proto.Service.CreateExperiment;
import org.mlflow.api.proto.Service.Experiment;
import org.mlflow.api.proto.Service.ExperimentTag;
import org.mlflow.api.proto.Service.SearchExperiments;
import org.mlflow.api.proto.Service.ViewType;

/** Experiments and their tags, stored as MLflow's SqlAlchemyStore stores them. */
final class ExperimentStore {
  static final String ACTIVE = "active";
  static final String DELETED = "deleted";

  private static final int SEARCH_EXPERIMENTS_DEFAULT = 1000;
  private static final int SEARCH_EXPERIMENTS_LIMIT = 50_000;

  private static final SearchQuery.Fields SEARCH_FIELDS =
      new SearchQuery.Fields("experiments", "SELECT e.experiment_id FROM experiments e")
          .filter(SearchFilter.Kind.ATTRIBUTE, "name", Target.column("e.name", Comparison.TEXT))
          .filter(
              SearchFilter.Kind.ATTRIBUTE,
              "creation_time",
              Target.column("e.creation_time", Comparison.NUMBER))
          .filter(
              SearchFilter.Kind.ATTRIBUTE,
              "last_update_time",
              Target.column("e.last_update_time", Comparison.NUMBER))
          .filterAnyKey(
              SearchFilter.Kind.TAG,
              Target.byKey(
                  "e.experiment_id IN (SELECT experiment_id FROM experiment_tags WHERE key = ? AND %s)",
                  "value", Comparison.TEXT))
          .order("name", Sort.by("e.name"))
          .order("experiment_id", Sort.by("e.experiment_id"))
          .order("creation_time", Sort.by("e.creation_time"))
          .order("last_update_time", Sort.by("e.last_update_time"))
          .thenBy("e.creation_time DESC", "e.experiment_id ASC");

  private final Database database;
  private final LongSupplier clock;

  ExperimentStore(Database database, LongSupplier clock) {
    this.database = database;
    this.clock = clock;
  }

  static String experimentArtifactLocation(String experimentId) {
    return "mlflow-artifacts:/" + experimentId;
  }

  String createExperiment(CreateExperiment request) {
    String name = Validation.required("name", request.hasName(), request.getName()).strip();
    if (name.isEmpty()) {
      throw ApiException.invalidParameter("Invalid experiment name: it must not be blank.");
    }
    if (name.length() > Validation.MAX_EXPERIMENT_NAME_LENGTH) {
      throw ApiException.invalidParameter(
          "Experiment name is "
              + name.length()
              + " characters long; the limit is "
              + Validation.MAX_EXPERIMENT_NAME_LENGTH
              + ".");
    }
    for (ExperimentTag tag : request.getTagsList()) {
      Validation.key("Tag", tag.getKey());
      Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_TAG_VALUE_LENGTH);
    }
    return database.write(
        connection -> {
          if (Sql.first(connection, "SELECT 1 FROM experiments WHERE name = ?", row -> 1, name)
              .isPresent()) {
            throw ApiException.alreadyExists("Experiment '" + name + "' already exists.");
          }
          long now = clock.getAsLong();
          long id =
              Sql.first(
                      connection,
                      "SELECT COALESCE(MAX(experiment_id), -1) + 1 FROM experiments",
                      row -> row.getLong(1))
                  .orElseThrow();
          String location =
              request.hasArtifactLocation() && !request.getArtifactLocation().isEmpty()
                  ? request.getArtifactLocation()
                  : experimentArtifactLocation(Long.toString(id));
          Sql.update(
              connection,
              "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                  + " creation_time, last_update_time) VALUES (?, ?, ?, 'active', ?, ?)",
              id,
              name,
              location,
              now,
              now);
          for (ExperimentTag tag : request.getTagsList()) {
            Sql.update(
                connection,
                "INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
                tag.getKey(),
                tag.getValue(),
                id);
          }
          return Long.toString(id);
        });
  }

  Experiment experiment(String experimentId) {
    long id = Validation.experimentId(experimentId);
    return database.read(connection -> experiment(connection, id));
  }

  Experiment experimentByName(String name) {
    return database.read(
        connection -> {
          long id =
              Sql.first(
                      connection,
                      "SELECT experiment_id FROM experiments WHERE name = ?",
                      row -> row.getLong(1),
                      name)
                  .orElseThrow(
                      () ->
                          ApiException.notFound(
                              "Could not find experiment with name '" + name + "'"));
          return experiment(connection, id);
        });
  }

  /** The experiment with its tags, or RESOURCE_DOES_NOT_EXIST. */
  static Experiment experiment(Connection connection, long id) throws SQLException {
    Experiment.Builder experiment =
        Sql.first(
                connection,
                "SELECT * FROM experiments WHERE experiment_id = ?",
                ExperimentStore::experimentRow,
                id)
            .orElseThrow(() -> ApiException.notFound("No Experiment with id=" + id + " exists"));
    for (ExperimentTag tag :
        Sql.list(
            connection,
            "SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key",
            row -> tag(row.getString(1), row.getString(2)),
            id)) {
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
    Experiment.Builder experiment =
        Experiment.newBuilder()
            .setExperimentId(Long.toString(row.getLong("experiment_id")))
            .setName(row.getString("name"))
            .setLifecycleStage(row.getString("lifecycle_stage"));
    String location = row.getString("artifact_location");
    if (location != null) {
      experiment.setArtifactLocation(location);
    }
    Sql.ifPresent(row, "creation_time", experiment::setCreationTime);
    Sql.ifPresent(row, "last_update_time", experiment::setLastUpdateTime);
    return experiment;
  }

  SearchExperiments.Response searchExperiments(SearchExperiments request) {
    int maxResults =
        PageToken.maxResults(
            request.hasMaxResults(),
            request.getMaxResults(),
            SEARCH_EXPERIMENTS_DEFAULT,
            SEARCH_EXPERIMENTS_LIMIT);
    int offset = PageToken.offset(request.getPageToken());
    SearchQuery query =
        new SearchQuery(SEARCH_FIELDS)
            .where(
                "e.lifecycle_stage IN ("
                    + lifecycleStages(
                        request.hasViewType() ? request.getViewType() : ViewType.ACTIVE_ONLY)
                    + ")")
            .filter(request.getFilter())
            .orderBy(request.getOrderByList());
    return database.read(
        connection -> {
          SearchQuery.Page<Long> ids =
              query.page(connection, row -> row.getLong(1), maxResults, offset);
          SearchExperiments.Response.Builder response = SearchExperiments.Response.newBuilder();
          for (Long id : ids.items()) {
            response.addExperiments(experiment(connection, id));
          }
          if (ids.nextPageToken() != null) {
            response.setNextPageToken(ids.nextPageToken());
          }
          return response.build();
        });
  }

  /** The SQL list of the lifecycle stages a view type shows, for experiments and runs alike. */
  static String lifecycleStages(ViewType viewType) {
    return switch (viewType) {
      case DELETED_ONLY -> "'deleted'";
      case ALL -> "'active', 'deleted'";
      default -> "'active'";
    };
  }

  void renameExperiment(String experimentId, String newName) {
    long id = Validation.experimentId(experimentId);
    String name = newName.strip();
    if (name.isEmpty()) {
      throw ApiException.invalidParameter("Invalid experiment name: it must not be blank.");
    }
    database.write(
        connection -> {
          Experiment experiment = experiment(connection, id);
          requireActive(experiment);
          if (!experiment.getName().equals(name)
              && Sql.first(connection, "SELECT 1 FROM experiments WHERE name = ?", row -> 1, name)
                  .isPresent()) {
            throw ApiException.alreadyExists("Experiment '" + name + "' already exists.");
          }
          Sql.update(
              connection,
              "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
              name,
              clock.getAsLong(),
              id);
          return null;
        });
  }

  /** Like MLflow, deleting an experiment also deletes its runs, and restoring restores them. */
  void deleteExperiment(String experimentId) {
    long id = Validation.experimentId(experimentId);
    if (id == 0) {
      throw ApiException.invalidParameter(
          "Cannot delete the default experiment '0'. This is an internally reserved experiment.");
    }
    database.write(
        connection -> {
          experiment(connection, id);
          long now = clock.getAsLong();
          Sql.update(
              connection,
              "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?",
              now,
              id);
          Sql.update(
              connection,
              "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?"
                  + " WHERE experiment_id = ? AND lifecycle_stage = 'active'",
              now,
              id);
          return null;
        });
  }

  void restoreExperiment(String experimentId) {
    long id = Validation.experimentId(experimentId);
    database.write(
        connection -> {
          Experiment experiment = experiment(connection, id);
          if (!experiment.getLifecycleStage().equals(DELETED)) {
            throw ApiException.invalidParameter(
                "Cannot restore an active experiment. Experiment id " + id + " is active.");
          }
          Sql.update(
              connection,
              "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?",
              clock.getAsLong(),
              id);
          Sql.update(
              connection,
              "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL"
                  + " WHERE experiment_id = ? AND lifecycle_stage = 'deleted'",
              id);
          return null;
        });
  }

  void setExperimentTag(String experimentId, String key, String value) {
    long id = Validation.experimentId(experimentId);
    Validation.key("Tag", key);
    Validation.value("Tag", key, value, Validation.MAX_TAG_VALUE_LENGTH);
    database.write(
        connection -> {
          requireActive(experiment(connection, id));
          Sql.update(
              connection,
              "INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
              key,
              value,
              id);
          return null;
        });
  }

  static void requireActive(Experiment experiment) {
    if (!experiment.getLifecycleStage().equals(ACTIVE)) {
      throw ApiException.invalidParameter(
          "The experiment "
              + experiment.getExperimentId()
              + " must be in the 'active' state. Current state is "
              + experiment.getLifecycleStage()
              + ".");
    }
  }
}
