package kiln.jobs;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code kiln prompts}: the versioned prompts, as issue 11 names the command; the same subcommands
 * as {@code kiln llm prompts}, which stays for the scripts and DAGs that call it.
 */
@Command(
    name = "prompts",
    mixinStandardHelpOptions = true,
    description =
        "Versioned prompts in the MLflow registry (stored as MLflow's Prompt Registry stores them).",
    subcommands = {
      LlmCommand.Register.class,
      LlmCommand.ListPrompts.class,
      LlmCommand.Show.class,
      LlmCommand.Alias.class,
      PromptGateCommand.class,
      CommandLine.HelpCommand.class
    })
final class PromptsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
