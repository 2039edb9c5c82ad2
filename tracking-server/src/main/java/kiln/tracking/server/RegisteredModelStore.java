package kiln.tracking.server;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import kiln.tracking.server.SearchFilter.Kind;
import kiln.tracking.server.SearchQuery.Comparison;
import kiln.tracking.server.SearchQuery.Page;
import kiln.tracking.server.SearchQuery.Sort;
import kiln.tracking.server.SearchQuery.Target;
import org.mlflow.api.proto.ModelRegistry.ModelVersion;
import org.mlflow.api.proto.ModelRegistry.RegisteredModel;
import org.mlflow.api.proto.ModelRegistry.RegisteredModelAlias;
import org.mlflow.api.proto.ModelRegistry.RegisteredModelTag;

/** Registered models, their tags and their aliases, in MLflow's registry tables. */
final class RegisteredModelStore {
  private static final int SEARCH_MODELS_DEFAULT = 100;
  private static final int SEARCH_MODELS_LIMIT = 1000;

  private static final SearchQuery.Fields MODEL_FIELDS =
      new SearchQuery.Fields("registered models", "SELECT m.name FROM registered_models m")
          .filter(Kind.ATTRIBUTE, "name", Target.column("m.name", Comparison.TEXT))
          .filterAnyKey(
              Kind.TAG,
              Target.byKey(
                  "m.name IN (SELECT name FROM registered_model_tags WHERE key = ? AND %s)",
                  "value", Comparison.TEXT))
          .order("name", Sort.by("m.name"))
          .order("creation_timestamp", Sort.by("m.creation_time"), "creation_time")
          .order("last_updated_timestamp", Sort.by("m.last_updated_time"), "last_updated_time")
          .thenBy("m.name ASC");

  private final Database database;
  private final LongSupplier clock;

  RegisteredModelStore(Database database, LongSupplier clock) {
    this.database = database;
    this.clock = clock;
  }

  RegisteredModel createRegisteredModel(
      String name, List<RegisteredModelTag> tags, String description) {
    validateName(name);
    for (RegisteredModelTag tag : tags) {
      Validation.key("Tag", tag.getKey());
      Validation.value("Tag", tag.getKey(), tag.getValue(), Validation.MAX_TAG_VALUE_LENGTH);
    }
    Validation.value("Description", name, description, Validation.MAX_TAG_VALUE_LENGTH);
    return database.write(
        connection -> {
          if (exists(connection, name)) {
            throw ApiException.alreadyExists(
                "Registered Model (name=" + name + ") already exists.");
          }
          long now = clock.getAsLong();
          Sql.update(
              connection,
              "INSERT INTO registered_models (name, creation_time, last_updated_time, description)"
                  + " VALUES (?, ?, ?, ?)",
              name,
              now,
              now,
              description);
          for (RegisteredModelTag tag : tags) {
            Sql.update(
                connection,
                "INSERT OR REPLACE INTO registered_model_tags (key, value, name) VALUES (?, ?, ?)",
                tag.getKey(),
                tag.getValue(),
                name);
          }
          return registeredModel(connection, name);
        });
  }

  RegisteredModel registeredModel(String name) {
    validateName(name);
    return database.read(connection -> registeredModel(connection, name));
  }

  RegisteredModel renameRegisteredModel(String name, String newName) {
    validateName(name);
    validateName(newName);
    return database.write(
        connection -> {
          requireModel(connection, name);
          if (!name.equals(newName) && exists(connection, newName)) {
            throw ApiException.alreadyExists(
                "Registered Model (name=" + newName + ") already exists.");
          }
          // the foreign keys cascade the new name to versions, tags and aliases
          Sql.update(
              connection,
              "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?",
              newName,
              clock.getAsLong(),
              name);
          return registeredModel(connection, newName);
        });
  }

  RegisteredModel updateRegisteredModel(String name, String description) {
    validateName(name);
    Validation.value("Description", name, description, Validation.MAX_TAG_VALUE_LENGTH);
    return database.write(
        connection -> {
          requireModel(connection, name);
          Sql.update(
              connection,
              "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?",
              description,
              clock.getAsLong(),
              name);
          return registeredModel(connection, name);
        });
  }

  void deleteRegisteredModel(String name) {
    validateName(name);
    database.write(
        connection -> {
          requireModel(connection, name);
          Sql.update(connection, "DELETE FROM model_version_tags WHERE name = ?", name);
          Sql.update(connection, "DELETE FROM registered_model_aliases WHERE name = ?", name);
          Sql.update(connection, "DELETE FROM model_versions WHERE name = ?", name);
          Sql.update(connection, "DELETE FROM registered_model_tags WHERE name = ?", name);
          Sql.update(connection, "DELETE FROM registered_models WHERE name = ?", name);
          return null;
        });
  }

  Page<RegisteredModel> searchRegisteredModels(
      String filter,
      boolean hasMaxResults,
      long maxResultsRequested,
      List<String> orderBy,
      String pageToken) {
    int maxResults =
        PageToken.maxResults(
            hasMaxResults, maxResultsRequested, SEARCH_MODELS_DEFAULT, SEARCH_MODELS_LIMIT);
    int offset = PageToken.offset(pageToken);
    SearchQuery query = new SearchQuery(MODEL_FIELDS).filter(filter).orderBy(orderBy);
    return database.read(
        connection -> {
          Page<String> names = query.page(connection, row -> row.getString(1), maxResults, offset);
          List<RegisteredModel> models = new ArrayList<>();
          for (String name : names.items()) {
            models.add(registeredModel(connection, name));
          }
          return new Page<>(models, names.nextPageToken());
        });
  }

