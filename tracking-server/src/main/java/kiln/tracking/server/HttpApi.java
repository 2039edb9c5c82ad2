package kiln.tracking.server;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.mlflow.api.proto.MlflowArtifacts.DeleteArtifact;
import org.mlflow.api.proto.MlflowArtifacts.ListArtifacts;
import org.mlflow.api.proto.MlflowArtifacts.UploadArtifact;
import org.mlflow.api.proto.ModelRegistry.CreateModelVersion;
import org.mlflow.api.proto.ModelRegistry.CreateRegisteredModel;
import org.mlflow.api.proto.ModelRegistry.DeleteModelVersion;
import org.mlflow.api.proto.ModelRegistry.DeleteModelVersionTag;
import org.mlflow.api.proto.ModelRegistry.DeleteRegisteredModel;
import org.mlflow.api.proto.ModelRegistry.DeleteRegisteredModelAlias;
import org.mlflow.api.proto.ModelRegistry.DeleteRegisteredModelTag;
import org.mlflow.api.proto.ModelRegistry.GetLatestVersions;
import org.mlflow.api.proto.ModelRegistry.GetModelVersion;
import org.mlflow.api.proto.ModelRegistry.GetModelVersionByAlias;
import org.mlflow.api.proto.ModelRegistry.GetModelVersionDownloadUri;
import org.mlflow.api.proto.ModelRegistry.GetRegisteredModel;
import org.mlflow.api.proto.ModelRegistry.RenameRegisteredModel;
import org.mlflow.api.proto.ModelRegistry.SearchModelVersions;
import org.mlflow.api.proto.ModelRegistry.SearchRegisteredModels;
import org.mlflow.api.proto.ModelRegistry.SetModelVersionTag;
import org.mlflow.api.proto.ModelRegistry.SetRegisteredModelAlias;
import org.mlflow.api.proto.ModelRegistry.SetRegisteredModelTag;
import org.mlflow.api.proto.ModelRegistry.TransitionModelVersionStage;
import org.mlflow.api.proto.ModelRegistry.UpdateModelVersion;
import org.mlflow.api.proto.ModelRegistry.UpdateRegisteredModel;
import org.mlflow.api.proto.Service.CreateExperiment;
import org.mlflow.api.proto.Service.CreateRun;
import org.mlflow.api.proto.Service.DeleteExperiment;
import org.mlflow.api.proto.Service.DeleteRun;
import org.mlflow.api.proto.Service.DeleteTag;
import org.mlflow.api.proto.Service.GetExperiment;
import org.mlflow.api.proto.Service.GetExperimentByName;
import org.mlflow.api.proto.Service.GetMetricHistory;
import org.mlflow.api.proto.Service.GetRun;
import org.mlflow.api.proto.Service.LogBatch;
import org.mlflow.api.proto.Service.LogInputs;
import org.mlflow.api.proto.Service.LogMetric;
import org.mlflow.api.proto.Service.LogParam;
import org.mlflow.api.proto.Service.Metric;
import org.mlflow.api.proto.Service.Param;
import org.mlflow.api.proto.Service.RestoreExperiment;
import org.mlflow.api.proto.Service.RestoreRun;
import org.mlflow.api.proto.Service.RunTag;
import org.mlflow.api.proto.Service.SearchExperiments;
import org.mlflow.api.proto.Service.SearchRuns;
import org.mlflow.api.proto.Service.SetExperimentTag;
import org.mlflow.api.proto.Service.SetTag;
import org.mlflow.api.proto.Service.UpdateExperiment;
import org.mlflow.api.proto.Service.UpdateRun;
import org.mlflow_project.google.protobuf.Message;

/**
 * Routes HTTP requests to the stores and is the one place that turns failures into MLflow's error
 * JSON; clients never see a stack trace.
 */
final class HttpApi implements HttpHandler {
  private static final System.Logger LOG = System.getLogger(HttpApi.class.getName());
  private static final List<String> API_PREFIXES =
      List.of("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/");
  private static final List<String> ARTIFACT_PREFIXES =
      List.of("/api/2.0/mlflow-artifacts/artifacts", "/ajax-api/2.0/mlflow-artifacts/artifacts");

