package kiln.jobs;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import kiln.contracts.CheckRun;
import kiln.contracts.CheckSpec;
import kiln.contracts.Contract;
import kiln.contracts.ContractCheck;
import kiln.contracts.ContractReports;
import kiln.contracts.ContractTracking;
import kiln.contracts.Contracts;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnException;
import kiln.core.KilnSettings;
import kiln.core.PinnedTable;
import kiln.core.SparkSettings;
import kiln.core.TableVersion;
import kiln.core.models.ModelUri;
import kiln.core.models.RegisteredModels;
import kiln.core.tracking.Tracking;
import kiln.core.tracking.TrackingException;
import kiln.drift.Derivation;
import kiln.drift.DriftConfig;
import kiln.drift.DriftHistory;
import kiln.drift.DriftInput;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftReport;
import kiln.drift.DriftResult;
import kiln.drift.DriftTracking;
import kiln.inference.ScoreConfig;
import kiln.inference.ScoreResult;
import kiln.ingest.IngestJob;
import kiln.ingest.IngestReport;
import kiln.ingest.IngestResult;
import kiln.ingest.IngestSpec;
import kiln.llm.LlmJob;
import kiln.llm.LlmJobConfig;
import kiln.llm.LlmPipeline;
import kiln.llm.LlmRunResult;
import kiln.llm.Prompt;
import kiln.llm.PromptRef;
import kiln.llm.PromptRegistry;
import kiln.training.FeatureConfig;
import kiln.training.FeatureResult;
import kiln.training.GateCriteria;
import kiln.training.GateResult;
import kiln.training.RegisteredVersion;
import kiln.training.TrainConfig;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Kiln's jobs from Java code (a notebook, a test): one Spark session and one tracking connection
 * for many jobs, each job a method that takes its typed config and returns its result record. Runs
 * go through the same tracking, lineage and cost hooks as the command line's; human results are
 * printed on standard output, progress on standard error. A Kiln error (bad input, a failed check
 * raised by a job, the environment) surfaces as a {@link KilnError}: the message and its fix line,
 * no stack trace.
 *
 * <pre>{@code
 * try (KilnSession kiln = KilnSession.local(Path.of("/tmp/work"))) {
 *   kiln.ingest(IngestSpec.of("/tmp/landing", SourceFormat.CSV, "/tmp/work/tables/orders"));
 * }
 * }</pre>
 */
public final class KilnSession implements AutoCloseable {
  private final KilnSettings settings;
  private final boolean verbose;
  private final Console console;
  private final Session session;
  private final Reporting reporting;

  private KilnSession(KilnSettings settings, boolean verbose) {
    this.settings = settings;
    this.verbose = verbose;
    // System.out and System.err are read at each write: a notebook kernel swaps them per cell
    this.console = new Console(printer(() -> System.out), printer(() -> System.err));
    if (!verbose) {
      Kiln.quietLibraries();
    }
    this.session = new Session(settings);
    this.reporting = call(() -> Reporting.open(settings, console));
  }

  /**
   * Spark in this JVM (local profile) with its state in {@code workdir}, tracked to the embedded
   * MLflow server in {@code workdir/mlflow} unless {@code MLFLOW_TRACKING_URI} names a server.
   */
  public static KilnSession local(Path workdir) {
    return open(
        new KilnSettings(new SparkSettings(null, "local[2]", null, null), null, workdir.toString()),
        false);
  }

  /**
   * A session from settings (as the {@code --settings} file holds them, over the environment and
   * the defaults); {@code verbose} keeps library logs and the stack trace of errors.
   */
  public static KilnSession open(KilnSettings settings, boolean verbose) {
    java.util.Objects.requireNonNull(settings, "settings is null");
    KilnSettings resolved = wrap(() -> KilnSettings.resolve(settings, null, System.getenv()));
    return new KilnSession(resolved, verbose);
  }

  /** The session's Spark: read, join and show tables with it. */
  public SparkSession spark() {
    return session.spark();
  }

  /** The MLflow tracking server the runs go to. */
  public String trackingUri() {
    return reporting.tracking().uri();
  }

  public KilnSettings settings() {
    return settings;
  }

  // ---- datasets

