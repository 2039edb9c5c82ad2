package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The README's usage block is what picocli's command specs say, line for line, and every {@code
 * kiln} command line in the READMEs uses options its command has: the docs cannot drift from {@code
 * --help}.
 */
class UsageTest {
  /** Options the README lists once, under the usage block, rather than on every line. */
  private static final Set<String> COMMON =
      Set.of("--help", "--version", "--verbose", JsonOption.NAME);

  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @Test
  void theReadmeUsageBlockIsTheCommandLineAsPicocliDefinesIt() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher block = Pattern.compile("## Usage\\n\\n```\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(block.find()).as("README.md has a ## Usage section with a code block").isTrue();
    String expected = String.join("\n", usageLines(root())) + "\n";
    assertThat(block.group(1))
        .as("README.md's usage block; the command line defines it as:\n" + expected)
        .isEqualTo(expected);
  }

  @Test
  void theReadmeNamesTheOptionsEverySparkCommandTakesAndTheExitCodes() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    for (String option : SparkOptions.NAMES) {
      assertThat(readme).contains("`" + option);
    }
    assertThat(readme)
        .contains("`" + JsonOption.NAME + "`")
        .contains("`3` an environment or internal failure");
    assertThat(help()).contains("3  an environment or internal failure");
    assertThat(KilnRun.kiln("ingest", "--help").out()).contains("3 an environment or internal");
    assertThat(KilnRun.kiln("drift", "--help").out())
        .contains("3 an environment or internal failure");
  }

  @Test
  void everyKilnCommandLineInTheReadmesUsesOptionsItsCommandHas() throws IOException {
    CommandLine root = root();
    Map<String, Set<String>> options = new LinkedHashMap<>();
    collect(root, options);
    List<Path> readmes = new ArrayList<>();
    try (Stream<Path> files = Files.walk(ROOT, 2)) {
      files.filter(f -> f.getFileName().toString().equals("README.md")).forEach(readmes::add);
    }
    assertThat(readmes).hasSizeGreaterThan(1);
    List<String> wrong = new ArrayList<>();
    int lines = 0;
    // a command line: `kiln` (or bin/kiln) then words, up to the end of the line or a backtick
    Pattern commandLine = Pattern.compile("(?:bin/)?kiln((?: +[a-z][a-z-]*)+)((?: +[^`\\n]*)?)");
    for (Path readme : readmes) {
      for (String line : Files.readAllLines(readme)) {
        Matcher m = commandLine.matcher(line);
        while (m.find()) {
          String command = longestCommand(options, m.group(1).trim().split(" +"));
          if (command == null) {
            continue;
          }
          lines++;
          Matcher option = Pattern.compile("(?<![\\w-])--[a-z][a-z-]*").matcher(m.group(2));
          while (option.find()) {
            if (!options.get(command).contains(option.group())) {
              wrong.add(
                  ROOT.relativize(readme)
                      + ": `"
                      + command
                      + "` has no "
                      + option.group()
                      + " (in: "
                      + line.strip()
                      + ")");
            }
          }
        }
      }
    }
    assertThat(lines).isGreaterThan(10);
    assertThat(wrong).isEmpty();
  }

  /**
   * One line per command that runs something, from its spec: required options bare, the others in
   * brackets.
   */
  static List<String> usageLines(CommandLine root) {
    List<String> lines = new ArrayList<>();
    walk(root, lines);
    return lines;
  }

  private static void walk(CommandLine command, List<String> lines) {
    String name = command.getCommandName();
    if (name.equals("help")) {
      return;
    }
    if (!command.getSubcommands().isEmpty()) {
      command.getSubcommands().values().forEach(sub -> walk(sub, lines));
      return;
    }
    StringBuilder line = new StringBuilder(command.getCommandSpec().qualifiedName());
    for (PositionalParamSpec parameter : command.getCommandSpec().positionalParameters()) {
      line.append(' ')
          .append(
              parameter.arity().min() == 0
                  ? "[" + parameter.paramLabel() + "]"
                  : parameter.paramLabel());
    }
    boolean runsSpark = command.getCommandSpec().mixins().containsKey("sparkOptions");
    for (OptionSpec option : command.getCommandSpec().options()) {
      String longName = option.longestName();
      if (COMMON.contains(longName) || (runsSpark && SparkOptions.NAMES.contains(longName))) {
        continue;
      }
      String text = longName + (option.arity().max() == 0 ? "" : " " + option.paramLabel());
      line.append(' ').append(option.required() ? text : "[" + text + "]");
      if (option.isMultiValue() && option.splitRegex().isEmpty()) {
        line.append("...");
      }
    }
    lines.add(line.toString());
  }

  private static void collect(CommandLine command, Map<String, Set<String>> options) {
    Set<String> names = new TreeSet<>();
    command.getCommandSpec().options().forEach(o -> names.addAll(List.of(o.names())));
    options.put(command.getCommandSpec().qualifiedName(), names);
    command.getSubcommands().values().forEach(sub -> collect(sub, options));
  }

  private static String longestCommand(Map<String, Set<String>> options, String[] words) {
    String found = null;
    StringBuilder name = new StringBuilder("kiln");
    for (String word : words) {
      name.append(' ').append(word);
      if (options.containsKey(name.toString())) {
        found = name.toString();
      } else {
        break;
      }
    }
    return found;
  }

  private static CommandLine root() {
    return Kiln.commandLine(
        new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
  }

  private static String help() {
    return KilnRun.kiln("--help").out();
  }

  /** Prints the usage block for README.md. */
  public static void main(String[] args) {
    usageLines(root()).forEach(System.out::println);
  }
}
