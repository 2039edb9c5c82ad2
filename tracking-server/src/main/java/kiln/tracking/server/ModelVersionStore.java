package kiln.tracking.server;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import kiln.tracking.server.SearchFilter.Kind;
import kiln.tracking.server.SearchQuery.Comparison;
import kiln.tracking.server.SearchQuery.Page;
import kiln.tracking.server.SearchQuery.Sort;
import kiln.tracking.server.SearchQuery.Target;
import org.mlflow.api.proto.ModelRegistry.ModelVersion;
import org.mlflow.api.proto.ModelRegistry.ModelVersionStatus;
import org.mlflow.api.proto.ModelRegistry.ModelVersionTag;

/** Versions of registered models: their sources, stages and tags, in MLflow's registry tables. */
final class ModelVersionStore {
  /**
   * MLflow keeps deleted versions as rows in this stage so that version numbers are never reused.
   */
  static final String DELETED_STAGE = "Deleted_Internal";

  static final List<String> STAGES = List.of("None", "Staging", "Production", "Archived");

  private static final int SEARCH_VERSIONS_DEFAULT = 10_000;
  private static final int SEARCH_VERSIONS_LIMIT = 200_000;

  private static final SearchQuery.Fields VERSION_FIELDS =
      new SearchQuery.Fields("model versions", "SELECT v.name, v.version FROM model_versions v")
          .filter(Kind.ATTRIBUTE, "name", Target.column("v.name", Comparison.TEXT))
          .filter(Kind.ATTRIBUTE, "run_id", Target.column("v.run_id", Comparison.TEXT_OR_LIST))
          .filter(Kind.ATTRIBUTE, "source_path", Target.column("v.source", Comparison.TEXT))
          .filter(Kind.ATTRIBUTE, "version_number", Target.column("v.version", Comparison.NUMBER))
          .filterAnyKey(
              Kind.TAG,
              Target.byKey(
                  "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = v.name"
                      + " AND t.version = v.version AND t.key = ? AND %s)",
                  "t.value", Comparison.TEXT))
          .order("name", Sort.by("v.name"))
          .order("version_number", Sort.by("v.version"))
          .order("creation_timestamp", Sort.by("v.creation_time"), "creation_time")
          .order("last_updated_timestamp", Sort.by("v.last_updated_time"), "last_updated_time")
          .thenBy("v.name ASC", "v.version DESC");

  private final Database database;
  private final LongSupplier clock;

  ModelVersionStore(Database database, LongSupplier clock) {
    this.database = database;
    this.clock = clock;
  }