  private static final long DISCARD_LIMIT_BYTES = 256L * 1024 * 1024;

  private record Route(Message prototype, Function<Message, Message> action) {}

  private final Map<String, Route> routes = new HashMap<>();
  private final ExperimentStore experiments;
  private final RunStore runs;
  private final RunDataStore runData;
  private final RegisteredModelStore models;
  private final ModelVersionStore versions;
  private final ArtifactStore artifacts;
  private final ModelSources sources;
  private final BasicAuth auth;
  private final RequestGuard guard;
  private final long maxRequestBytes;
  private final long maxArtifactBytes;

  HttpApi(
      ExperimentStore experiments,
      RunStore runs,
      RunDataStore runData,
      RegisteredModelStore models,
      ModelVersionStore versions,
      ArtifactStore artifacts,
      BasicAuth auth,
      RequestGuard guard,
      long maxRequestBytes,
      long maxArtifactBytes) {
    this.experiments = experiments;
    this.runs = runs;
    this.runData = runData;
    this.models = models;
    this.versions = versions;
    this.artifacts = artifacts;
    this.sources = new ModelSources(artifacts, runs);
    this.auth = auth;
    this.guard = guard;
    this.maxRequestBytes = maxRequestBytes;
    this.maxArtifactBytes = maxArtifactBytes;
    trackingRoutes();
    registryRoutes();
  }

  private <T extends Message> void route(
      String methods, String path, T prototype, Function<T, Message> action) {
    @SuppressWarnings("unchecked")
    Function<Message, Message> untyped = message -> action.apply((T) message);
    for (String method : methods.split(",")) {
      routes.put(method + " " + path, new Route(prototype, untyped));
    }
  }

  /** Every API route as "METHOD path" with its request prototype, for tests that cover them all. */
  Map<String, Message> endpoints() {
    Map<String, Message> endpoints = new java.util.TreeMap<>();
    routes.forEach((key, route) -> endpoints.put(key, route.prototype()));
    return endpoints;
  }

  private static String runId(boolean hasRunId, String runId, boolean hasRunUuid, String runUuid) {
    return Validation.required(
        "run_id", hasRunId || hasRunUuid, hasRunId && !runId.isEmpty() ? runId : runUuid);
  }

