package kiln.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.llm.LlmJob;
import kiln.llm.LlmJobConfig;
import kiln.llm.LlmRunResult;
import kiln.llm.Prompt;
import kiln.llm.PromptRef;
import kiln.llm.PromptRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kiln llm}: batch LLM inference over a table, and the versioned prompts it uses. */
@Command(
    name = "llm",
    mixinStandardHelpOptions = true,
    description =
        "Batch LLM inference over a Delta table with versioned prompts and PII redaction.",
    subcommands = {
      LlmCommand.Run.class,
      LlmEvaluateCommand.class,
      LlmDriftCommand.class,
      LlmCommand.Prompts.class,
      CommandLine.HelpCommand.class
    })
final class LlmCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = {
        "Complete a registered prompt for every row of a table version, PII redacted, into an output table.",
        "Redacts PII, renders the prompt, completes it with the engine (openai: any OpenAI-compatible endpoint;",
        "local: a GGUF file) and appends one row per input row to the output.",
        "A failed row carries its error; more failed rows than maxErrorRate exits 1. A re-run of the same job",
        "(same input version, prompt version, model and parameters) writes nothing twice."
      },
      footer = {
        "",
        "Exit codes: 0 done, 1 more rows failed than maxErrorRate, 2 bad usage or input, 3 environment or internal."
      })
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;

    @Option(
        names = "--config",
        required = true,
        paramLabel = "JOB.yaml",
        description =
            "The job: input, key, text, prompt, engine, output, maxErrorRate, pii, deduplicate, cache,"
                + " commitEvery, blockLeaks, jsonSchema, price (see llm/README.md).")
    Path config;

    @Mixin JsonOption json;

    @Override
    public Integer call() {
      Console console = json.console(spec);
      LlmJobConfig job = LlmJobConfig.read(config);
      KilnSettings kiln = sparkOptions.settings();
      LlmTokenCost.checkCurrency(job, kiln);
      try (Session session = new Session(kiln);
          Reporting reporting = Reporting.open(kiln, console)) {
        PromptRegistry prompts = new PromptRegistry(reporting.tracking(), System.getenv());
        Reporting.Priced<LlmRunResult> priced =
            reporting.runPriced(
                "llm " + job.prompt(),
                Map.of("kiln.job", "llm", JobCost.LLM_ENGINE, job.engine().type().toString()),
                run ->
                    new LlmJob(session.spark(), prompts, System.getenv(), console::step)
                        .run(job, run, kiln.workdirPath().resolve("llm/pipelines")));
        LlmRunResult result = priced.result();
        // the token cost the run logged (cost.tokens), so that summary, JSON and MLflow agree
        LlmTokenCost tokenCost = LlmTokenCost.of(result, priced.cost());
        console.result(
            "Output: "
                + result.output()
                + " ("
                + result.prompt()
                + ", model "
                + result.model()
                + ")");
        console.result(result.summary() + ", " + tokenCost.line());
        if (json.json) {
          spec.commandLine().getOut().println(json(result, tokenCost));
          spec.commandLine().getOut().flush();
        }
        if (result.tooManyErrors()) {
          throw Errors.checkFailed(
              String.format(
                  "%d of %d rows failed (error rate %.4f), more than maxErrorRate %.4f allows",
                  result.errors(), result.rows(), result.errorRate(), result.maxErrorRate()),
              "the rows are written with their errors in "
                  + result.output()
                  + "; read the error column, fix the"
                  + " cause (endpoint, prompt, limits) and re-run, or raise maxErrorRate in "
                  + config);
        }
        return 0;
      }
    }

    private static String json(LlmRunResult r, LlmTokenCost tokenCost) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("input", r.input().toString());
      out.put("output", r.output().toString());
      out.put("prompt", r.prompt().toString());
      out.put("model", r.model());
      out.put("model_digest", r.modelDigest());
      out.put("rows", r.rows());
      out.put("errors", r.errors());
      out.put("error_rate", r.errorRate());
      out.put("max_error_rate", r.maxErrorRate());
      out.put("prompt_tokens", r.promptTokens());
      out.put("completion_tokens", r.completionTokens());
      out.put("deduplicated_rows", r.deduplicatedRows());
      out.put("tokens_saved", r.tokensSaved());
      out.put("cache_hits", r.cacheHits());
      out.put("tokens_saved_by_cache", r.tokensSavedByCache());
      out.put("redactions", r.redactions());
      out.put("completion_leaks", r.leaks());
      out.put("rows_with_leaks", r.rowsWithLeaks());
      out.put("invalid_output", r.invalidOutputs());
      out.put("resumed_rows", r.resumedRows());
      out.put("already_written", r.alreadyWritten());
      out.put("pipeline", r.pipeline());
      out.put("engine_hours", r.engineHours());
      // the run's token cost as MLflow's cost.tokens has it: null when unknown, never 0
      out.putAll(tokenCost.json());
      return LlmCommand.json(out);
    }
  }

  @Command(
      name = "prompts",
      mixinStandardHelpOptions = true,
      description =
          "Versioned prompts in the MLflow registry (stored as MLflow's Prompt Registry stores them).",
      subcommands = {
        Register.class,
        ListPrompts.class,
        Show.class,
        Alias.class,
        PromptGateCommand.class,
        CommandLine.HelpCommand.class
      })
  static final class Prompts implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  @Command(
      name = "register",
      mixinStandardHelpOptions = true,
      description =
          "Register a new version of a prompt from a template file ({{variable}} placeholders).")
  static final class Register implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;

    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "The prompt's name.")
    String name;

    @Option(
        names = "--template",
        required = true,
        paramLabel = "FILE",
        description = "The template's text.")
    Path template;

    @Option(names = "--json", description = "Print the new version as JSON on stdout.")
    boolean json;

    @Override
    public Integer call() {
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      String text;
      try {
        text = Files.readString(template);
      } catch (IOException e) {
        throw Errors.badInput(
            "cannot read template " + template + ": " + e.getMessage(), "check the path");
      }
      KilnSettings kiln = sparkOptions.settings();
      try (Reporting reporting = Reporting.open(kiln, console)) {
        Prompt prompt =
            new PromptRegistry(reporting.tracking(), System.getenv()).register(name, text);
        console.result(
            json
                ? LlmCommand.json(describe(prompt))
                : "Registered " + prompt + " with variables " + prompt.template().variables());
        return 0;
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "List every prompt in the registry with its versions, their template digests and its"
              + " aliases.")
  static final class ListPrompts implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;

    @Option(names = "--json", description = "Print the prompts as JSON on stdout.")
    boolean json;

    @Override
    public Integer call() {
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      try (Reporting reporting = Reporting.open(sparkOptions.settings(), console)) {
        List<PromptRegistry.Listing> prompts =
            new PromptRegistry(reporting.tracking(), System.getenv()).list();
        if (json) {
          console.result(
              LlmCommand.json(
                  prompts.stream()
                      .map(
                          p -> {
                            Map<String, Object> out = new LinkedHashMap<>();
                            out.put("name", p.name());
                            out.put("aliases", p.aliases());
                            out.put(
                                "versions",
                                p.versions().stream().map(LlmCommand::describe).toList());
                            return out;
                          })
                      .toList()));
          return 0;
        }
        if (prompts.isEmpty()) {
          console.result(
              "No prompts in the registry at "
                  + reporting.tracking().uri()
                  + "; register one with `kiln prompts register --name NAME --template FILE`.");
        }
        for (PromptRegistry.Listing p : prompts) {
          console.result(
              p.name()
                  + "  "
                  + p.versions().size()
                  + (p.versions().size() == 1 ? " version" : " versions")
                  + (p.aliases().isEmpty() ? "" : "  aliases " + p.aliases()));
          for (Prompt v : p.versions()) {
            console.result("  " + line(v, p.aliases()));
          }
        }
        return 0;
      }
    }
  }

  /** One version in a listing: its URI, digest, variables and the aliases pointing at it. */
  private static String line(Prompt p, Map<String, String> aliases) {
    List<String> mine =
        aliases.entrySet().stream()
            .filter(a -> a.getValue().equals(p.version()))
            .map(a -> "@" + a.getKey())
            .toList();
    return p
        + "  "
        + p.digest().substring(0, "sha256:".length() + 12)
        + "  variables "
        + p.template().variables()
        + (mine.isEmpty() ? "" : "  " + String.join(" ", mine));
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Print a prompt version's template, or list a prompt's versions.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;

    @Parameters(
        paramLabel = "NAME[/VERSION|@ALIAS]",
        description = "A prompt; without a version, every version is listed.")
    String prompt;

    @Option(names = "--json", description = "Print as JSON on stdout.")
    boolean json;

    @Override
    public Integer call() {
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      KilnSettings kiln = sparkOptions.settings();
      try (Reporting reporting = Reporting.open(kiln, console)) {
        PromptRegistry registry = new PromptRegistry(reporting.tracking(), System.getenv());
        if (prompt.contains("/") || prompt.contains("@")) {
          Prompt found = registry.load(PromptRef.parse(prompt));
          console.result(
              json ? LlmCommand.json(describe(found)) : found + "\n" + found.template().text());
          return 0;
        }
        List<Prompt> versions = registry.versions(prompt);
        if (versions.isEmpty()) {
          throw Errors.notFound(
              "prompt " + prompt + " does not exist",
              "register it with `kiln llm prompts register`");
        }
        if (json) {
          console.result(LlmCommand.json(versions.stream().map(LlmCommand::describe).toList()));
        } else {
          Map<String, String> aliases = registry.aliases(prompt);
          versions.forEach(p -> console.result(line(p, aliases)));
        }
        return 0;
      }
    }
  }

  @Command(
      name = "alias",
      mixinStandardHelpOptions = true,
      description = "Point an alias of a prompt at a version.")
  static final class Alias implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;

    @Parameters(index = "0", paramLabel = "NAME/VERSION", description = "The prompt version.")
    String prompt;

    @Parameters(index = "1", paramLabel = "ALIAS", description = "The alias, e.g. champion.")
    String alias;

    @Override
    public Integer call() {
      Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
      PromptRef ref = PromptRef.parse(prompt);
      if (ref.version() == null) {
        throw Errors.badInput("alias needs a version, got " + prompt, "write NAME/VERSION ALIAS");
      }
      try (Reporting reporting = Reporting.open(sparkOptions.settings(), console)) {
        new PromptRegistry(reporting.tracking(), System.getenv())
            .setAlias(ref.name(), alias, ref.version());
        console.result(ref.name() + "@" + alias + " -> version " + ref.version());
        return 0;
      }
    }
  }

  private static Map<String, Object> describe(Prompt p) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", p.name());
    out.put("version", p.version());
    out.put("uri", p.toString());
    out.put("digest", p.digest());
    out.put("variables", p.template().variables());
    out.put("template", p.template().text());
    return out;
  }

  /** Jobs' one JSON writer, so that --json looks the same on every command. */
  private static String json(Object value) {
    return JsonOption.write(value);
  }
}