  /**
   * A table version, {@code TABLE}, {@code TABLE@VERSION} or {@code TABLE@TIMESTAMP}, pinned and
   * read.
   */
  public Dataset<Row> table(String ref) {
    return call(() -> new Datasets(spark()).pin(DatasetRef.parse(ref)).rows());
  }

  /** A table's versions, oldest first. */
  public List<TableVersion> history(String table) {
    return call(() -> new Datasets(spark()).history(table));
  }

  // ---- jobs

  /** {@code kiln ingest}: raw files into a new version of a Delta table. */
  public IngestResult ingest(IngestSpec spec) {
    return call(
        () -> {
          IngestJob job = new IngestJob(spark(), console::step);
          job.sourceFiles(spec.source());
          IngestResult result =
              reporting.run(
                  "ingest " + spec.table(),
                  Map.of("kiln.job", "ingest"),
                  run -> {
                    IngestReport.started(run, spec);
                    IngestResult done = job.run(spec);
                    IngestReport.report(run, spec, done);
                    return done;
                  });
          IngestCommand.print(console, result);
          return result;
        });
  }

  /**
   * {@code kiln contracts check}: a table version against a contract file; the report goes to
   * WORKDIR/contracts. A broken contract is a result ({@link CheckRun#passed()} false), not an
   * error.
   */
  public CheckRun checkContract(Path contract, String table) {
    return call(
        () -> {
          Contract parsed = Contracts.read(contract);
          String yaml = readText(contract);
          PinnedTable pinned = new Datasets(spark()).pin(DatasetRef.parse(table));
          Path reports =
              settings
                  .workdirPath()
                  .resolve("contracts")
                  .resolve(safe(parsed.id()))
                  .resolve(
                      safe(ContractsCommand.lastSegment(pinned.ref().table()))
                          + "-v"
                          + pinned.ref().version());
          CheckSpec spec = CheckSpec.of(parsed, pinned.ref()).withReportDirectory(reports);
          CheckRun run =
              reporting.run(
                  "contracts check " + pinned.ref(),
                  Map.of("kiln.job", "contracts check"),
                  tracked -> {
                    CheckRun checked = new ContractCheck(spark(), console::step).run(spec, pinned);
                    ContractTracking.report(tracked, checked, yaml);
                    return checked;
                  });
          console.result(ContractReports.table(run.result()).stripTrailing());
          return run;
        });
  }

  /** What a drift comparison left behind: the result, its HTML report and its MLflow run. */
  public record DriftRun(DriftResult result, Path report, String runId) {
    public DriftRun {
      java.util.Objects.requireNonNull(result, "result is null");
      java.util.Objects.requireNonNull(report, "report is null");
    }

    /** The HTML report's text, to show inline. */
    public String html() {
      return readText(report);
    }
  }

  /** {@code kiln drift} with the default drift config. */
  public DriftRun drift(String reference, String current) {
    return drift(reference, current, DriftConfig.defaults());
  }

  /**
   * {@code kiln drift}: {@code current} against {@code reference} (each {@code TABLE[@V]}); profile
   * and history tables under WORKDIR/drift unless the config names them. Drift is a result ({@link
   * DriftResult#drifted()}), not an error.
   */
  public DriftRun drift(String reference, String current, DriftConfig config) {
    return call(
        () -> {
          Path tables = settings.workdirPath().resolve("drift").toAbsolutePath();
          DriftConfig drift =
              config.withTables(
                  config.profiles() != null
                      ? config.profiles()
                      : tables.resolve("profiles").toString(),
                  config.history() != null
                      ? config.history()
                      : tables.resolve("history").toString());
          Datasets datasets = new Datasets(spark());
          DriftInput referenceInput = DriftInput.of(DatasetRef.parse(reference));
          DriftInput currentInput = DriftInput.of(DatasetRef.parse(current));
          PinnedTable referenceTable = datasets.pin(referenceInput.dataset());
          PinnedTable currentTable = datasets.pin(currentInput.dataset());
          DriftRun outcome =
              reporting.run(
                  "drift " + currentTable.ref(),
                  Map.of("kiln.job", "drift"),
                  run -> {
                    DriftResult result =
                        new DriftMonitor(spark(), drift, console::step)
                            .run(
                                referenceInput,
                                referenceTable,
                                currentInput,
                                currentTable,
                                Derivation.NONE,
                                Derivation.NONE);
                    Path html = tables.resolve("reports/" + run.id() + ".html");
                    DriftReport.write(result, html);
                    DriftTracking.report(run, result, html);
                    DriftHistory.append(spark(), drift.history(), result, run.id(), Instant.now());
                    return new DriftRun(result, html, run.id());
                  });
          DriftCommand.print(console, outcome.result());
          return outcome;
        });
  }

