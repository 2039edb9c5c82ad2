package kiln.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.strings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Issue 17, item 8: the contract parser fed the standard's own examples with stretches cut out,
 * YAML's special characters put in, lines repeated and values swapped for others of the wrong kind.
 * Any input gives a contract or Kiln's bad-input error (exit 2), never another exception.
 * Property-based with QuickTheories: CI runs {@value #DEFAULT_EXAMPLES} examples from a fixed seed,
 * a few seconds; {@code -Dkiln.fuzz.examples=N} (and {@code -Dkiln.fuzz.seed=S}) runs longer.
 */
class ContractParserFuzzTest {
  static final int DEFAULT_EXAMPLES = 200;
  static final long DEFAULT_SEED = 17L;

  private static QuickTheory fuzz(int examples) {
    return qt().withExamples(examples).withFixedSeed(Long.getLong("kiln.fuzz.seed", DEFAULT_SEED));
  }

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

  private static Gen<Character> charsOf(String chars) {
    List<Character> list = new ArrayList<>();
    for (char c : chars.toCharArray()) {
      list.add(c);
    }
    return arbitrary().pick(list);
  }

  /** Where in a text, as a fraction of its length, from 0 to 1. */
  private static Gen<Double> where() {
    return doubles().between(0, 1);
  }

  private static Gen<String> contracts() {
    Gen<String> example = arbitrary().pick(EXAMPLES);
    Gen<String> cut =
        example.zip(
            where(),
            integers().between(0, 40),
            charsOf(":-[]{}#&*!|>'\"%@`\t\n ?,"),
            (text, where, length, inserted) -> {
              int from = (int) (where * text.length());
              int to = Math.min(text.length(), from + length);
              return text.substring(0, from) + inserted + text.substring(to);
            });
    Gen<String> swapped =
        example.zip(
            where(),
            arbitrary().pick(REPLACEMENTS),
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
    Gen<String> repeated =
        example.zip(
            where(),
            (text, where) -> {
              String[] lines = text.split("\n", -1);
              int index = (int) (where * (lines.length - 1));
              return text + "\n" + lines[index];
            });
    Gen<String> shifted =
        example.zip(
            where(),
            (text, where) -> {
              String[] lines = text.split("\n", -1);
              int index = (int) (where * (lines.length - 1));
              lines[index] = "   " + lines[index];
              return String.join("\n", lines);
            });
    return Generate.oneOf(
        cut, swapped, repeated, shifted, strings().allPossible().ofLengthBetween(0, 80));
  }

  @Test
  void aContractParsesOrIsBadInput() {
    fuzz(Integer.getInteger("kiln.fuzz.examples", DEFAULT_EXAMPLES))
        .forAll(contracts())
        .checkAssert(
            yaml -> {
              try {
                assertThat(Contracts.parse(yaml, "c.yaml")).isNotNull();
              } catch (BadInputException expected) {
                assertThat(expected.getMessage()).contains("c.yaml");
              }
            });
  }

  @Test
  void theStandardsExamplesAreManyEnoughToMutate() {
    fuzz(20).forAll(contracts()).checkAssert(yaml -> assertThat(EXAMPLES).hasSizeGreaterThan(10));
  }
}