  private void trackingRoutes() {
    route(
        "POST",
        "experiments/create",
        CreateExperiment.getDefaultInstance(),
        request ->
            CreateExperiment.Response.newBuilder()
                .setExperimentId(experiments.createExperiment(request))
                .build());
    route(
        "GET",
        "experiments/get",
        GetExperiment.getDefaultInstance(),
        request ->
            GetExperiment.Response.newBuilder()
                .setExperiment(
                    experiments.experiment(
                        Validation.required(
                            "experiment_id", request.hasExperimentId(), request.getExperimentId())))
                .build());
    route(
        "GET",
        "experiments/get-by-name",
        GetExperimentByName.getDefaultInstance(),
        request ->
            GetExperimentByName.Response.newBuilder()
                .setExperiment(
                    experiments.experimentByName(
                        Validation.required(
                            "experiment_name",
                            request.hasExperimentName(),
                            request.getExperimentName())))
                .build());
    route(
        "GET,POST",
        "experiments/search",
        SearchExperiments.getDefaultInstance(),
        experiments::searchExperiments);
    route(
        "POST",
        "experiments/update",
        UpdateExperiment.getDefaultInstance(),
        request -> {
          experiments.renameExperiment(
              Validation.required(
                  "experiment_id", request.hasExperimentId(), request.getExperimentId()),
              Validation.required("new_name", request.hasNewName(), request.getNewName()));
          return UpdateExperiment.Response.getDefaultInstance();
        });
    route(
        "POST",
        "experiments/delete",
        DeleteExperiment.getDefaultInstance(),
        request -> {
          experiments.deleteExperiment(
              Validation.required(
                  "experiment_id", request.hasExperimentId(), request.getExperimentId()));
          return DeleteExperiment.Response.getDefaultInstance();
        });
    route(
        "POST",
        "experiments/restore",
        RestoreExperiment.getDefaultInstance(),
        request -> {
          experiments.restoreExperiment(
              Validation.required(
                  "experiment_id", request.hasExperimentId(), request.getExperimentId()));
          return RestoreExperiment.Response.getDefaultInstance();
        });
    route(
        "POST",
        "experiments/set-experiment-tag",
        SetExperimentTag.getDefaultInstance(),
        request -> {
          experiments.setExperimentTag(
              Validation.required(
                  "experiment_id", request.hasExperimentId(), request.getExperimentId()),
              Validation.required("key", request.hasKey(), request.getKey()),
              request.getValue());
          return SetExperimentTag.Response.getDefaultInstance();
        });

    route(
        "POST",
        "runs/create",
        CreateRun.getDefaultInstance(),
        request -> CreateRun.Response.newBuilder().setRun(runs.createRun(request)).build());
    route(
        "GET",
        "runs/get",
        GetRun.getDefaultInstance(),
        request ->
            GetRun.Response.newBuilder()
                .setRun(
                    runs.run(
                        runId(
                            request.hasRunId(),
                            request.getRunId(),
                            request.hasRunUuid(),
                            request.getRunUuid())))
                .build());
    route(
        "POST",
        "runs/update",
        UpdateRun.getDefaultInstance(),
        request -> UpdateRun.Response.newBuilder().setRunInfo(runs.updateRun(request)).build());
    route(
        "POST",
        "runs/delete",
        DeleteRun.getDefaultInstance(),
        request -> {
          runs.deleteRun(Validation.required("run_id", request.hasRunId(), request.getRunId()));
          return DeleteRun.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/restore",
        RestoreRun.getDefaultInstance(),
        request -> {
          runs.restoreRun(Validation.required("run_id", request.hasRunId(), request.getRunId()));
          return RestoreRun.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/log-metric",
        LogMetric.getDefaultInstance(),
        request -> {
          String runId =
              runId(
                  request.hasRunId(),
                  request.getRunId(),
                  request.hasRunUuid(),
                  request.getRunUuid());
          Validation.required("key", request.hasKey(), request.getKey());
          if (!request.hasValue()) {
            throw ApiException.missingParameter("value");
          }
          if (!request.hasTimestamp()) {
            throw ApiException.missingParameter("timestamp");
          }
          Metric metric =
              Metric.newBuilder()
                  .setKey(request.getKey())
                  .setValue(request.getValue())
                  .setTimestamp(request.getTimestamp())
                  .setStep(request.getStep())
                  .build();
          runData.logBatch(runId, List.of(metric), List.of(), List.of());
          return LogMetric.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/log-parameter",
        LogParam.getDefaultInstance(),
        request -> {
          String runId =
              runId(
                  request.hasRunId(),
                  request.getRunId(),
                  request.hasRunUuid(),
                  request.getRunUuid());
          Validation.required("key", request.hasKey(), request.getKey());
          if (!request.hasValue()) {
            throw ApiException.missingParameter("value");
          }
          runData.logBatch(
              runId,
              List.of(),
              List.of(
                  Param.newBuilder().setKey(request.getKey()).setValue(request.getValue()).build()),
              List.of());
          return LogParam.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/set-tag",
        SetTag.getDefaultInstance(),
        request -> {
          String runId =
              runId(
                  request.hasRunId(),
                  request.getRunId(),
                  request.hasRunUuid(),
                  request.getRunUuid());
          runData.setTag(
              runId,
              Validation.required("key", request.hasKey(), request.getKey()),
              request.getValue());
          return SetTag.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/delete-tag",
        DeleteTag.getDefaultInstance(),
        request -> {
          runData.deleteTag(
              Validation.required("run_id", request.hasRunId(), request.getRunId()),
              Validation.required("key", request.hasKey(), request.getKey()));
          return DeleteTag.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/log-batch",
        LogBatch.getDefaultInstance(),
        request -> {
          List<RunTag> tags = request.getTagsList();
          runData.logBatch(
              Validation.required("run_id", request.hasRunId(), request.getRunId()),
              request.getMetricsList(),
              request.getParamsList(),
              tags);
          return LogBatch.Response.getDefaultInstance();
        });
    route(
        "POST",
        "runs/log-inputs",
        LogInputs.getDefaultInstance(),
        request -> {
          runData.logInputs(
              Validation.required("run_id", request.hasRunId(), request.getRunId()),
              request.getDatasetsList());
          return LogInputs.Response.getDefaultInstance();
        });
    route("POST", "runs/search", SearchRuns.getDefaultInstance(), runs::searchRuns);
    route(
        "GET",
        "metrics/get-history",
        GetMetricHistory.getDefaultInstance(),
        runData::metricHistory);
  }

  private void registryRoutes() {
    route(
        "POST",
        "registered-models/create",
        CreateRegisteredModel.getDefaultInstance(),
        request ->
            CreateRegisteredModel.Response.newBuilder()
                .setRegisteredModel(
                    models.createRegisteredModel(
                        request.getName(),
                        request.getTagsList(),
                        request.hasDescription() ? request.getDescription() : null))
                .build());
    route(
        "GET",
        "registered-models/get",
        GetRegisteredModel.getDefaultInstance(),
        request ->
            GetRegisteredModel.Response.newBuilder()
                .setRegisteredModel(models.registeredModel(request.getName()))
                .build());
    route(
        "POST",
        "registered-models/rename",
        RenameRegisteredModel.getDefaultInstance(),
        request ->
            RenameRegisteredModel.Response.newBuilder()
                .setRegisteredModel(
                    models.renameRegisteredModel(
                        request.getName(),
                        Validation.required(
                            "new_name", request.hasNewName(), request.getNewName())))
                .build());
    route(
        "PATCH",
        "registered-models/update",
        UpdateRegisteredModel.getDefaultInstance(),
        request ->
            UpdateRegisteredModel.Response.newBuilder()
                .setRegisteredModel(
                    models.updateRegisteredModel(
                        request.getName(),
                        request.hasDescription() ? request.getDescription() : null))
                .build());
    route(
        "DELETE",
        "registered-models/delete",
        DeleteRegisteredModel.getDefaultInstance(),
        request -> {
          models.deleteRegisteredModel(request.getName());
          return DeleteRegisteredModel.Response.getDefaultInstance();
        });
    route(
        "GET",
        "registered-models/search",
        SearchRegisteredModels.getDefaultInstance(),
        request -> {
          SearchQuery.Page<org.mlflow.api.proto.ModelRegistry.RegisteredModel> page =
              models.searchRegisteredModels(
                  request.getFilter(),
                  request.hasMaxResults(),
                  request.getMaxResults(),
                  request.getOrderByList(),
                  request.getPageToken());
          SearchRegisteredModels.Response.Builder response =
              SearchRegisteredModels.Response.newBuilder().addAllRegisteredModels(page.items());
          if (page.nextPageToken() != null) {
            response.setNextPageToken(page.nextPageToken());
          }
          return response.build();
        });
    route(
        "POST,GET",
        "registered-models/get-latest-versions",
        GetLatestVersions.getDefaultInstance(),
        request ->
            GetLatestVersions.Response.newBuilder()
                .addAllModelVersions(
                    versions.latestVersions(request.getName(), request.getStagesList()))
                .build());
    route(
        "POST",
        "registered-models/set-tag",
        SetRegisteredModelTag.getDefaultInstance(),
        request -> {
          models.setRegisteredModelTag(
              request.getName(),
              Validation.required("key", request.hasKey(), request.getKey()),
              request.getValue());
          return SetRegisteredModelTag.Response.getDefaultInstance();
        });
    route(
        "DELETE",
        "registered-models/delete-tag",
        DeleteRegisteredModelTag.getDefaultInstance(),
        request -> {
          models.deleteRegisteredModelTag(
              request.getName(), Validation.required("key", request.hasKey(), request.getKey()));
          return DeleteRegisteredModelTag.Response.getDefaultInstance();
        });
    route(
        "POST",
        "registered-models/alias",
        SetRegisteredModelAlias.getDefaultInstance(),
        request -> {
          models.setAlias(request.getName(), request.getAlias(), request.getVersion());
          return SetRegisteredModelAlias.Response.getDefaultInstance();
        });
    route(
        "DELETE",
        "registered-models/alias",
        DeleteRegisteredModelAlias.getDefaultInstance(),
        request -> {
          models.deleteAlias(request.getName(), request.getAlias());
          return DeleteRegisteredModelAlias.Response.getDefaultInstance();
        });
    route(
        "GET",
        "registered-models/alias",
        GetModelVersionByAlias.getDefaultInstance(),
        request ->
            GetModelVersionByAlias.Response.newBuilder()
                .setModelVersion(models.versionByAlias(request.getName(), request.getAlias()))
                .build());

    route(
        "POST",
        "model-versions/create",
        CreateModelVersion.getDefaultInstance(),
        request -> {
          String source = Validation.required("source", request.hasSource(), request.getSource());
          String runId =
              request.hasRunId() && !request.getRunId().isEmpty()
                  ? Validation.runId(request.getRunId())
                  : null;
          if (request.getName().isEmpty()) {
            throw ApiException.missingParameter("name");
          }
          sources.validate(source, runId);
          return CreateModelVersion.Response.newBuilder()
              .setModelVersion(
                  versions.createModelVersion(
                      request.getName(),
                      source,
                      runId,
                      request.getTagsList(),
                      request.hasRunLink() ? request.getRunLink() : null,
                      request.hasDescription() ? request.getDescription() : null))
              .build();
        });
    route(
        "GET",
        "model-versions/get",
        GetModelVersion.getDefaultInstance(),
        request ->
            GetModelVersion.Response.newBuilder()
                .setModelVersion(versions.modelVersion(request.getName(), request.getVersion()))
                .build());
    route(
        "PATCH",
        "model-versions/update",
        UpdateModelVersion.getDefaultInstance(),
        request ->
            UpdateModelVersion.Response.newBuilder()
                .setModelVersion(
                    versions.updateModelVersion(
                        request.getName(),
                        request.getVersion(),
                        request.hasDescription() ? request.getDescription() : null))
                .build());
    route(
        "DELETE",
        "model-versions/delete",
        DeleteModelVersion.getDefaultInstance(),
        request -> {
          versions.deleteModelVersion(request.getName(), request.getVersion());
          return DeleteModelVersion.Response.getDefaultInstance();
        });
    route(
        "GET",
        "model-versions/search",
        SearchModelVersions.getDefaultInstance(),
        request -> {
          SearchQuery.Page<org.mlflow.api.proto.ModelRegistry.ModelVersion> page =
              versions.searchModelVersions(
                  request.getFilter(),
                  request.hasMaxResults(),
                  request.getMaxResults(),
                  request.getOrderByList(),
                  request.getPageToken());
          SearchModelVersions.Response.Builder response =
              SearchModelVersions.Response.newBuilder().addAllModelVersions(page.items());
          if (page.nextPageToken() != null) {
            response.setNextPageToken(page.nextPageToken());
          }
          return response.build();
        });
    route(
        "POST",
        "model-versions/transition-stage",
        TransitionModelVersionStage.getDefaultInstance(),
        request ->
            TransitionModelVersionStage.Response.newBuilder()
                .setModelVersion(
                    versions.transitionStage(
                        request.getName(),
                        request.getVersion(),
                        Validation.required("stage", request.hasStage(), request.getStage()),
                        request.getArchiveExistingVersions()))
                .build());
    route(
        "GET",
        "model-versions/get-download-uri",
        GetModelVersionDownloadUri.getDefaultInstance(),
        request ->
            GetModelVersionDownloadUri.Response.newBuilder()
                .setArtifactUri(versions.downloadUri(request.getName(), request.getVersion()))
                .build());
    route(
        "POST",
        "model-versions/set-tag",
        SetModelVersionTag.getDefaultInstance(),
        request -> {
          versions.setModelVersionTag(
              request.getName(),
              request.getVersion(),
              Validation.required("key", request.hasKey(), request.getKey()),
              request.getValue());
          return SetModelVersionTag.Response.getDefaultInstance();
        });
    route(
        "DELETE",
        "model-versions/delete-tag",
        DeleteModelVersionTag.getDefaultInstance(),
        request -> {
          versions.deleteModelVersionTag(
              request.getName(),
              request.getVersion(),
              Validation.required("key", request.hasKey(), request.getKey()));
          return DeleteModelVersionTag.Response.getDefaultInstance();
        });
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      try {
        dispatch(exchange);
      } catch (ApiException e) {
        if (e.error() == ApiError.REQUEST_TOO_LARGE) {
          discardBody(exchange);
        }
        respondError(exchange, e.error(), e.getMessage());
      } catch (RuntimeException | IOException e) {
        // a bug or an I/O failure on our side: details go to the log, never to the client
        LOG.log(
            System.Logger.Level.ERROR,
            "request "
                + exchange.getRequestMethod()
                + " "
                + exchange.getRequestURI().getRawPath()
                + " failed",
            e);
        respondError(
            exchange,
            ApiError.INTERNAL_ERROR,
            "The server failed to handle the request; see its log.");
      }
    }
  }

  private void dispatch(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    String method = exchange.getRequestMethod();
    // before anything else, /health included: a rebound name or a foreign page learns nothing
    if (guard.screen(exchange)) {
      respond(exchange, 204, "text/plain; charset=utf-8", new byte[0]);
      return;
    }
    if (path.equals("/health") || path.equals("/version")) {
      respond(
          exchange,
          200,
          "text/plain; charset=utf-8",
          (path.equals("/health") ? "OK" : "2.17.2").getBytes(StandardCharsets.UTF_8));
      return;
    }
    if (auth != null && !auth.accepts(exchange.getRequestHeaders().getFirst("Authorization"))) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"mlflow\"");
      throw new ApiException(
          ApiError.UNAUTHENTICATED, "You are not authenticated. Please provide valid credentials.");
    }
    for (String prefix : ARTIFACT_PREFIXES) {
      if (path.equals(prefix) || path.startsWith(prefix + "/")) {
        artifactRequest(exchange, method, path.substring(prefix.length()));
        return;
      }
    }
    for (String prefix : API_PREFIXES) {
      if (path.startsWith(prefix)) {
        Route route = routes.get(method + " " + path.substring(prefix.length()));
        if (route == null) {
          break;
        }
        Message request;
        if (method.equals("GET")) {
          request = Json.parseQuery(query(exchange), route.prototype());
        } else {
          byte[] body = body(exchange);
          Map<String, List<String>> query = query(exchange);
          // some clients send DELETE with query parameters instead of a body
          request =
              body.length == 0 && !query.isEmpty()
                  ? Json.parseQuery(query, route.prototype())
                  : Json.parseBody(body, route.prototype());
        }
        respond(exchange, 200, "application/json", Json.print(route.action().apply(request)));
        return;
      }
    }
    throw new ApiException(
        ApiError.ENDPOINT_NOT_FOUND,
        "No API endpoint for " + method + " " + Validation.abbreviate(path) + ".");
  }

  private void artifactRequest(HttpExchange exchange, String method, String rest)
      throws IOException {
    if (rest.isEmpty() || rest.equals("/")) {
      if (!method.equals("GET")) {
        throw new ApiException(
            ApiError.ENDPOINT_NOT_FOUND, "Only GET (a listing) is served on the artifact root.");
      }
      List<String> paths = query(exchange).get("path");
      String path = paths == null || paths.isEmpty() ? "" : paths.get(paths.size() - 1);
      ListArtifacts.Response listing =
          ListArtifacts.Response.newBuilder()
              .addAllFiles(artifacts.list(path.isEmpty() ? "" : SafePaths.relative(path)))
              .build();
      respond(exchange, 200, "application/json", Json.print(listing));
      return;
    }
    // the raw path is decoded once, as any HTTP server does; SafePaths checks the deeper levels
    String path = SafePaths.percentDecode(rest.substring(1));
    if (path == null) {
      throw ApiException.invalidParameter("Invalid percent-encoding in the artifact path.");
    }
    switch (method) {
      case "PUT" -> {
        long declared = contentLength(exchange);
        if (declared > maxArtifactBytes) {
          throw new ApiException(
              ApiError.REQUEST_TOO_LARGE,
              "The artifact is "
                  + declared
                  + " bytes; the limit is "
                  + maxArtifactBytes
                  + " bytes.");
        }
        artifacts.put(path, exchange.getRequestBody(), maxArtifactBytes);
        respond(
            exchange,
            200,
            "application/json",
            Json.print(UploadArtifact.Response.getDefaultInstance()));
      }
      case "GET" -> {
        Path file = artifacts.file(path);
        String type = Files.probeContentType(file);
        exchange
            .getResponseHeaders()
            .set("Content-Type", type == null ? "application/octet-stream" : type);
        exchange.sendResponseHeaders(200, Files.size(file));
        try (OutputStream out = exchange.getResponseBody()) {
          Files.copy(file, out);
        }
      }
      case "DELETE" -> {
        artifacts.delete(path);
        respond(
            exchange,
            200,
            "application/json",
            Json.print(DeleteArtifact.Response.getDefaultInstance()));
      }
      default ->
          throw new ApiException(
              ApiError.ENDPOINT_NOT_FOUND, "No artifact endpoint for " + method + ".");
    }
  }

  /**
   * Reads and drops the rest of a refused body, up to a bound, because a client that is still
   * sending does not read the 413 and sees a reset connection instead.
   */
  private static void discardBody(HttpExchange exchange) {
    exchange.getResponseHeaders().set("Connection", "close");
    try {
      InputStream in = exchange.getRequestBody();
      byte[] buffer = new byte[64 * 1024];
      long discarded = 0;
      int read;
      while (discarded < DISCARD_LIMIT_BYTES && (read = in.read(buffer)) >= 0) {
        discarded += read;
      }
    } catch (IOException e) {
      // the client stopped sending; the error response may still reach it
    }
  }

  private static long contentLength(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Content-Length");
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.strip());
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("Invalid Content-Length header.");
    }
  }

  private byte[] body(HttpExchange exchange) throws IOException {
    long declared = contentLength(exchange);
    if (declared > maxRequestBytes) {
      throw new ApiException(
          ApiError.REQUEST_TOO_LARGE,
          "The request body is "
              + declared
              + " bytes; the limit is "
              + maxRequestBytes
              + " bytes.");
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream(declared > 0 ? (int) declared : 1024);
    try (InputStream in = exchange.getRequestBody()) {
      byte[] buffer = new byte[16 * 1024];
      int read;
      while ((read = in.read(buffer)) >= 0) {
        if (body.size() + read > maxRequestBytes) {
          throw new ApiException(
              ApiError.REQUEST_TOO_LARGE,
              "The request body exceeds the limit of " + maxRequestBytes + " bytes.");
        }
        body.write(buffer, 0, read);
      }
    }
    return body.toByteArray();
  }

  /**
   * Query parameters decoded as HTML forms are (plus is a space), each name with all its values.
   */
  static Map<String, List<String>> query(HttpExchange exchange) {
    String raw = exchange.getRequestURI().getRawQuery();
    Map<String, List<String>> parameters = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return parameters;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = formDecode(equals < 0 ? pair : pair.substring(0, equals));
      String value = equals < 0 ? "" : formDecode(pair.substring(equals + 1));
      parameters.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
    }
    return parameters;
  }

  private static String formDecode(String text) {
    String decoded = SafePaths.percentDecode(text.replace('+', ' '));
    if (decoded == null) {
      throw ApiException.invalidParameter("Invalid percent-encoding in the query string.");
    }
    return decoded;
  }

  private static void respondError(HttpExchange exchange, ApiError error, String message) {
    try {
      respond(exchange, error.httpStatus(), "application/json", Json.error(error.code(), message));
    } catch (IOException | RuntimeException e) {
      // the client went away or headers were already sent; nothing more can be told
      LOG.log(System.Logger.Level.DEBUG, "could not send an error response", e);
    }
  }

  private static void respond(HttpExchange exchange, int status, String contentType, byte[] body)
      throws IOException {
    Headers headers = exchange.getResponseHeaders();
    headers.set("Content-Type", contentType);
    headers.set("X-Content-Type-Options", "nosniff");
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