  /** {@code kiln features}: a new version of a feature table, as the config declares it. */
  public FeatureResult features(FeatureConfig config) {
    return call(
        () -> {
          new Datasets(spark()).resolve(DatasetRef.parse(config.input()));
          return FeaturesCommand.build(session, reporting, console, config, Map.of());
        });
  }

  /** {@code kiln train}: trains, evaluates and registers a new model version. */
  public RegisteredVersion train(TrainConfig config) {
    return call(
        () -> {
          new Datasets(spark()).resolve(DatasetRef.parse(config.features()));
          return TrainCommand.train(session, reporting, console, config, Map.of());
        });
  }

  /**
   * {@code kiln models gate}: promotes {@code models:/NAME/VERSION} to champion when it passes. A
   * refusal is a result ({@link GateResult#promoted()} false), not an error.
   */
  public GateResult gate(String model, GateCriteria criteria) {
    return call(
        () -> {
          ModelUri uri = ModelUri.parse(model);
          if (uri.version() == null) {
            throw Errors.badInput(
                model + " names an alias; the gate judges one version",
                "write models:/" + uri.name() + "/VERSION, e.g. the version train registered");
          }
          return ModelsCommand.gate(
              session, reporting, console, uri.name(), uri.version(), criteria, Map.of());
        });
  }

  /** {@code kiln score}: scores a table version with a model by alias or version. */
  public ScoreResult score(String model, String input, String output) {
    return call(
        () -> {
          ScoreConfig config = ScoreConfig.of(model, input, output, null);
          ScoreConfig pinned =
              new ScoreConfig(
                  config.model(),
                  new Datasets(spark()).resolve(config.data()),
                  config.output(),
                  config.shadow());
          return ScoreCommand.score(session, reporting, console, pinned, Map.of());
        });
  }

  /** The model card (Markdown) of a registered version, {@code models:/NAME/VERSION|@ALIAS}. */
  public String modelCard(String model) {
    return call(
        () -> {
          Tracking tracking = reporting.tracking();
          Tracking.ModelVersion version =
              new RegisteredModels(tracking).resolve(ModelUri.parse(model));
          String source = version.source().replaceAll("/+$", "");
          String card = source.substring(0, source.lastIndexOf('/')) + "/model_card.md";
          Path file = temporaryDirectory().resolve("model_card.md");
          tracking.downloadArtifacts(card, file);
          return readText(file);
        });
  }

  // ---- prompts and LLM jobs

  /** {@code kiln llm prompts register}: a new version of a prompt ({@code {{variable}}}s). */
  public Prompt registerPrompt(String name, String template) {
    return call(
        () -> {
          Prompt prompt = prompts().register(name, template);
          console.result(
              "Registered " + prompt + " with variables " + prompt.template().variables());
          return prompt;
        });
  }

  /** {@code kiln llm prompts alias}: points {@code alias} of a prompt at a version. */
  public void aliasPrompt(String name, String version, String alias) {
    call(
        () -> {
          prompts().setAlias(name, alias, version);
          console.result(name + "@" + alias + " -> version " + version);
          return null;
        });
  }

  /**
   * {@code kiln llm prompts show}: a prompt version, {@code NAME/VERSION} or {@code NAME@ALIAS}.
   */
  public Prompt prompt(String ref) {
    return call(() -> prompts().load(PromptRef.parse(ref)));
  }

  /**
   * What the LLM job would send, without calling the engine: the job's input rows with their
   * redacted text, the redaction counts and the rendered prompt, through the job's own Spark NLP
   * stages.
   */
  public Dataset<Row> previewPrompts(LlmJobConfig job) {
    return call(
        () -> {
          Prompt prompt = prompts().load(job.prompt());
          Dataset<Row> input = new Datasets(spark()).pin(job.inputRef()).rows();
          PipelineModel fitted =
              LlmPipeline.fit(
                  LlmPipeline.of(
                      job.text(), job.pii(), prompt.template(), job.variable(), job.engine()),
                  input);
          // redaction and rendering only: the stages before the generation
          Dataset<Row> rendered = LlmPipeline.prepare(fitted, input);
          return rendered.select(
              job.key(), LlmPipeline.REDACTED_TEXT, LlmPipeline.REDACTIONS, LlmPipeline.PROMPT);
        });
  }

