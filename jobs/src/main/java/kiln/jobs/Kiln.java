package kiln.jobs;

import java.io.PrintWriter;
import java.util.List;
import kiln.core.BadInputException;
import kiln.core.CheckFailedException;
import kiln.core.EnvironmentException;
import kiln.core.KilnException;
import kiln.core.tracking.TrackingException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/** The {@code kiln} command: one subcommand per job. */
@Command(
    name = "kiln",
    mixinStandardHelpOptions = true,
    versionProvider = Kiln.Version.class,
    description = "Spark batch jobs that take ML and LLM models through their lifecycle.",
    subcommands = {
      IngestCommand.class,
      ContractsCommand.class,
      FeaturesCommand.class,
      TrainCommand.class,
      ModelsCommand.class,
      ScoreCommand.class,
      DatasetsCommand.class,
      DataCommand.class,
      DriftCommand.class,
      LineageCommand.class,
      LlmCommand.class,
      PromptsCommand.class,
      PiiCommand.class,
      CostCommand.class,
      MonitorCommand.class,
      GpuCommand.class,
      ClusterCommand.class,
      DemoCommand.class,
      ServerCommand.class,
      TrackingCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Exit codes:",
      "  0  success",
      "  1  a check failed: a contract broken, a gate refused, a dataset drifted",
      "  2  bad usage or bad input: fix the command, do not retry as is",
      "  3  an environment or internal failure (a port, store, tracking server or GPU",
      "     unusable): a retry may help",
      "Run `kiln COMMAND --help` for a command's options."
    })
public final class Kiln implements Runnable {
  /** A check ran and failed: a broken contract, a refused gate, drift over its threshold. */
  public static final int CHECK_FAILED = 1;

  /** Bad usage or bad input: the same command will fail again. */
  public static final int BAD_INPUT = 2;

  /** The environment or Kiln itself failed: a retry, or a fix of the environment, may help. */
  public static final int ENVIRONMENT_OR_INTERNAL = 3;

