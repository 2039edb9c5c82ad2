package kiln.tracking.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.tracking.MlflowClient;
import org.mlflow.tracking.MlflowHttpException;
import org.mlflow.tracking.creds.BasicMlflowHostCreds;

class AuthTest {
  @TempDir Path directory;

  @Test
  void withAnAuthFileEveryApiRequestNeedsValidCredentials() throws Exception {
    Path authFile = directory.resolve("users");
    Files.writeString(
        authFile,
        "# Kiln users\nalice:s3cret\n\nbob:sha256:"
            + HexFormat.of().formatHex(BasicAuth.sha256("hunter2"))
            + "\n");
    try (TrackingServer server =
        TestServers.start(
            TrackingServer.builder()
                .storeDirectory(directory.resolve("store"))
                .authFile(authFile))) {
      Http anonymous = new Http(server.uri());
      Http.Response refused = anonymous.api("POST", "experiments/create", "{\"name\":\"x\"}");
      assertThat(refused.status()).isEqualTo(401);
      assertThat(refused.headers().firstValue("WWW-Authenticate"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
      assertThat(Http.json(refused.body()).path("error_code").asText())
          .isEqualTo("UNAUTHENTICATED");
      assertThat(anonymous.send("GET", "/api/2.0/mlflow-artifacts/artifacts?path=", null).status())
          .isEqualTo(401);
      assertThat(
              anonymous
                  .withBasicAuth("alice", "wrong")
                  .api("GET", "experiments/get?experiment_id=0", null)
                  .status())
          .isEqualTo(401);
      assertThat(
              anonymous
                  .withBasicAuth("mallory", "s3cret")
                  .api("GET", "experiments/get?experiment_id=0", null)
                  .status())
          .isEqualTo(401);
      assertThat(anonymous.send("GET", "/health", null).status()).isEqualTo(200);

      try (MlflowClient alice =
              new MlflowClient(
                  new BasicMlflowHostCreds(server.uri().toString(), "alice", "s3cret"));
          MlflowClient bob =
              new MlflowClient(
                  new BasicMlflowHostCreds(server.uri().toString(), "bob", "hunter2"));
          MlflowClient nobody = new MlflowClient(server.uri().toString())) {
        String id = alice.createExperiment("authorized");
        assertThat(bob.getExperiment(id).getName()).isEqualTo("authorized");
        assertThatThrownBy(() -> nobody.getExperiment(id))
            .isInstanceOfSatisfying(
                MlflowHttpException.class, e -> assertThat(e.getStatusCode()).isEqualTo(401));
      }
      assertThat(
              StoreSnapshot.count(
                  server.databaseFile(), "SELECT COUNT(*) FROM experiments WHERE name = 'x'"))
          .isZero();
    }
  }

  @Test
  void withoutAnAuthFileNoCredentialsAreNeeded() {
    try (TrackingServer server = TestServers.start(directory.resolve("open"))) {
      Http.Response created =
          new Http(server.uri()).api("POST", "experiments/create", "{\"name\":\"open\"}");
      assertThat(created.status()).isEqualTo(200);
    }
  }

  @Test
  void anAuthFileWithoutUsersIsRefused() throws Exception {
    Path authFile = directory.resolve("empty");
    Files.writeString(authFile, "# nobody\n");
    assertThatThrownBy(
            () ->
                TestServers.start(
                    TrackingServer.builder()
                        .storeDirectory(directory.resolve("s"))
                        .authFile(authFile)))
        .hasMessageContaining("names no user");
  }
}
