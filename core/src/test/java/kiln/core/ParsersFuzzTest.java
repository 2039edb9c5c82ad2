package kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Issue 17, item 8: property-based tests (QuickTheories) of the DatasetRef parser ({@code
 * TABLE[@V|@TS]}) and of the YAML loader every config goes through ({@link YamlFiles}, here with
 * Kiln's settings). Any input gives a valid value or Kiln's bad-input error (exit 2), never another
 * exception. CI runs {@value #DEFAULT_EXAMPLES} examples per property from a fixed seed, a few
 * seconds; a longer run sets {@code -Dkiln.fuzz.examples=N} (and {@code -Dkiln.fuzz.seed=S} for
 * other inputs), see RELIABILITY.md.
 */
class ParsersFuzzTest {
  static final int DEFAULT_EXAMPLES = 200;
  static final long DEFAULT_SEED = 17L;

  private static QuickTheory fuzz() {
    return qt().withExamples(Integer.getInteger("kiln.fuzz.examples", DEFAULT_EXAMPLES))
        .withFixedSeed(Long.getLong("kiln.fuzz.seed", DEFAULT_SEED));
  }

  /** Strings of 0 to max characters drawn from the given generator. */
  private static Gen<String> stringsOf(Gen<Character> chars, int min, int max) {
    return lists()
        .of(chars)
        .ofSizeBetween(min, max)
        .map(cs -> cs.stream().map(String::valueOf).collect(Collectors.joining()));
  }

  private static Gen<Character> charsOf(String chars) {
    List<Character> list = new ArrayList<>();
    for (char c : chars.toCharArray()) {
      list.add(c);
    }
    return arbitrary().pick(list);
  }

  /** Characters that matter to the parsers, and some that do not. */
  private static Gen<String> refText() {
    Gen<Character> noisyChars =
        Generate.oneOf(
            charsOf("@/:.-+ TZ_0123456789abcs3"),
            Generate.characters(0x00, 0x7f),
            charsOf("\u00e9\u4e2d\ud83d\ude00"));
    Gen<String> noisy = stringsOf(noisyChars, 0, 40);
    Gen<String> table =
        arbitrary()
            .pick("t", "tables/flights", "s3a://user@bucket/t", "C:\\t", " spaced ", "", "@");
    Gen<String> suffix =
        Generate.oneOf(
            longs().all().map(n -> String.valueOf(n)),
            strings().betweenCodePoints('0', '9').ofLengthBetween(0, 25),
            arbitrary()
                .pick(
                    "2024-01-31",
                    "2024-13-01",
                    "2024-02-30T25:00:00",
                    "2024-01-31 10:00:00",
                    "2024-01-31T10:00:00Z",
                    "2024-01-31T10:00:00+25:00",
                    "1-",
                    "9-9",
                    "",
                    "v1",
                    "latest"));
    Gen<String> structured =
        table.zip(suffix, arbitrary().pick("@", "@@", "@ ", ""), (t, s, at) -> t + at + s);
    return Generate.oneOf(noisy, structured);
  }

  @Test
  void aDatasetRefParsesOrIsBadInput() {
    fuzz()
        .forAll(refText())
        .checkAssert(
            text -> {
              DatasetRef ref;
              try {
                ref = DatasetRef.parse(text);
              } catch (BadInputException expected) {
                assertThat(expected.getMessage()).isNotBlank();
                return;
              }
              assertThat(ref.table()).isNotBlank();
              assertThat(ref.version() == null || ref.timestamp() == null).isTrue();
              // what the parser gives back, written out, parses to itself
              assertThat(DatasetRef.parse(ref.toString())).isEqualTo(ref);
            });
  }

  @Test
  void aValidRefRoundTrips() {
    fuzz()
        .forAll(tables(), versions())
        .checkAssert(
            (table, version) -> {
              DatasetRef ref = DatasetRef.atVersion(table, version);
              assertThat(DatasetRef.parse(ref.toString())).isEqualTo(ref);
            });
  }

  private static Gen<String> tables() {
    return stringsOf(charsOf("abcxyz019_-./:"), 1, 20)
        .assuming(t -> !t.isBlank() && !t.contains("@") && t.strip().equals(t));
  }

  private static Gen<Long> versions() {
    return longs().between(0, Long.MAX_VALUE);
  }

  private static final List<String> KEYS =
      List.of(
          "spark",
          "tracking",
          "workdir",
          "profile",
          "master",
          "ui",
          "conf",
          "uri",
          "experiment",
          "spark.sql.shuffle.partitions",
          "colour",
          "<<",
          "? complex",
          "'quoted'",
          "\"dq\"",
          "");

  private static final List<String> SCALARS =
      List.of(
          "local",
          "cluster",
          "GPU",
          "gpu2",
          "local[2]",
          "''",
          "\"\"",
          "~",
          "null",
          "true",
          "no",
          "1",
          "-1",
          "1e999",
          "0x1F",
          "99999999999999999999999",
          ".nan",
          "[]",
          "{}",
          "[a, [b, {c: d}]]",
          "{a: 1, a: 2}",
          "&anchor x",
          "*anchor",
          "*undefined",
          "!!binary AAAA",
          "!!int x",
          "!custom tag",
          "|\n  block",
          ">-\n  folded",
          "'unterminated",
          "\"bad \\q escape\"",
          "http://u:p@h:5000",
          "\t",
          "#comment",
          "---",
          "...",
          "%YAML 1.2",
          "- item",
          ": colon",
          "\u0000",
          "\uFEFF");

  private static Gen<String> yamlValue(int depth) {
    Gen<String> scalar =
        Generate.oneOf(
            arbitrary().pick(SCALARS),
            strings().allPossible().ofLengthBetween(0, 12),
            integers().all().map(n -> String.valueOf(n)));
    if (depth <= 0) {
      return scalar;
    }
    Gen<String> map = yamlMap(depth - 1).map(m -> "\n" + m.indent(2).stripTrailing());
    Gen<String> list =
        lists().of(yamlValue(depth - 1)).ofSizeBetween(0, 3).map(items -> listText(items));
    return Generate.frequency(Pair.of(5, scalar), Pair.of(3, map), Pair.of(1, list));
  }

  private static String listText(List<String> items) {
    StringBuilder text = new StringBuilder();
    for (String item : items) {
      text.append("\n- ").append(item.replace("\n", "\n  "));
    }
    return text.toString();
  }

  private static Gen<String> yamlMap(int depth) {
    Gen<String> entry =
        arbitrary()
            .pick(KEYS)
            .zip(
                yamlValue(depth),
                (key, value) -> key + ":" + (value.startsWith("\n") ? "" : " ") + value);
    return lists().of(entry).ofSizeBetween(0, 4).map(entries -> String.join("\n", entries));
  }

  private static final String VALID_SETTINGS =
      "workdir: w\nspark:\n  profile: local\n  master: local[2]\n  conf:\n    a: b\n"
          + "tracking:\n  uri: http://127.0.0.1:5000\n  experiment: e\n";

  private static Gen<String> settingsYaml() {
    // a valid file with a stretch cut out or a character put in
    Gen<String> mutated =
        integers()
            .between(0, 120)
            .zip(
                integers().between(0, 8),
                charsOf(":-[]{}#&*!|>'\"%@`\t\n ?,"),
                (at, cut, inserted) -> {
                  String text = VALID_SETTINGS;
                  int from = Math.min(at, text.length());
                  int to = Math.min(text.length(), from + cut);
                  return text.substring(0, from) + inserted + text.substring(to);
                });
    return Generate.oneOf(
        yamlMap(3),
        mutated,
        strings().allPossible().ofLengthBetween(0, 60),
        arbitrary().pick("", " ", "\n"));
  }

  @Test
  void settingsYamlLoadsOrIsBadInput() {
    fuzz()
        .forAll(settingsYaml())
        .checkAssert(
            text -> {
              try {
                KilnSettings settings = YamlFiles.parse(text, "kiln.yaml", KilnSettings.class);
                assertThat(settings).isNotNull();
              } catch (BadInputException expected) {
                assertThat(expected.getMessage()).contains("kiln.yaml");
              }
            });
  }

  @Test
  void anyYamlLoadsAsATreeOrIsBadInput() {
    fuzz()
        .forAll(settingsYaml())
        .checkAssert(
            text -> {
              try {
                assertThat(
                        YamlFiles.parse(
                            text, "any.yaml", com.fasterxml.jackson.databind.JsonNode.class))
                    .isNotNull();
              } catch (BadInputException expected) {
                assertThat(expected.getMessage()).contains("any.yaml");
              }
            });
  }
}
