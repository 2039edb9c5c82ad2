package kiln.jobs.demo;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.tracking.TrackedRun;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import kiln.llm.LlmJob;
import kiln.llm.LlmJobConfig;
import kiln.llm.LlmRunResult;
import kiln.llm.Prompt;
import kiln.llm.PromptRef;
import kiln.llm.PromptRegistry;
import kiln.llm.internal.TinyGguf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The demo's LLM step: a few SpamAssassin mails ({@code bin/kiln-spam-data}) redacted and
 * classified by the local engine with a versioned prompt whose answers must be JSON of a schema
 * (grammar-constrained decoding), the labels in a Delta table and the run's tokens in MLflow. The
 * model is Kiln's tiny random-weight GGUF (no real weights are reachable here): its labels are
 * valid JSON but chance; {@code engine.modelPath} or an {@code openai} engine gives real ones.
 */
public final class SpamLlmDemo {
  /** Mails per set (spam-1 and easy-ham-1): few, so that the step adds seconds to the demo. */
  public static final int PER_SET = 10;

  /** The start of each mail that is sent: the headers, with their names and addresses to redact. */
  public static final int CHARACTERS = 600;

  public static final String PROMPT = "spam-triage";
  public static final String TEMPLATE =
      "Is this e-mail spam or ham? Answer with JSON: {\"label\": \"spam\"} or {\"label\":"
          + " \"ham\"}.\n\n{{text}}";
  public static final String SCHEMA =
      "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]}},"
          + "\"required\":[\"label\"],\"additionalProperties\":false}";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What the step did.
   *
   * @param llm the LLM job's result
   * @param mails the input table
   * @param agreeing mails whose label is their set's (spam-1: spam, easy-ham-1: ham)
   */
  public record Result(LlmRunResult llm, String mails, long agreeing) {
    public Result {
      requireNonNull(llm, "llm is null");
      requireNonNull(mails, "mails is null");
    }
  }

  private SpamLlmDemo() {}

  /** Where {@code bin/kiln-spam-data} unpacks the mails, when it has. */
  public static Optional<Path> mails(Map<String, String> env) {
    String base = env.get("KILN_DATA_DIR");
    Path data =
        (base == null || base.isBlank()
                ? Path.of(System.getProperty("user.home"), ".cache", "kiln", "data")
                : Path.of(base))
            .resolve("spam-assassin/data");
    return Files.isDirectory(data.resolve("spam-1"))
            && Files.isDirectory(data.resolve("easy-ham-1"))
        ? Optional.of(data)
        : Optional.empty();
  }

  /** The first mails of each set by file name, their set and their start, as a Delta table. */
  static String writeMails(SparkSession spark, Path data, Path demo) {
    List<String> files = new ArrayList<>();
    for (String set : List.of("spam-1", "easy-ham-1")) {
      try (Stream<Path> list = Files.list(data.resolve(set))) {
        list.filter(f -> f.getFileName().toString().endsWith(".json"))
            .sorted()
            .limit(PER_SET)
            .forEach(f -> files.add(f.toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Dataset<Row> mails =
        spark
            .read()
            .json(files.toArray(String[]::new))
            .select(
                functions.concat_ws("/", functions.col("group"), functions.col("id")).as("mail_id"),
                functions.col("group").as("mail_set"),
                functions.substring(functions.col("text"), 1, CHARACTERS).as("text"));
    String table = demo.resolve("tables/mails").toAbsolutePath().toString();
    new Datasets(spark).write(mails, table, WriteOptions.of(WriteMode.OVERWRITE));
    return table;
  }

  /** Runs the step inside {@code run}; the model, tables and pipeline go under {@code demo}. */
  public static Result run(
      SparkSession spark,
      PromptRegistry prompts,
      TrackedRun run,
      Path data,
      Path demo,
      Consumer<String> progress) {
    String mails = writeMails(spark, data, demo);
    Path model = demo.resolve("models/kiln-tiny.gguf");
    try {
      Files.createDirectories(model.getParent());
      TinyGguf.write(model, 11);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // the same template keeps its version across demos: a prompt is registered once per change
    Prompt prompt =
        prompts.versions(PROMPT).stream()
            .filter(p -> p.template().text().equals(TEMPLATE))
            .reduce((a, b) -> b)
            .orElseGet(() -> prompts.register(PROMPT, TEMPLATE));
    JsonNode schema;
    try {
      schema = JSON.readTree(SCHEMA);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EngineConfig engine =
        EngineConfig.builder()
            .type(EngineType.LOCAL)
            .temperature(0.0)
            .maxTokens(24)
            .seed(7L)
            .modelPath(model.toString())
            .contextSize(2048)
            .slots(1)
            .build();
    String labels = demo.resolve("tables/mail-labels").toAbsolutePath().toString();
    LlmJobConfig config =
        LlmJobConfig.builder()
            .input(mails)
            .key("mail_id")
            .text("text")
            .prompt(new PromptRef(PROMPT, prompt.version(), null))
            .engine(engine)
            .output(labels)
            // a random-weight model: every row may be cut off, the step shows the counts
            .maxErrorRate(1.0)
            .jsonSchema(schema)
            .build();
    LlmRunResult result =
        new LlmJob(spark, prompts, System.getenv(), progress)
            .run(config, run, demo.resolve("llm/pipelines"));
    Dataset<Row> written = spark.read().format("delta").load(labels);
    Dataset<Row> input = spark.read().format("delta").load(mails);
    long agreeing =
        written
            .where(functions.col("error").isNull())
            .join(input, "mail_id")
            .where(
                functions
                    .get_json_object(functions.col("completion"), "$.label")
                    .equalTo(
                        functions
                            .when(functions.col("mail_set").startsWith("spam"), "spam")
                            .otherwise("ham")))
            .count();
    run.logMetrics(Map.of("label_agreement", (double) agreeing));
    return new Result(result, mails, agreeing);
  }
}