  /** The footer of every command's help that has none of its own. */
  private static final String[] COMMAND_EXIT_CODES = {
    "",
    "Exit codes: 0 success, 1 a check failed, 2 bad usage or bad input,",
    "3 an environment or internal failure (a retry may help)."
  };

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Show stack traces and the warnings of Spark and other libraries.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code; the entry point for tests and notebooks. */
  public static int execute(String... args) {
    return commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true))
        .execute(args);
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    // the credentials the environment gives (tracking token, S3 keys, API keys) are masked in
    // every error Kiln prints, its --verbose stack traces included
    kiln.core.Secrets.rememberNamed(System.getenv());
    CommandLine commandLine = new CommandLine(new Kiln());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler(Kiln::handle);
    commandLine.setExecutionStrategy(Kiln::refuseUnknownCommands);
    commandLine.setParameterExceptionHandler(Kiln::badUsage);
    // every command's --version says the same thing as kiln --version
    java.util.ArrayDeque<CommandLine> commands = new java.util.ArrayDeque<>(List.of(commandLine));
    while (!commands.isEmpty()) {
      CommandLine command = commands.pop();
      command.getCommandSpec().versionProvider(new Version());
      if (command.getSubcommands().isEmpty()
          && command.getCommandSpec().usageMessage().footer().length == 0
          && !command.getCommandName().equals("help")) {
        command.getCommandSpec().usageMessage().footer(COMMAND_EXIT_CODES);
      }
      commands.addAll(command.getSubcommands().values());
    }
    return commandLine;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * picocli lets {@code kiln llm --help} print the top-level help and exit 0, because the help
   * option wins over an unmatched word; a word that names no command is an error whatever follows
   * it.
   */
  private static int refuseUnknownCommands(CommandLine.ParseResult parse) {
    CommandLine.ParseResult leaf = parse;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    List<String> unmatched = leaf.unmatched();
    if (!unmatched.isEmpty() && leaf.commandSpec().commandLine().getSubcommands().size() > 0) {
      CommandLine command = leaf.commandSpec().commandLine();
      throw new CommandLine.ParameterException(
          command,
          "Unknown command '"
              + unmatched.get(0)
              + "' of "
              + leaf.commandSpec().qualifiedName()
              + "; the commands are: "
              + String.join(
                  ", ",
                  command.getSubcommands().keySet().stream()
                      .filter(n -> !n.equals("help"))
                      .toList()));
    }
    if (!anyVerbose(parse)) {
      quietLibraries();
    }
    // every run records the job config's digest and file (kiln.lineage's triad)
    CommandLine.Model.OptionSpec config = leaf.commandSpec().findOption("--config");
    Reporting.commandConfig(
        config != null && config.getValue() instanceof java.nio.file.Path path ? path : null);
    // and names the OpenLineage parent run the scheduler gave (Reporting checks its form)
    CommandLine.Model.OptionSpec parent = leaf.commandSpec().findOption("--lineage-parent");
    Reporting.lineageParent(
        parent != null && parent.getValue() instanceof String text ? text : null);
    // with --json, standard output is the result record alone: native loaders and libraries that
    // print to System.out (llama.cpp's "Extracted libjllama.so", Spark NLP's "Using CPUs") are sent
    // to standard error for the command's duration; the command's own writer keeps the real stdout
    CommandLine.Model.OptionSpec json = leaf.commandSpec().findOption(JsonOption.NAME);
    java.io.PrintStream stdout = System.out;
    boolean jsonOnly = json != null && Boolean.TRUE.equals(json.getValue());
    if (jsonOnly) {
      System.setOut(System.err);
    }
    try {
      return new CommandLine.RunLast().execute(parse);
    } finally {
      if (jsonOnly) {
        System.setOut(stdout);
      }
      // both belong to this command only: a later job in the same JVM and thread (a notebook's
      // KilnSession, the next test) must not record this command's config or parent
      Reporting.commandConfig(null);
      Reporting.lineageParent(null);
    }
  }

  /** Libraries whose warnings are chatter to a user of the command line; --verbose shows them. */
  private static final List<String> LIBRARIES =
      List.of(
          "org.apache.spark",
          "org.apache.hadoop",
          "org.apache.parquet",
          "io.delta",
          "com.amazon.deequ",
          "ml.dmlc",
          "org.sparkproject");

  static void quietLibraries() {
    for (String library : LIBRARIES) {
      org.apache.logging.log4j.core.config.Configurator.setLevel(
          library, org.apache.logging.log4j.Level.ERROR);
    }
  }

  /**
   * Bad usage: the message, picocli's suggestions, then the command's usage with its list of
   * commands.
   */
  private static int badUsage(CommandLine.ParameterException error, String[] args) {
    CommandLine command = error.getCommandLine();
    PrintWriter err = command.getErr();
    err.println(error.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(error, err);
    command.usage(err);
    err.flush();
    return BAD_INPUT;
  }

  /**
   * Turns an exception into a message and an exit code: the one place where an error's type becomes
   * an exit code. A stack trace only with --verbose.
   */
  /** An error line, with any password written into a URI in it masked. */
  private static void println(PrintWriter err, String text) {
    err.println(kiln.core.Secrets.redact(text));
  }

  private static int handle(
      Exception error, CommandLine commandLine, CommandLine.ParseResult parse) {
    PrintWriter err = commandLine.getErr();
    boolean verbose =
        parse.hasMatchedOption("--verbose") || (parse.subcommand() != null && anyVerbose(parse));
    KilnException known = find(error, KilnException.class);
    TrackingException tracking = find(error, TrackingException.class);
    int code = exitCode(error);
    if (known != null) {
      println(err, "kiln: error: " + known.getMessage());
    } else if (tracking != null) {
      println(
          err,
          "kiln: error: the tracking server failed: "
              + tracking.getMessage()
              + "\n  fix: check that the server at --tracking-uri runs and accepts this request, then run again");
    } else if (isSparkAnalysisError(error)) {
      println(
          err,
          "kiln: error: "
              + kiln.core.Errors.rootMessage(error)
              + "\n  fix: check the column names and SQL in the command's arguments");
    } else if (find(error, java.io.UncheckedIOException.class) != null) {
      // a file the job had to read or write: the disk, a permission or a mount, not the command
      java.io.UncheckedIOException io = find(error, java.io.UncheckedIOException.class);
      String root = kiln.core.Errors.rootMessage(io.getCause());
      println(
          err,
          "kiln: error: "
              + (io.getMessage().contains(root) ? io.getMessage() : io.getMessage() + ": " + root)
              + "\n  fix: check that the path exists, is writable and has room, then run again");
    } else {
      println(
          err,
          "kiln: internal error: "
              + kiln.core.Errors.rootMessage(error)
              + (verbose ? "" : "\n  (run with --verbose for the stack trace)"));
    }
    if (verbose) {
      // the trace holds the messages of every cause: a library's or a server's may echo a key
      java.io.StringWriter trace = new java.io.StringWriter();
      error.printStackTrace(new PrintWriter(trace));
      err.print(kiln.core.Secrets.redact(trace.toString()));
    }
    err.flush();
    return code;
  }

  /**
   * The exit code of an error, from its cause's type: the outermost Kiln error in the chain
   * decides.
   */
  static int exitCode(Throwable error) {
    KilnException known = find(error, KilnException.class);
    if (known instanceof CheckFailedException) {
      return CHECK_FAILED;
    }
    if (known instanceof BadInputException) {
      return BAD_INPUT;
    }
    if (known instanceof EnvironmentException || find(error, TrackingException.class) != null) {
      return ENVIRONMENT_OR_INTERNAL;
    }
    if (isSparkAnalysisError(error)) {
      return BAD_INPUT;
    }
    return ENVIRONMENT_OR_INTERNAL;
  }

  private static boolean anyVerbose(CommandLine.ParseResult parse) {
    for (CommandLine.ParseResult p = parse; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  private static boolean isSparkAnalysisError(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof org.apache.spark.sql.AnalysisException) {
        return true;
      }
    }
    return false;
  }

  private static <T extends Throwable> T find(Throwable error, Class<T> type) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Kiln.class.getPackage().getImplementationVersion();
      return new String[] {
        "kiln "
            + (version == null ? "(development build)" : version)
            + ", Spark "
            + org.apache.spark.package$.MODULE$.SPARK_VERSION()
      };
    }
  }
}
