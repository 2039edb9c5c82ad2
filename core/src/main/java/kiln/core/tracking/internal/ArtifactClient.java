package kiln.core.tracking.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import kiln.core.Errors;

/**
 * Downloads a file or a directory tree of artifacts through the tracking server's mlflow-artifacts
 * API.
 */
public final class ArtifactClient {
  private final RestClient rest;

  public ArtifactClient(RestClient rest) {
    this.rest = rest;
  }

  /**
   * Downloads what is under {@code artifactUri} (an {@code mlflow-artifacts:/} URI) into {@code
   * destination}.
   */
  public void download(String artifactUri, Path destination) {
    URI uri = URI.create(artifactUri);
    if (!"mlflow-artifacts".equals(uri.getScheme())) {
      throw Errors.badInput(
          "artifact location " + artifactUri + " is not served by the tracking server",
          "register models from runs whose artifacts the server stores (mlflow-artifacts:/...)");
    }
    String root = uri.getPath().replaceAll("^/+", "").replaceAll("/+$", "");
    RegistryClient.call(
        "download the artifacts at " + artifactUri,
        () -> {
          try {
            downloadTree(root, destination);
          } catch (IOException e) {
            throw new UncheckedIOException(
                "cannot write the artifacts of " + artifactUri + " to " + destination, e);
          }
          return null;
        });
  }

  private void downloadTree(String path, Path destination) throws IOException {
    JsonNode files = rest.listArtifacts(path).path("files");
    if (files.isEmpty()) {
      // a file, or nothing: GET says which
      Files.createDirectories(destination.getParent());
      rest.getArtifact(path, destination);
      return;
    }
    Files.createDirectories(destination);
    for (JsonNode file : files) {
      String entry = file.path("path").asText();
      String name = entry.substring(entry.lastIndexOf('/') + 1);
      if (name.isEmpty() || name.equals(".") || name.equals("..")) {
        continue;
      }
      if (file.path("is_dir").asBoolean()) {
        downloadTree(path + "/" + name, destination.resolve(name));
      } else {
        rest.getArtifact(path + "/" + name, destination.resolve(name));
      }
    }
  }
}