  /**
   * {@code kiln llm run}: completes the prompt for every row; more failed rows than {@code
   * maxErrorRate} is a result ({@link LlmRunResult#tooManyErrors()}), not an error.
   */
  public LlmRunResult llm(LlmJobConfig job) {
    return call(
        () -> {
          PromptRegistry registry = prompts();
          LlmTokenCost.checkCurrency(job, settings);
          Reporting.Priced<LlmRunResult> priced =
              reporting.runPriced(
                  "llm " + job.prompt(),
                  Map.of("kiln.job", "llm", JobCost.LLM_ENGINE, job.engine().type().toString()),
                  run ->
                      new LlmJob(spark(), registry, System.getenv(), console::step)
                          .run(job, run, settings.workdirPath().resolve("llm/pipelines")));
          LlmRunResult result = priced.result();
          console.result(
              "Output: "
                  + result.output()
                  + " ("
                  + result.prompt()
                  + ", model "
                  + result.model()
                  + ")");
          console.result(result.summary() + ", " + LlmTokenCost.of(result, priced.cost()).line());
          return result;
        });
  }

  /**
   * Writes the tiny random-weight GGUF model Kiln's tests run llama.cpp on (no real weights can be
   * fetched where Kiln is built): real loading and decoding, gibberish completions, deterministic
   * for a seed.
   */
  public static Path writeTinyLocalModel(Path file, long seed) {
    return wrap(
        () -> {
          try {
            kiln.llm.internal.TinyGguf.write(file, seed);
          } catch (IOException e) {
            throw Errors.badInput(
                "cannot write the model to " + file + ": " + e.getMessage(),
                "write it to a writable directory");
          }
          return file;
        });
  }

  private PromptRegistry prompts() {
    return new PromptRegistry(reporting.tracking(), System.getenv());
  }

  /** Stops the session's Spark and the embedded tracking server, if it started one. */
  @Override
  public void close() {
    try {
      reporting.close();
    } finally {
      session.close();
    }
  }

  // ---- errors

  private <T> T call(Supplier<T> job) {
    return wrap(job, verbose);
  }

  private static <T> T wrap(Supplier<T> job) {
    return wrap(job, false);
  }

  /** A Kiln error becomes a KilnError (the message and fix, exit code); anything else stays. */
  private static <T> T wrap(Supplier<T> job, boolean verbose) {
    try {
      return job.get();
    } catch (KilnError e) {
      throw e;
    } catch (RuntimeException e) {
      String message = message(e);
      if (message == null) {
        throw e;
      }
      throw new KilnError(message, Kiln.exitCode(e), e, verbose);
    }
  }

  /** The command line's message for a Kiln or tracking error; null for anything else. */
  static String message(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof KilnException known) {
        return "kiln: error: " + known.getMessage();
      }
    }
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof TrackingException tracking) {
        return "kiln: error: the tracking server failed: "
            + tracking.getMessage()
            + "\n  fix: check that the tracking server runs and accepts this request, then try again";
      }
    }
    return null;
  }

  private static PrintWriter printer(Supplier<PrintStream> stream) {
    return new PrintWriter(
        new Writer() {
          @Override
          public void write(char[] buffer, int offset, int length) {
            stream.get().print(new String(buffer, offset, length));
          }

          @Override
          public void flush() {
            stream.get().flush();
          }

          @Override
          public void close() {
            flush();
          }
        },
        true);
  }

  private static String readText(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot read " + file + ": " + e.getMessage(), "check the path and its permissions", e);
    }
  }

  private static Path temporaryDirectory() {
    try {
      return Files.createTempDirectory("kiln-session");
    } catch (IOException e) {
      throw Errors.environment(
          "cannot create a temporary directory: " + e.getMessage(),
          "free space in, or set java.io.tmpdir to, a writable directory",
          e);
    }
  }

  private static String safe(String name) {
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }
}
