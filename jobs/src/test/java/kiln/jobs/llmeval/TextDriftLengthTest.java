package kiln.jobs.llmeval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.testing.SharedSpark;
import kiln.jobs.llmeval.TextDrift.LengthMeasure;
import kiln.llm.GgufTokenizer;
import kiln.llm.internal.TinyGguf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln llm drift}'s length of a text column in tokens, on ten-row frames: an LLM output
 * table's recorded token counts first, else the job's GGUF model's tokenizer, else words, named
 * {@code _words} so that words are never reported as tokens.
 */
@ExtendWith(SharedSpark.class)
class TextDriftLengthTest {
  @TempDir static Path dir;

  private static final String[] TEXTS = {
    "classify this mail",
    "hello",
    "spam and ham",
    "the ticket is open",
    "",
    null,
    "answer: 42",
    "Lorem ipsum dolor sit amet",
    "x",
    "refund my order now please"
  };

  /** Ten rows as an LLM output table has them: texts and the engine's counts beside them. */
  private static Dataset<Row> outputTable(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < TEXTS.length; i++) {
      // counts no word split gives: the engine's own
      rows.add(RowFactory.create(i, TEXTS[i], TEXTS[i] == null ? null : 100 + i, "ok " + i, 7 * i));
    }
    return spark.createDataFrame(
        rows,
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("prompt", DataTypes.StringType)
            .add("prompt_tokens", DataTypes.IntegerType)
            .add("completion", DataTypes.StringType)
            .add("completion_tokens", DataTypes.IntegerType));
  }

  private static Dataset<Row> texts(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < TEXTS.length; i++) {
      rows.add(RowFactory.create(i, TEXTS[i]));
    }
    return spark.createDataFrame(
        rows,
        new StructType().add("id", DataTypes.IntegerType).add("prompt", DataTypes.StringType));
  }

  @Test
  void anLlmOutputTablesRecordedTokenCountsAreTheTokens(SparkSession spark) {
    Dataset<Row> table = outputTable(spark);
    TextDrift drift =
        new TextDrift(spark, List.of("prompt", "completion"), null, null, null, null, null);
    Map<String, LengthMeasure> measures = drift.lengthMeasures(table.schema(), table.schema());
    assertThat(measures)
        .containsEntry("prompt", LengthMeasure.RECORDED_TOKENS)
        .containsEntry("completion", LengthMeasure.RECORDED_TOKENS);
    List<Row> derived =
        drift
            .derivation(measures)
            .apply(table)
            .orderBy("id")
            .select("prompt_tokens", "completion_tokens")
            .collectAsList();
    for (int i = 0; i < TEXTS.length; i++) {
      assertThat(derived.get(i).get(0)).isEqualTo(TEXTS[i] == null ? null : 100 + i);
      assertThat(derived.get(i).getInt(1)).isEqualTo(7 * i);
    }
    assertThat(LengthMeasure.RECORDED_TOKENS.describe("prompt", null))
        .contains("tokens", "prompt_tokens");
  }

  @Test
  void withoutRecordedCountsOrATokenizerTheMeasureIsWordsAndIsNamedSo(SparkSession spark) {
    Dataset<Row> table = texts(spark);
    TextDrift drift = new TextDrift(spark, List.of("prompt"), null, null, null, null, null);
    // one side recording counts is not enough: both sides are measured the same way
    Map<String, LengthMeasure> measures =
        drift.lengthMeasures(outputTable(spark).schema(), table.schema());
    assertThat(measures).containsEntry("prompt", LengthMeasure.WORDS);
    Dataset<Row> derived = drift.derivation(measures).apply(table).orderBy("id");
    assertThat(derived.columns()).contains("prompt_words").doesNotContain("prompt_tokens");
    List<Object> words = new ArrayList<>();
    derived.select("prompt_words").collectAsList().forEach(r -> words.add(r.get(0)));
    assertThat(words).containsExactly(3, 1, 3, 4, 0, null, 2, 5, 1, 5);
  }

  @Test
  void theJobsGgufModelCountsTheTokensWhenTheTableRecordsNone(SparkSession spark) throws Exception {
    Path model = dir.resolve("tiny.gguf");
    TinyGguf.write(model, 7);
    Dataset<Row> table = texts(spark);
    TextDrift drift =
        new TextDrift(spark, List.of("prompt"), null, null, null, null, model.toString());
    Map<String, LengthMeasure> measures = drift.lengthMeasures(table.schema(), table.schema());
    assertThat(measures).containsEntry("prompt", LengthMeasure.TOKENIZER_TOKENS);
    List<Row> derived =
        drift
            .derivation(measures)
            .apply(table)
            .orderBy("id")
            .select("prompt_tokens", "prompt_chars")
            .collectAsList();
    for (int i = 0; i < TEXTS.length; i++) {
      Object expected = TEXTS[i] == null ? null : GgufTokenizer.count(model.toString(), TEXTS[i]);
      assertThat(derived.get(i).get(0)).as(TEXTS[i]).isEqualTo(expected);
    }
    // the model's pieces, not words: one word, several tokens (the tiny model's vocabulary has
    // single characters and a few whole words)
    assertThat(derived.get(1).getInt(0)).isGreaterThan(1);
    assertThat(derived.get(4).getInt(0)).isZero();
    assertThat(LengthMeasure.TOKENIZER_TOKENS.describe("prompt", model.toString()))
        .contains("tokenizer", "tiny.gguf");
  }

  @Test
  void aTokenizerThatIsNotAGgufFileIsBadInput(SparkSession spark) throws Exception {
    Path notGguf = dir.resolve("vocab.txt");
    Files.writeString(notGguf, "hello\nworld\n");
    assertThatThrownBy(
            () ->
                new TextDrift(spark, List.of("prompt"), null, null, null, null, notGguf.toString()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("not a GGUF file");
    assertThatThrownBy(
            () ->
                new TextDrift(
                    spark,
                    List.of("prompt"),
                    null,
                    null,
                    null,
                    null,
                    dir.resolve("missing.gguf").toString()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("cannot be read");
  }
}