  void setRegisteredModelTag(String name, String key, String value) {
    validateName(name);
    Validation.key("Tag", key);
    Validation.value("Tag", key, value, Validation.MAX_TAG_VALUE_LENGTH);
    database.write(
        connection -> {
          requireModel(connection, name);
          Sql.update(
              connection,
              "INSERT OR REPLACE INTO registered_model_tags (key, value, name) VALUES (?, ?, ?)",
              key,
              value,
              name);
          return null;
        });
  }

  void deleteRegisteredModelTag(String name, String key) {
    validateName(name);
    database.write(
        connection -> {
          requireModel(connection, name);
          if (Sql.update(
                  connection,
                  "DELETE FROM registered_model_tags WHERE name = ? AND key = ?",
                  name,
                  key)
              == 0) {
            throw ApiException.notFound(
                "No tag with key " + key + " found for registered model " + name + ".");
          }
          return null;
        });
  }

  private static RegisteredModel registeredModel(Connection connection, String name)
      throws SQLException {
    RegisteredModel.Builder model =
        Sql.first(
                connection,
                "SELECT * FROM registered_models WHERE name = ?",
                row -> {
                  RegisteredModel.Builder builder =
                      RegisteredModel.newBuilder().setName(row.getString("name"));
                  Sql.ifPresent(row, "creation_time", builder::setCreationTimestamp);
                  Sql.ifPresent(row, "last_updated_time", builder::setLastUpdatedTimestamp);
                  if (row.getString("description") != null) {
                    builder.setDescription(row.getString("description"));
                  }
                  return builder;
                },
                name)
            .orElseThrow(() -> modelNotFound(name));
    model.addAllLatestVersions(
        ModelVersionStore.latestVersions(connection, name, ModelVersionStore.STAGES));
    for (RegisteredModelTag tag :
        Sql.list(
            connection,
            "SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key",
            row ->
                RegisteredModelTag.newBuilder()
                    .setKey(row.getString(1))
                    .setValue(nullToEmpty(row.getString(2)))
                    .build(),
            name)) {
      model.addTags(tag);
    }
    for (RegisteredModelAlias alias :
        Sql.list(
            connection,
            "SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias",
            row ->
                RegisteredModelAlias.newBuilder()
                    .setAlias(row.getString(1))
                    .setVersion(Long.toString(row.getLong(2)))
                    .build(),
            name)) {
      model.addAliases(alias);
    }
    return model.build();
  }

  // ---- aliases ----

  void setAlias(String name, String alias, String version) {
    validateName(name);
    validateAlias(alias);
    long number = ModelVersionStore.versionNumber(version);
    database.write(
        connection -> {
          ModelVersionStore.modelVersion(connection, name, number);
          Sql.update(
              connection,
              "INSERT OR REPLACE INTO registered_model_aliases (alias, version, name) VALUES (?, ?, ?)",
              alias,
              number,
              name);
          return null;
        });
  }

  void deleteAlias(String name, String alias) {
    validateName(name);
    validateAlias(alias);
    database.write(
        connection -> {
          requireModel(connection, name);
          if (Sql.update(
                  connection,
                  "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?",
                  name,
                  alias)
              == 0) {
            throw ApiException.notFound(
                "Registered model alias " + alias + " not found for model " + name + ".");
          }
          return null;
        });
  }

  ModelVersion versionByAlias(String name, String alias) {
    validateName(name);
    validateAlias(alias);
    return database.read(
        connection -> {
          requireModel(connection, name);
          long version =
              Sql.first(
                      connection,
                      "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                      row -> row.getLong(1),
                      name,
                      alias)
                  .orElseThrow(
                      () ->
                          ApiException.notFound("Registered model alias " + alias + " not found."));
          return ModelVersionStore.modelVersion(connection, name, version);
        });
  }

  /** A change to a model or its versions is a change to the model. */
  static void touch(Connection connection, String name, long now) throws SQLException {
    Sql.update(
        connection, "UPDATE registered_models SET last_updated_time = ? WHERE name = ?", now, name);
  }

  private static boolean exists(Connection connection, String name) throws SQLException {
    return Sql.first(connection, "SELECT 1 FROM registered_models WHERE name = ?", row -> 1, name)
        .isPresent();
  }

  static void requireModel(Connection connection, String name) throws SQLException {
    if (!exists(connection, name)) {
      throw modelNotFound(name);
    }
  }

  private static ApiException modelNotFound(String name) {
    return ApiException.notFound("Registered Model with name=" + name + " not found");
  }

  static void validateName(String name) {
    if (name == null || name.isEmpty()) {
      throw ApiException.missingParameter("name");
    }
    Validation.value("Registered model", "name", name, 256);
  }

  private static void validateAlias(String alias) {
    if (alias == null || alias.isEmpty()) {
      throw ApiException.missingParameter("alias");
    }
    Validation.value("Alias", "alias", alias, 256);
    // MLflow reserves these forms so that "models:/name@alias" stays unambiguous with versions
    if (alias.matches("(?i)^v\\d+$")
        || alias.equalsIgnoreCase("latest")
        || !alias.matches("^[\\w\\-]+$")) {
      throw ApiException.invalidParameter(
          "Invalid alias '"
              + alias
              + "': aliases may contain alphanumerics,"
              + " underscores and dashes, and cannot be 'latest' or of the form v<number>.");
    }
  }

  static String nullToEmpty(String value) {
    return value == null ? "" : value;
  }
}
