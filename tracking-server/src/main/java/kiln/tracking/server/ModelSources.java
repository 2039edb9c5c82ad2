package kiln.tracking.server;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * Checks a model version's source as MLflow's server does after its CVE fixes: no relative-path
 * tricks in any URI, and a local source only when it lies inside the artifact directory of the run
 * the version is created from.
 */
final class ModelSources {
  private static final String RUN_ARTIFACTS_PREFIX = "mlflow-artifacts:/";

  private final ArtifactStore artifacts;
  private final RunStore runs;

  ModelSources(ArtifactStore artifacts, RunStore runs) {
    this.artifacts = artifacts;
    this.runs = runs;
  }

  void validate(String source, String runId) {
    if (SafePaths.hasTraversal(source)) {
      throw invalid(source, "it contains a relative path segment, a backslash or a fragment");
    }
    String scheme = SafePaths.lowerScheme(source);
    boolean local =
        scheme.equals("file") || scheme.isEmpty() || source.matches("^[A-Za-z]:[\\\\/].*");
    if (!local) {
      if (scheme.equals("mlflow-artifacts")) {
        // resolving proves the path stays under the artifact root
        artifacts.resolve(mlflowArtifactsPath(source));
      }
      return;
    }
    if (runId == null || runId.isEmpty()) {
      throw invalid(
          source,
          "a local source needs the run_id of the run whose artifact directory contains it");
    }
    RunStore.RunRecord run = runs.runRecord(runId);
    Path path = localPath(source);
    String runArtifacts = run.artifactUri();
    if (runArtifacts == null || !runArtifacts.startsWith(RUN_ARTIFACTS_PREFIX)) {
      throw invalid(
          source, "run " + runId + " does not keep its artifacts in this server's artifact root");
    }
    Path runDirectory = artifacts.resolve(runArtifacts.substring(RUN_ARTIFACTS_PREFIX.length()));
    if (!path.startsWith(runDirectory)) {
      throw invalid(source, "it lies outside the artifact directory of run " + runId);
    }
  }

  private static String mlflowArtifactsPath(String source) {
    try {
      URI uri = new URI(source);
      String path = uri.getRawPath() == null ? "" : uri.getRawPath();
      String decoded = SafePaths.percentDecode(path);
      if (decoded == null) {
        throw invalid(source, "it is not valid percent-encoding");
      }
      return decoded.startsWith("/") ? decoded.substring(1) : decoded;
    } catch (URISyntaxException e) {
      throw invalid(source, "it is not a valid URI");
    }
  }

  private static Path localPath(String source) {
    try {
      Path path;
      if (source.regionMatches(true, 0, "file:", 0, 5)) {
        URI uri = new URI(source);
        if (uri.getAuthority() != null
            && !uri.getAuthority().isEmpty()
            && !uri.getAuthority().equals("localhost")) {
          throw invalid(source, "a file URI must name no other host");
        }
        path = Path.of(uri.getPath());
      } else {
        path = Path.of(source);
      }
      if (!path.isAbsolute()) {
        throw invalid(source, "a local source must be an absolute path");
      }
      return path.normalize();
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw invalid(source, "it is not a valid path or file URI");
    }
  }

  private static ApiException invalid(String source, String reason) {
    return ApiException.invalidParameter(
        "Invalid model version source: '"
            + Validation.abbreviate(source)
            + "': "
            + reason
            + ". Use runs:/<run_id>/<path>, models:/..., a remote URI, or a path inside the run's artifact directory.");
  }
}