  ModelVersion createModelVersion(
      String name,
      String source,
      String runId,
      List<ModelVersionTag> tags,
      String runLink,
      String description) {
    RegisteredModelStore.validateName(name);
    for (ModelVersionTag tag : tags) {
      Validation.key("Tag", tag.getKey());
      Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_TAG_VALUE_LENGTH);
    }
    Validation.value("Source", name, source, 500);
    Validation.value("Description", name, description, Validation.MAX_TAG_VALUE_LENGTH);
    return database.write(
        connection -> {
          RegisteredModelStore.requireModel(connection, name);
          long now = clock.getAsLong();
          long version =
              Sql.first(
                      connection,
                      "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?",
                      row -> row.getLong(1),
                      name)
                  .orElseThrow();
          Sql.update(
              connection,
              "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description,"
                  + " user_id, current_stage, source, run_id, status, status_message, run_link, storage_location)"
                  + " VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, 'READY', NULL, ?, ?)",
              name,
              version,
              now,
              now,
              description,
              source,
              runId,
              runLink,
              source);
          for (ModelVersionTag tag : tags) {
            Sql.update(
                connection,
                "INSERT OR REPLACE INTO model_version_tags (key, value, name, version) VALUES (?, ?, ?, ?)",
                tag.getKey(),
                tag.getValue(),
                name,
                version);
          }
          RegisteredModelStore.touch(connection, name, now);
          return modelVersion(connection, name, version);
        });
  }

  ModelVersion modelVersion(String name, String version) {
    RegisteredModelStore.validateName(name);
    long number = versionNumber(version);
    return database.read(connection -> modelVersion(connection, name, number));
  }

  ModelVersion updateModelVersion(String name, String version, String description) {
    RegisteredModelStore.validateName(name);
    long number = versionNumber(version);
    Validation.value("Description", name, description, Validation.MAX_TAG_VALUE_LENGTH);
    return database.write(
        connection -> {
          modelVersion(connection, name, number);
          Sql.update(
              connection,
              "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?",
              description,
              clock.getAsLong(),
              name,
              number);
          return modelVersion(connection, name, number);
        });
  }

  ModelVersion transitionStage(String name, String version, String stage, boolean archiveExisting) {
    RegisteredModelStore.validateName(name);
    long number = versionNumber(version);
    String canonical = canonicalStage(stage);
    return database.write(
        connection -> {
          modelVersion(connection, name, number);
          long now = clock.getAsLong();
          if (archiveExisting && (canonical.equals("Staging") || canonical.equals("Production"))) {
            Sql.update(
                connection,
                "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?"
                    + " WHERE name = ? AND version != ? AND current_stage = ?",
                now,
                name,
                number,
                canonical);
          }
          Sql.update(
              connection,
              "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?",
              canonical,
              now,
              name,
              number);
          RegisteredModelStore.touch(connection, name, now);
          return modelVersion(connection, name, number);
        });
  }

  void deleteModelVersion(String name, String version) {
    RegisteredModelStore.validateName(name);
    long number = versionNumber(version);
    database.write(
        connection -> {
          modelVersion(connection, name, number);
          long now = clock.getAsLong();
          Sql.update(
              connection,
              "DELETE FROM model_version_tags WHERE name = ? AND version = ?",
              name,
              number);
          Sql.update(
              connection,
              "DELETE FROM registered_model_aliases WHERE name = ? AND version = ?",
              name,
              number);
          Sql.update(
              connection,
              "UPDATE model_versions SET current_stage = ?, source = 'REDACTED-SOURCE-PATH',"
                  + " storage_location = 'REDACTED-SOURCE-PATH', run_id = NULL, run_link = NULL, status_message = NULL,"
                  + " description = NULL, user_id = NULL, last_updated_time = ? WHERE name = ? AND version = ?",
              DELETED_STAGE,
              now,
              name,
              number);
          RegisteredModelStore.touch(connection, name, now);
          return null;
        });
  }

  String downloadUri(String name, String version) {
    ModelVersion modelVersion = modelVersion(name, version);
    return modelVersion.getSource();
  }

  List<ModelVersion> latestVersions(String name, List<String> stages) {
    RegisteredModelStore.validateName(name);
    List<String> canonical = new ArrayList<>();
    for (String stage : stages.isEmpty() ? STAGES : stages) {
      canonical.add(canonicalStage(stage));
    }
    return database.read(
        connection -> {
          RegisteredModelStore.requireModel(connection, name);
          return latestVersions(connection, name, canonical);
        });
  }

  /** The latest version in each of {@code stages}, in the order of {@link #STAGES}. */
  static List<ModelVersion> latestVersions(Connection connection, String name, List<String> stages)
      throws SQLException {
    Map<String, Long> latest = new LinkedHashMap<>();
    for (Object[] row :
        Sql.list(
            connection,
            "SELECT current_stage, MAX(version) FROM model_versions"
                + " WHERE name = ? AND current_stage != ? GROUP BY current_stage ORDER BY current_stage",
            r -> new Object[] {r.getString(1), r.getLong(2)},
            name,
            DELETED_STAGE)) {
      latest.put((String) row[0], (Long) row[1]);
    }
    List<ModelVersion> versions = new ArrayList<>();
    for (String stage : STAGES) {
      if (stages.contains(stage) && latest.containsKey(stage)) {
        versions.add(modelVersion(connection, name, latest.get(stage)));
      }
    }
    return versions;
  }

  Page<ModelVersion> searchModelVersions(
      String filter,
      boolean hasMaxResults,
      long maxResultsRequested,
      List<String> orderBy,
      String pageToken) {
    int maxResults =
        PageToken.maxResults(
            hasMaxResults, maxResultsRequested, SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_LIMIT);
    int offset = PageToken.offset(pageToken);
    SearchQuery query =
        new SearchQuery(VERSION_FIELDS)
            .where("v.current_stage != ?", DELETED_STAGE)
            .filter(filter)
            .orderBy(orderBy);
    return database.read(
        connection -> {
          Page<Object[]> keys =
              query.page(
                  connection,
                  row -> new Object[] {row.getString(1), row.getLong(2)},
                  maxResults,
                  offset);
          List<ModelVersion> versions = new ArrayList<>();
          for (Object[] key : keys.items()) {
            versions.add(modelVersion(connection, (String) key[0], (Long) key[1]));
          }
          return new Page<>(versions, keys.nextPageToken());
        });
  }

  void setModelVersionTag(String name, String version, String key, String value) {
    RegisteredModelStore.validateName(name);
    long number = versionNumber(version);
    Validation.key("Tag", key);
    Validation.value("Tag", key, value, Validation.MAX_TAG_VALUE_LENGTH);
    database.write(
        connection -> {
          modelVersion(connection, name, number);
          Sql.update(
              connection,
              "INSERT OR REPLACE INTO model_version_tags (key, value, name, version) VALUES (?, ?, ?, ?)",
              key,
              value,
              name,
              number);
          return null;
        });
  }

  void deleteModelVersionTag(String name, String version, String key) {
    RegisteredModelStore.validateName(name);
    long number = versionNumber(version);
    database.write(
        connection -> {
          modelVersion(connection, name, number);
          if (Sql.update(
                  connection,
                  "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                  name,
                  number,
                  key)
              == 0) {
            throw ApiException.notFound(
                "No tag with key "
                    + key
                    + " found for model version "
                    + name
                    + " version "
                    + version
                    + ".");
          }
          return null;
        });
  }

  /** A version that is not deleted, or RESOURCE_DOES_NOT_EXIST. */
  static ModelVersion modelVersion(Connection connection, String name, long version)
      throws SQLException {
    ModelVersion.Builder builder =
        Sql.first(
                connection,
                "SELECT * FROM model_versions WHERE name = ? AND version = ? AND current_stage != ?",
                ModelVersionStore::modelVersionRow,
                name,
                version,
                DELETED_STAGE)
            .orElseThrow(
                () ->
                    ApiException.notFound(
                        "Model Version (name=" + name + ", version=" + version + ") not found"));
    for (ModelVersionTag tag :
        Sql.list(
            connection,
            "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key",
            row ->
                ModelVersionTag.newBuilder()
                    .setKey(row.getString(1))
                    .setValue(RegisteredModelStore.nullToEmpty(row.getString(2)))
                    .build(),
            name,
            version)) {
      builder.addTags(tag);
    }
    builder.addAllAliases(
        Sql.list(
            connection,
            "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias",
            row -> row.getString(1),
            name,
            version));
    return builder.build();
  }

  private static ModelVersion.Builder modelVersionRow(ResultSet row) throws SQLException {
    ModelVersion.Builder version =
        ModelVersion.newBuilder()
            .setName(row.getString("name"))
            .setVersion(Long.toString(row.getLong("version")))
            .setCurrentStage(row.getString("current_stage"));
    Sql.ifPresent(row, "creation_time", version::setCreationTimestamp);
    Sql.ifPresent(row, "last_updated_time", version::setLastUpdatedTimestamp);
    if (row.getString("description") != null) {
      version.setDescription(row.getString("description"));
    }
    if (row.getString("user_id") != null) {
      version.setUserId(row.getString("user_id"));
    }
    if (row.getString("source") != null) {
      version.setSource(row.getString("source"));
    }
    if (row.getString("run_id") != null) {
      version.setRunId(row.getString("run_id"));
    }
    if (row.getString("status") != null) {
      version.setStatus(ModelVersionStatus.valueOf(row.getString("status")));
    }
    if (row.getString("status_message") != null) {
      version.setStatusMessage(row.getString("status_message"));
    }
    if (row.getString("run_link") != null) {
      version.setRunLink(row.getString("run_link"));
    }
    return version;
  }

  static long versionNumber(String version) {
    if (version == null || version.isEmpty()) {
      throw ApiException.missingParameter("version");
    }
    try {
      long number = Long.parseLong(version);
      if (number > 0) {
        return number;
      }
    } catch (NumberFormatException e) {
      // same message as a non-positive number
    }
    throw ApiException.invalidParameter(
        "Model version must be a positive integer, got '" + Validation.abbreviate(version) + "'.");
  }

  private static String canonicalStage(String stage) {
    for (String known : STAGES) {
      if (known.equalsIgnoreCase(stage)) {
        return known;
      }
    }
    throw ApiException.invalidParameter(
        "Invalid Model Version stage: "
            + stage
            + ". Value must be one of "
            + String.join(", ", STAGES)
            + ".");
  }
}
