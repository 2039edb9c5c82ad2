package kiln.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import kiln.core.CodeVersion;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.LocalFiles;
import kiln.core.YamlFiles;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelUri;
import kiln.core.models.RegisteredModels;
import kiln.core.tracking.Tracking;
import kiln.lineage.RunLineage;
import kiln.training.TrainConfig;
import kiln.training.Trainer;
import kiln.training.TrainingResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kiln lineage reproduce}: a registered model version trained again from what its lineage
 * recorded (the config file, the feature table at its version, the code version), then compared
 * with the original: the weights' digest and the test metrics.
 */
@Command(
    name = "reproduce",
    mixinStandardHelpOptions = true,
    description = {
      "Train a model version again from its recorded config and pinned table versions, and compare it with the original.",
      "Registers nothing; compares the weights' sha256 and every test metric. Refuses (exit 2) when a pinned",
      "version can no longer be read or the code version differs (unless --allow-code-change).",
      "Exit 0 when weights and metrics are identical, 1 when they differ."
    })
final class ReproduceCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Parameters(
      paramLabel = "TARGET",
      description =
          "models:/NAME/VERSION, models:/NAME@ALIAS, or the MLflow run id that trained it.")
  String target;

  @Option(
      names = "--dry-run",
      description =
          "Check the pinned versions, the config and the code version; print the commands; train nothing.")
  boolean dryRun;

  @Option(
      names = "--allow-code-change",
      description = "Train even when Kiln's code version differs from the recorded one.")
  boolean allowCodeChange;

  /** A pinned table and whether it can still be read. */
  record Pinned(String role, DatasetRef table, boolean readable, String reason) {}

  /** One figure of the original next to the reproduction's. */
  record Compared(String name, String original, String reproduced, boolean identical) {}

  /** What --json prints. */
  record Reproduction(
      String model,
      String runId,
      String recordedCode,
      String currentCode,
      List<Pinned> pinned,
      Path config,
      List<String> commands,
      boolean dryRun,
      List<Compared> compared,
      boolean identical) {}

  private static final List<String> VOLATILE_METRICS = List.of("latency_ms_per_1000_rows");

  @Override
  public Integer call() {
    Console console = json.console(spec);
    KilnSettings settings = sparkOptions.settings();
    try (Session session = new Session(settings);
        Reporting reporting = Reporting.open(settings, console)) {
      Tracking tracking = reporting.tracking();
      Tracking.ModelVersion version = modelVersion(tracking);
      String uri = "models:/" + version.name() + "/" + version.version();
      Map<String, String> tags = version.tags();
      String training = tags.get(RunLineage.INPUT_PREFIX + "training");
      String configFile = tags.get(RunLineage.CONFIG_FILE);
      String configSha256 = tags.get(RunLineage.CONFIG_SHA256);
      if (training == null || configFile == null || configSha256 == null) {
        throw Errors.badInput(
            uri
                + " has no recorded lineage to train from (tags "
                + RunLineage.INPUT_PREFIX
                + "training, "
                + RunLineage.CONFIG_FILE
                + ", "
                + RunLineage.CONFIG_SHA256
                + ")",
            "only versions registered by `kiln train` with a --config can be reproduced");
      }

      // every pinned table version, checked before anything is trained
      Datasets datasets = new Datasets(session.spark());
      List<Pinned> pinned = new ArrayList<>();
      for (Map.Entry<String, String> tag : new TreeMap<>(tags).entrySet()) {
        if (tag.getKey().startsWith(RunLineage.INPUT_PREFIX)) {
          DatasetRef ref = DatasetRef.parse(tag.getValue());
          String reason = ref.version() == null ? null : datasets.unreadable(ref).orElse(null);
          pinned.add(
              new Pinned(
                  tag.getKey().substring(RunLineage.INPUT_PREFIX.length()),
                  ref,
                  reason == null,
                  reason));
        }
      }

      String recordedCode = tags.get(RunLineage.CODE_VERSION);
      String currentCode = CodeVersion.current().describe();

      // the recorded config, checked against its digest and pinned to the recorded feature version
      Path directory =
          settings
              .workdirPath()
              .resolve("reproduce")
              .resolve(version.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + version.version());
      Path config =
          recordedConfig(tracking, version, configFile, configSha256, training, directory);
      List<String> commands =
          List.of(
              "kiln train --config " + config + "   # the same training; registers a new version",
              "kiln lineage reproduce "
                  + uri
                  + "   # trains it without registering and compares with "
                  + uri);

      console.result("Reproducing " + uri + " (MLflow run " + version.runId() + ")");
      console.result(
          "code: recorded "
              + recordedCode
              + ", now "
              + currentCode
              + (currentCode.equals(recordedCode) ? " (same)" : " (DIFFERENT)"));
      for (Pinned table : pinned) {
        console.result(
            (table.readable() ? "  readable    " : "  UNREADABLE  ")
                + table.table()
                + " ("
                + table.role()
                + ")"
                + (table.readable() ? "" : ": " + table.reason()));
      }
      console.result(
          "config: " + configFile + ", sha256 matches the recorded one; pinned copy " + config);
      console.result("commands:\n  " + String.join("\n  ", commands));

      List<String> unreadable =
          pinned.stream()
              .filter(p -> !p.readable() && p.role().equals("training"))
              .map(p -> p.table() + ": " + p.reason())
              .toList();
      if (!unreadable.isEmpty()) {
        throw Errors.notFound(
            uri + " cannot be reproduced: its training input is past retention: " + unreadable,
            "rebuild that table version from its sources (see `kiln lineage show "
                + uri
                + "`), or keep pinned versions by vacuuming with a longer retention");
      }
      if (!currentCode.equals(recordedCode) && !allowCodeChange && !dryRun) {
        throw Errors.conflict(
            uri + " was trained by code " + recordedCode + ", this is " + currentCode,
            "run the recorded code version, or pass --allow-code-change to compare anyway");
      }
      if (dryRun) {
        json.print(
            spec,
            new Reproduction(
                uri,
                version.runId(),
                recordedCode,
                currentCode,
                pinned,
                config,
                commands,
                true,
                List.of(),
                false));
        return 0;
      }

      TrainConfig train = YamlFiles.read(config, TrainConfig.class);
      Path models = directory.resolve("models");
      List<Compared> compared =
          reporting.run(
              "reproduce " + uri,
              Map.of("kiln.job", "reproduce", "kiln.reproduces", uri),
              run -> {
                console.step("training " + uri + " again on " + train.features());
                TrainingResult result =
                    new Trainer(session.spark()).train(train, models.resolve("reproduced"));
                run.logInput(result.features(), "training");
                ModelFiles original =
                    new RegisteredModels(tracking).download(version, models.resolve("original"));
                List<Compared> found = compare(tags, original, result);
                Map<String, Double> metrics = new LinkedHashMap<>();
                found.forEach(
                    c ->
                        metrics.put(
                            "identical." + c.name().replaceAll("[^A-Za-z0-9_.-]", "_"),
                            c.identical() ? 1.0 : 0.0));
                run.logMetrics(metrics);
                return found;
              });
      boolean identical =
          compared.stream()
              .filter(c -> !c.name().equals("model files sha256"))
              .allMatch(Compared::identical);
      for (Compared c : compared) {
        console.result(
            String.format(
                "  %-10s %-28s original %s, reproduced %s",
                c.identical() ? "identical" : "DIFFERS", c.name(), c.original(), c.reproduced()));
      }
      console.result(
          identical
              ? "Reproduced "
                  + uri
                  + ": the weights and every test metric are identical (the model files' own digest"
                  + " also covers Spark ML's metadata, which holds a save time and a random uid)."
              : "Not reproduced: " + uri + " differs from its reproduction (see above).");
      try {
        LocalFiles.deleteTree(models);
      } catch (IOException | RuntimeException e) {
        // scratch files left behind are harmless
      }
      json.print(
          spec,
          new Reproduction(
              uri,
              version.runId(),
              recordedCode,
              currentCode,
              pinned,
              config,
              commands,
              false,
              compared,
              identical));
      if (!identical) {
        throw Errors.checkFailed(
            uri + " was not reproduced bit for bit",
            "compare the recorded config, code and data versions above with the original run");
      }
      return 0;
    }
  }

  /** The model version the target names: a model URI, or the run that registered it. */
  private Tracking.ModelVersion modelVersion(Tracking tracking) {
    RegisteredModels registry = new RegisteredModels(tracking);
    if (target.startsWith("models:/")) {
      return registry.resolve(ModelUri.parse(target));
    }
    for (String name : tracking.registeredModels()) {
      for (Tracking.ModelVersion version : tracking.modelVersions(name)) {
        if (target.equals(version.runId())) {
          return version;
        }
      }
    }
    throw Errors.notFound(
        "no registered model version was trained by run " + target,
        "give models:/NAME/VERSION (`kiln models list` shows them), or the run id of a `kiln train`"
            + " run");
  }

  /**
   * The config file the training run uploaded, checked against the recorded digest, copied with its
   * feature table pinned to the version the run read.
   */
  private static Path recordedConfig(
      Tracking tracking,
      Tracking.ModelVersion version,
      String configFile,
      String configSha256,
      String training,
      Path directory) {
    String source = version.source();
    String runArtifacts = source.substring(0, source.lastIndexOf('/'));
    Path recorded = directory.resolve("recorded");
    try {
      if (Files.exists(recorded)) {
        LocalFiles.deleteTree(recorded);
      }
      Files.createDirectories(recorded);
      tracking.downloadArtifacts(
          runArtifacts + "/" + RunLineage.CONFIG_ARTIFACT_DIRECTORY, recorded);
      Path file = recorded.resolve(configFile);
      if (!Files.isRegularFile(file)) {
        throw Errors.notFound(
            "the training run of models:/"
                + version.name()
                + "/"
                + version.version()
                + " holds no artifact "
                + RunLineage.CONFIG_ARTIFACT_DIRECTORY
                + "/"
                + configFile,
            "check the run's artifacts in the MLflow UI; without its config it cannot be reproduced");
      }
      String digest = CodeVersion.sha256(file);
      if (!digest.equals(configSha256)) {
        throw Errors.conflict(
            "the recorded config "
                + configFile
                + " has sha256 "
                + digest
                + ", not the "
                + configSha256
                + " its run recorded",
            "the artifact was changed after the run; it cannot be trusted to reproduce it");
      }
      ObjectMapper yaml = YamlFiles.mapper();
      ObjectNode tree = (ObjectNode) yaml.readTree(file.toFile());
      tree.put("features", training);
      Path pinned = directory.resolve(configFile);
      yaml.writeValue(pinned.toFile(), tree);
      return pinned;
    } catch (IOException e) {
      throw Errors.environment(
          "cannot write the recorded config under " + directory + ": " + e.getMessage(),
          "make the work directory writable",
          e);
    }
  }

  /**
   * The weights' digest (the model files without Spark ML's metadata), the files' own digest, and
   * every test metric but timings.
   */
  static List<Compared> compare(
      Map<String, String> tags, ModelFiles original, TrainingResult reproduced) {
    List<Compared> compared = new ArrayList<>();
    String originalWeights = weightsSha256(original.directory());
    String reproducedWeights = weightsSha256(reproduced.model().directory());
    compared.add(
        new Compared(
            "weights sha256",
            originalWeights,
            reproducedWeights,
            originalWeights.equals(reproducedWeights)));
    String recorded = tags.get(RunLineage.MODEL_SHA256);
    compared.add(
        new Compared(
            "model files sha256",
            String.valueOf(recorded),
            reproduced.sha256(),
            reproduced.sha256().equals(recorded)));
    Map<String, Double> before = new TreeMap<>(original.info().metrics());
    Map<String, Double> after = reproduced.evaluation().metrics();
    for (Map.Entry<String, Double> metric : before.entrySet()) {
      if (VOLATILE_METRICS.contains(metric.getKey())) {
        continue;
      }
      Double now = after.get(metric.getKey());
      compared.add(
          new Compared(
              "test " + metric.getKey(),
              String.valueOf(metric.getValue()),
              String.valueOf(now),
              now != null && Double.compare(now, metric.getValue()) == 0));
    }
    return compared;
  }

  /**
   * SHA-256 over the saved model's files but its {@code metadata} directories (Spark ML writes a
   * save time and a random uid there): the weights and the stages' parameters.
   */
  static String weightsSha256(Path modelDirectory) {
    Path root = modelDirectory.resolve(ModelFiles.MODEL_DIRECTORY);
    try (Stream<Path> walk = Files.walk(root)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path file :
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().endsWith(".crc"))
              .filter(p -> !root.relativize(p).toString().replace('\\', '/').contains("metadata/"))
              .sorted()
              .toList()) {
        digest.update(
            root.relativize(file)
                .toString()
                .replace('\\', '/')
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
          in.transferTo(java.io.OutputStream.nullOutputStream());
        }
      }
      return java.util.HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model files in " + root, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
