package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.ModelRegistry.ModelVersion;
import org.mlflow.api.proto.ModelRegistry.RegisteredModel;
import org.mlflow.tracking.MlflowClient;
import org.mlflow.tracking.MlflowHttpException;

/**
 * The model registry through mlflow-client 2.17.2: its getters directly, its writes through
 * sendPost/sendPatch/sendGet (it has no typed methods for them), and plain HTTP for DELETE and
 * aliases, which it cannot send at all.
 */
class RegistryTest {
  @TempDir static Path store;

  private static TrackingServer server;
  private static MlflowClient client;
  private static Http http;

  @BeforeAll
  static void start() {
    server = TestServers.start(store);
    client = TestServers.client(server);
    http = new Http(server.uri());
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  private static String createVersion(String model, String runId) {
    String response =
        client.sendPost(
            "model-versions/create",
            "{\"name\":\""
                + model
                + "\",\"source\":\"runs:/"
                + runId
                + "/model\",\"run_id\":\""
                + runId
                + "\"}");
    return Http.json(response).path("model_version").path("version").asText();
  }

  /**
   * What MLflow 3's Python client sends on every model search, as a real MLflow 3.17 server answers
   * it.
   */
  @Test
  void modelSearchesHidingPromptsKeepModelsWithoutThePromptTag() {
    String runId = client.createRun(client.createExperiment("registry-prompts")).getRunId();
    client.sendPost("registered-models/create", "{\"name\":\"plain-model\"}");
    client.sendPost(
        "registered-models/create",
        "{\"name\":\"plain-prompt\","
            + "\"tags\":[{\"key\":\"mlflow.prompt.is_prompt\",\"value\":\"true\"}]}");
    client.sendPost(
        "registered-models/create",
        "{\"name\":\"plain-owned\"," + "\"tags\":[{\"key\":\"owner\",\"value\":\"a\"}]}");
    createVersion("plain-model", runId);
    String notPrompt = "tags.%60mlflow.prompt.is_prompt%60%20!%3D%20%27true%27";

    assertThat(
            modelNames(
                "registered-models/search?filter="
                    + notPrompt
                    + "%20AND%20name%20LIKE%20%27plain-%25%27"))
        .containsExactly("plain-model", "plain-owned");
    assertThat(
            Http.json(
                    client.sendGet(
                        "model-versions/search?filter="
                            + notPrompt
                            + "%20AND%20name%20%3D%20%27plain-model%27"))
                .path("model_versions")
                .findValuesAsText("version"))
        .containsExactly("1");
    // any other tag's != still needs the tag, as in MLflow's store
    assertThat(
            modelNames(
                "registered-models/search?filter=tags.owner%20!%3D%20%27x%27%20AND%20name%20LIKE%20%27plain-%25%27"))
        .containsExactly("plain-owned");
  }

  private static List<String> modelNames(String search) {
    List<String> names = new java.util.ArrayList<>();
    Http.json(client.sendGet(search))
        .path("registered_models")
        .forEach(model -> names.add(model.path("name").asText()));
    return names;
  }

  @Test
  void registeredModelsAndVersionsLifecycle() {
    String runId = client.createRun(client.createExperiment("registry-lifecycle")).getRunId();
    client.sendPost(
        "registered-models/create",
        "{\"name\":\"churn\",\"description\":\"first\","
            + "\"tags\":[{\"key\":\"team\",\"value\":\"kiln\"}]}");
    RegisteredModel model = client.getRegisteredModel("churn");
    assertThat(model.getDescription()).isEqualTo("first");
    assertThat(model.getTagsList())
        .extracting(t -> t.getKey() + "=" + t.getValue())
        .containsExactly("team=kiln");

    assertThat(createVersion("churn", runId)).isEqualTo("1");
    assertThat(createVersion("churn", runId)).isEqualTo("2");
    assertThat(createVersion("churn", runId)).isEqualTo("3");
    ModelVersion version = client.getModelVersion("churn", "2");
    assertThat(version.getSource()).isEqualTo("runs:/" + runId + "/model");
    assertThat(version.getRunId()).isEqualTo(runId);
    assertThat(version.getCurrentStage()).isEqualTo("None");
    assertThat(version.getStatus().name()).isEqualTo("READY");
    assertThat(client.getModelVersionDownloadUri("churn", "2"))
        .isEqualTo("runs:/" + runId + "/model");

    client.sendPatch(
        "model-versions/update",
        "{\"name\":\"churn\",\"version\":\"2\",\"description\":\"better\"}");
    assertThat(client.getModelVersion("churn", "2").getDescription()).isEqualTo("better");
    client.sendPatch("registered-models/update", "{\"name\":\"churn\",\"description\":\"second\"}");
    assertThat(client.getRegisteredModel("churn").getDescription()).isEqualTo("second");

    client.sendPost(
        "model-versions/transition-stage",
        "{\"name\":\"churn\",\"version\":\"1\",\"stage\":\"production\"}");
    client.sendPost(
        "model-versions/transition-stage",
        "{\"name\":\"churn\",\"version\":\"2\",\"stage\":\"Production\",\"archive_existing_versions\":true}");
    assertThat(client.getModelVersion("churn", "1").getCurrentStage()).isEqualTo("Archived");
    assertThat(client.getLatestVersions("churn", List.of("Production")))
        .extracting(ModelVersion::getVersion)
        .containsExactly("2");
    assertThat(client.getLatestVersions("churn"))
        .extracting(v -> v.getCurrentStage() + ":" + v.getVersion())
        .containsExactly("None:3", "Production:2", "Archived:1");
    assertThat(client.getRegisteredModel("churn").getLatestVersionsList()).hasSize(3);

    client.sendPost(
        "model-versions/set-tag",
        "{\"name\":\"churn\",\"version\":\"3\",\"key\":\"validated\",\"value\":\"no\"}");
    client.sendPost(
        "registered-models/set-tag", "{\"name\":\"churn\",\"key\":\"owner\",\"value\":\"ops\"}");
    assertThat(client.getModelVersion("churn", "3").getTagsList())
        .extracting(t -> t.getKey())
        .containsExactly("validated");
    assertThat(
            http.api(
                    "DELETE",
                    "model-versions/delete-tag",
                    "{\"name\":\"churn\",\"version\":\"3\",\"key\":\"validated\"}")
                .status())
        .isEqualTo(200);
    assertThat(client.getModelVersion("churn", "3").getTagsList()).isEmpty();
    assertThat(
            http.api(
                    "DELETE",
                    "registered-models/delete-tag",
                    "{\"name\":\"churn\",\"key\":\"owner\"}")
                .status())
        .isEqualTo(200);
    assertThat(client.getRegisteredModel("churn").getTagsList())
        .extracting(t -> t.getKey())
        .containsExactly("team");

    assertThat(client.searchModelVersions("name = 'churn'").getItems())
        .extracting(ModelVersion::getVersion)
        .containsExactly("3", "2", "1");
    assertThat(
            client
                .searchModelVersions(
                    "run_id = '" + runId + "' AND version_number >= 2",
                    10,
                    List.of("version_number ASC"))
                .getItems())
        .extracting(ModelVersion::getVersion)
        .containsExactly("2", "3");
    assertThat(
            Http.json(client.sendGet("registered-models/search?filter=name%20LIKE%20%27chu%25%27"))
                .path("registered_models")
                .get(0)
                .path("name")
                .asText())
        .isEqualTo("churn");

    assertThat(
            http.api("DELETE", "model-versions/delete", "{\"name\":\"churn\",\"version\":\"3\"}")
                .status())
        .isEqualTo(200);
    assertThat(http.api("GET", "model-versions/get?name=churn&version=3", null).status())
        .isEqualTo(404);
    // a deleted version's number is never handed out again
    assertThat(createVersion("churn", runId)).isEqualTo("4");

    client.sendPost("registered-models/rename", "{\"name\":\"churn\",\"new_name\":\"churn-v2\"}");
    assertThat(client.getModelVersion("churn-v2", "2").getDescription()).isEqualTo("better");
    assertThat(http.api("GET", "registered-models/get?name=churn", null).status()).isEqualTo(404);

    assertThat(http.api("DELETE", "registered-models/delete", "{\"name\":\"churn-v2\"}").status())
        .isEqualTo(200);
    Http.Response gone = http.api("GET", "registered-models/get?name=churn-v2", null);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(Http.json(gone.body()).path("error_code").asText())
        .isEqualTo("RESOURCE_DOES_NOT_EXIST");
    assertThat(client.searchModelVersions("name = 'churn-v2'").getItems()).isEmpty();
  }

  @Test
  void duplicateModelNamesAndUnknownVersionsAreRejected() {
    client.sendPost("registered-models/create", "{\"name\":\"dup\"}");
    try {
      client.sendPost("registered-models/create", "{\"name\":\"dup\"}");
      throw new AssertionError("a duplicate registered model was accepted");
    } catch (MlflowHttpException e) {
      assertThat(e.getStatusCode()).isEqualTo(400);
      assertThat(e.getBodyMessage()).contains("RESOURCE_ALREADY_EXISTS");
    }
    try {
      client.getModelVersion("dup", "7");
      throw new AssertionError("an unknown model version was found");
    } catch (MlflowHttpException e) {
      assertThat(e.getStatusCode()).isEqualTo(404);
      assertThat(e.getBodyMessage()).contains("RESOURCE_DOES_NOT_EXIST");
    }
    Http.Response notANumber = http.api("GET", "model-versions/get?name=dup&version=seven", null);
    assertThat(notANumber.status()).isEqualTo(400);
    assertThat(Http.json(notANumber.body()).path("error_code").asText())
        .isEqualTo("INVALID_PARAMETER_VALUE");
  }

  @Test
  void aliasesOverHttp() {
    String runId = client.createRun(client.createExperiment("registry-aliases")).getRunId();
    client.sendPost("registered-models/create", "{\"name\":\"scorer\"}");
    createVersion("scorer", runId);
    createVersion("scorer", runId);

    assertThat(
            http.api(
                    "POST",
                    "registered-models/alias",
                    "{\"name\":\"scorer\",\"alias\":\"champion\",\"version\":\"2\"}")
                .status())
        .isEqualTo(200);
    assertThat(
            http.api(
                    "POST",
                    "registered-models/alias",
                    "{\"name\":\"scorer\",\"alias\":\"previous\",\"version\":\"1\"}")
                .status())
        .isEqualTo(200);
    Http.Response champion =
        http.api("GET", "registered-models/alias?name=scorer&alias=champion", null);
    assertThat(champion.status()).isEqualTo(200);
    assertThat(Http.json(champion.body()).path("model_version").path("version").asText())
        .isEqualTo("2");
    assertThat(client.getModelVersion("scorer", "2").getAliasesList()).containsExactly("champion");
    assertThat(client.getRegisteredModel("scorer").getAliasesList())
        .extracting(a -> a.getAlias() + "->" + a.getVersion())
        .containsExactly("champion->2", "previous->1");

    // moving an alias replaces it
    http.api(
        "POST",
        "registered-models/alias",
        "{\"name\":\"scorer\",\"alias\":\"champion\",\"version\":\"1\"}");
    assertThat(
            Http.json(
                    http.api("GET", "registered-models/alias?name=scorer&alias=champion", null)
                        .body())
                .path("model_version")
                .path("version")
                .asText())
        .isEqualTo("1");

    assertThat(
            http.api(
                    "DELETE",
                    "registered-models/alias",
                    "{\"name\":\"scorer\",\"alias\":\"champion\"}")
                .status())
        .isEqualTo(200);
    Http.Response missing =
        http.api("GET", "registered-models/alias?name=scorer&alias=champion", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(Http.json(missing.body()).path("error_code").asText())
        .isEqualTo("RESOURCE_DOES_NOT_EXIST");
    Http.Response deleteAgain =
        http.send(
            "DELETE", "/api/2.0/mlflow/registered-models/alias?name=scorer&alias=champion", null);
    assertThat(deleteAgain.status()).isEqualTo(404);

    Http.Response unknownVersion =
        http.api(
            "POST",
            "registered-models/alias",
            "{\"name\":\"scorer\",\"alias\":\"x\",\"version\":\"9\"}");
    assertThat(unknownVersion.status()).isEqualTo(404);
    Http.Response reserved =
        http.api(
            "POST",
            "registered-models/alias",
            "{\"name\":\"scorer\",\"alias\":\"v3\",\"version\":\"1\"}");
    assertThat(reserved.status()).isEqualTo(400);
    assertThat(Http.json(reserved.body()).path("error_code").asText())
        .isEqualTo("INVALID_PARAMETER_VALUE");
  }
}
