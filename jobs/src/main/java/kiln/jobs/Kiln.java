package kiln.jobs;

import java.io.PrintWriter;
import kiln.core.KilnException;
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
      LlmCommand.class,
      DemoCommand.class,
      ServerCommand.class,
      TrackingCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 success, 1 a check failed, 2 bad usage or bad input, 3 an internal error.",
      "Run `kiln COMMAND --help` for a command's options."
    })
public final class Kiln implements Runnable {
  public static final int INTERNAL_ERROR = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Show stack traces and Spark's log warnings.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code; the entry point for tests and notebooks. */
  public static int execute(String... args) {
    return commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args);
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new Kiln());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler(Kiln::handle);
    return commandLine;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Turns an exception into a message and an exit code; a stack trace only with --verbose. */
  private static int handle(Exception error, CommandLine commandLine, CommandLine.ParseResult parse) {
    PrintWriter err = commandLine.getErr();
    boolean verbose = parse.hasMatchedOption("--verbose")
        || (parse.subcommand() != null && anyVerbose(parse));
    KilnException known = find(error, KilnException.class);
    int code;
    if (known != null) {
      err.println("kiln: error: " + known.getMessage());
      code = known.exitCode();
    } else if (isSparkAnalysisError(error)) {
      err.println("kiln: error: " + kiln.core.Errors.rootMessage(error)
          + "\n  fix: check the column names and SQL in the command's arguments");
      code = 2;
    } else {
      err.println("kiln: internal error: " + kiln.core.Errors.rootMessage(error)
          + (verbose ? "" : "\n  (run with --verbose for the stack trace)"));
      code = INTERNAL_ERROR;
    }
    if (verbose) {
      error.printStackTrace(err);
    }
    err.flush();
    return code;
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
      return new String[] {"kiln " + (version == null ? "(development build)" : version)
          + ", Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION()};
    }
  }
}
