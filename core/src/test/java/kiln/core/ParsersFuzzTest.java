package kiln.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 17, item 8: property-based tests of the DatasetRef parser ({@code TABLE[@V|@TS]}) and of
 * the YAML loader every config goes through ({@link YamlFiles}, here with Kiln's settings). Any
 * input gives a valid value or Kiln's bad-input error (exit 2), never another exception. jqwik's
 * default of 1000 tries per property keeps CI at a few seconds; a longer run sets {@code
 * -Djqwik.tries.default=N} (see RELIABILITY.md).
 */
class ParsersFuzzTest {

  /** Characters that matter to the parsers, and some that do not. */
  private static Arbitrary<String> refText() {
    Arbitrary<String> noisy =
        Arbitraries.strings()
            .withChars("@/:.-+ TZ_0123456789abcs3")
            .withCharRange('\u0000', '\u007f')
            .withChars('\u00e9', '\u4e2d', '\ud83d', '\ude00')
            .ofMaxLength(40);
    Arbitrary<String> table =
        Arbitraries.of("t", "tables/flights", "s3a://user@bucket/t", "C:\\t", " spaced ", "", "@");
    Arbitrary<String> suffix =
        Arbitraries.oneOf(
            Arbitraries.longs().map(String::valueOf),
            Arbitraries.strings().numeric().ofMaxLength(25),
            Arbitraries.of(
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
    Arbitrary<String> structured =
        Combinators.combine(table, suffix, Arbitraries.of("@", "@@", "@ ", ""))
            .as((t, s, at) -> t + at + s);
    return Arbitraries.oneOf(noisy, structured);
  }

  @Provide
  Arbitrary<String> datasetRefs() {
    return refText();
  }

  @Property
  void aDatasetRefParsesOrIsBadInput(@ForAll("datasetRefs") String text) {
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
  }

  @Property
  void aValidRefRoundTrips(@ForAll("tables") String table, @ForAll("versions") long version) {
    DatasetRef ref = DatasetRef.atVersion(table, version);
    assertThat(DatasetRef.parse(ref.toString())).isEqualTo(ref);
  }

  @Provide
  Arbitrary<String> tables() {
    return Arbitraries.strings()
        .withChars("abcxyz019_-./:")
        .ofMinLength(1)
        .ofMaxLength(20)
        .filter(t -> !t.isBlank() && !t.contains("@") && t.strip().equals(t));
  }

  @Provide
  Arbitrary<Long> versions() {
    return Arbitraries.longs().greaterOrEqual(0);
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

  private static Arbitrary<String> yamlValue(int depth) {
    Arbitrary<String> scalar =
        Arbitraries.oneOf(
            Arbitraries.of(SCALARS),
            Arbitraries.strings().ofMaxLength(12),
            Arbitraries.integers().map(String::valueOf));
    if (depth <= 0) {
      return scalar;
    }
    Arbitrary<String> map = yamlMap(depth - 1).map(m -> "\n" + m.indent(2).stripTrailing());
    Arbitrary<String> list = yamlValue(depth - 1).list().ofMaxSize(3).map(items -> listText(items));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(5, scalar),
        net.jqwik.api.Tuple.of(3, map),
        net.jqwik.api.Tuple.of(1, list));
  }

  private static String listText(List<String> items) {
    StringBuilder text = new StringBuilder();
    for (String item : items) {
      text.append("\n- ").append(item.replace("\n", "\n  "));
    }
    return text.toString();
  }

  private static Arbitrary<String> yamlMap(int depth) {
    Arbitrary<String> entry =
        Combinators.combine(Arbitraries.of(KEYS), yamlValue(depth))
            .as((key, value) -> key + ":" + (value.startsWith("\n") ? "" : " ") + value);
    return entry.list().ofMinSize(0).ofMaxSize(4).map(entries -> String.join("\n", entries));
  }

  @Provide
  Arbitrary<String> settingsYaml() {
    Arbitrary<String> valid =
        Arbitraries.of(
            "workdir: w\nspark:\n  profile: local\n  master: local[2]\n  conf:\n    a: b\n"
                + "tracking:\n  uri: http://127.0.0.1:5000\n  experiment: e\n");
    // a valid file with a stretch cut out or a character put in
    Arbitrary<String> mutated =
        Combinators.combine(
                valid,
                Arbitraries.integers().between(0, 120),
                Arbitraries.integers().between(0, 8),
                Arbitraries.chars().with(":-[]{}#&*!|>'\"%@`\t\n ?,"))
            .as(
                (text, at, cut, inserted) -> {
                  int from = Math.min(at, text.length());
                  int to = Math.min(text.length(), from + cut);
                  return text.substring(0, from) + inserted + text.substring(to);
                });
    return Arbitraries.oneOf(
        yamlMap(3), mutated, Arbitraries.strings().ofMaxLength(60), Arbitraries.of("", " ", "\n"));
  }

  @Property
  void settingsYamlLoadsOrIsBadInput(@ForAll("settingsYaml") String text) {
    try {
      KilnSettings settings = YamlFiles.parse(text, "kiln.yaml", KilnSettings.class);
      assertThat(settings).isNotNull();
    } catch (BadInputException expected) {
      assertThat(expected.getMessage()).contains("kiln.yaml");
    }
  }

  @Property
  void anyYamlLoadsAsATreeOrIsBadInput(@ForAll("settingsYaml") String text) {
    try {
      assertThat(YamlFiles.parse(text, "any.yaml", com.fasterxml.jackson.databind.JsonNode.class))
          .isNotNull();
    } catch (BadInputException expected) {
      assertThat(expected.getMessage()).contains("any.yaml");
    }
  }
}
