package kiln.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.BadInputException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 17, item 8: the contract parser fed the standard's own examples with stretches cut out,
 * YAML's special characters put in, lines repeated and values swapped for others of the wrong kind.
 * Any input gives a contract or Kiln's bad-input error (exit 2), never another exception. Bounded
 * by jqwik's 1000 tries per property in CI; {@code -Djqwik.tries.default=N} runs longer.
 */
class ContractParserFuzzTest {
  private static final List<String> EXAMPLES = examples();

  private static List<String> examples() {
    Path root = Path.of("src/test/resources/odcs-examples");
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(f -> f.toString().endsWith(".yaml"))
          .sorted()
          .map(
              f -> {
                try {
                  return Files.readString(f);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              })
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final List<String> REPLACEMENTS =
      List.of(
          "",
          "~",
          "[]",
          "{}",
          "-1",
          "1e999",
          "99999999999999999999999",
          "true",
          "'",
          "\"",
          "&a x",
          "*a",
          "*nope",
          "!!binary AAAA",
          "[a, {b: [c]}]",
          "{a: 1, a: 2}",
          "|\n  x",
          "\t",
          "\u0000",
          "v9.9.9",
          "---\nsecond: document");

  @Provide
  Arbitrary<String> contracts() {
    Arbitrary<String> example = Arbitraries.of(EXAMPLES);
    Arbitrary<String> cut =
        Combinators.combine(
                example,
                Arbitraries.doubles().between(0, 1),
                Arbitraries.integers().between(0, 40),
                Arbitraries.chars().with(":-[]{}#&*!|>'\"%@`\t\n ?,"))
            .as(
                (text, where, length, inserted) -> {
                  int from = (int) (where * text.length());
                  int to = Math.min(text.length(), from + length);
                  return text.substring(0, from) + inserted + text.substring(to);
                });
    Arbitrary<String> swapped =
        Combinators.combine(
                example, Arbitraries.doubles().between(0, 1), Arbitraries.of(REPLACEMENTS))
            .as(
                (text, where, value) -> {
                  // the value after the colon of one line becomes something else
                  String[] lines = text.split("\n", -1);
                  int index = (int) (where * (lines.length - 1));
                  int colon = lines[index].indexOf(':');
                  if (colon >= 0) {
                    lines[index] = lines[index].substring(0, colon + 1) + " " + value;
                  }
                  return String.join("\n", lines);
                });
    Arbitrary<String> repeated =
        Combinators.combine(example, Arbitraries.doubles().between(0, 1))
            .as(
                (text, where) -> {
                  String[] lines = text.split("\n", -1);
                  int index = (int) (where * (lines.length - 1));
                  return text + "\n" + lines[index];
                });
    Arbitrary<String> shifted =
        Combinators.combine(example, Arbitraries.doubles().between(0, 1))
            .as(
                (text, where) -> {
                  String[] lines = text.split("\n", -1);
                  int index = (int) (where * (lines.length - 1));
                  lines[index] = "   " + lines[index];
                  return String.join("\n", lines);
                });
    return Arbitraries.oneOf(
        cut, swapped, repeated, shifted, Arbitraries.strings().ofMaxLength(80));
  }

  @Property
  void aContractParsesOrIsBadInput(@ForAll("contracts") String yaml) {
    try {
      assertThat(Contracts.parse(yaml, "c.yaml")).isNotNull();
    } catch (BadInputException expected) {
      assertThat(expected.getMessage()).contains("c.yaml");
    }
  }

  @Property(tries = 20)
  void theStandardsExamplesAreManyEnoughToMutate(@ForAll("contracts") String yaml) {
    assertThat(EXAMPLES).hasSizeGreaterThan(10);
  }
}
