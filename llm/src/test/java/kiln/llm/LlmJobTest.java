package kiln.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.llm.internal.LlmStage;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on real Spark, Spark NLP, Delta, Kiln's tracking server and a chat-completions
 * server on loopback: prompts from the registry, PII redacted before anything leaves, per-row
 * errors, the output written once, the pipeline saved and loaded back.
 */
@ExtendWith(SharedSpark.class)
class LlmJobTest {
  static FakeOpenAi llm;
  static TrackingServer server;
  static MlflowTracking tracking;
  static PromptRegistry prompts;
  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    llm = new FakeOpenAi();
    server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start();
    tracking =
        MlflowTracking.connect(
            server.uri().toString(),
            Map.of(),
            dir.resolve("spool"),
            m -> {},
            2,
            Duration.ofMillis(10));
    prompts = new PromptRegistry(tracking, Map.of());
  }

  @AfterAll
  static void stop() {
    tracking.close();
    server.close();
    llm.close();
  }

  private static Dataset<Row> tickets(SparkSession spark, List<Object[]> rows) {
    StructType schema =
        new StructType().add("id", DataTypes.LongType).add("body", DataTypes.StringType);
    List<Row> list = new ArrayList<>();
    rows.forEach(r -> list.add(RowFactory.create(r)));
    return spark.createDataFrame(list, schema).repartition(2);
  }

  private static LlmJobConfig config(
      String input, String output, PromptRef prompt, double maxErrorRate) {
    return LlmJobConfig.builder()
        .input(input)
        .key("id")
        .text("body")
        .prompt(prompt)
        .engine(
            EngineConfig.builder()
                .type(EngineType.OPENAI)
                .model("test-model")
                .temperature(0.0)
                .maxTokens(16)
                .baseUrl(llm.baseUrl())
                .apiKeyEnv("KILN_TEST_LLM_KEY")
                .timeoutSeconds(2)
                .maxAttempts(2)
                .backoffMillis(10)
                .concurrency(4)
                .build())
        .output(output)
        .maxErrorRate(maxErrorRate)
        .build();
  }

  @Test
  void promptsAreStoredAsMlflowPromptsWithVersionsAndAliases() {
    Prompt first = prompts.register("greeting", "Say hello to {{text}}.");
    Prompt second = prompts.register("greeting", "Say hi to {{text}}!");
    assertThat(first.version()).isEqualTo("1");
    assertThat(second.version()).isEqualTo("2");
    prompts.setAlias("greeting", "champion", "1");
    assertThat(prompts.load(new PromptRef("greeting", null, "champion")).template().text())
        .isEqualTo("Say hello to {{text}}.");
    assertThat(tracking.modelVersion("greeting", "2").orElseThrow().tags())
        .containsEntry("mlflow.prompt.text", "Say hi to {{text}}!");
    assertThat(prompts.versions("greeting")).extracting(Prompt::version).containsExactly("1", "2");
    assertThatThrownBy(() -> prompts.load(new PromptRef("greeting", "7", null)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("prompt greeting has no version 7; it has versions 1, 2");
    assertThatThrownBy(() -> prompts.load(new PromptRef("greeting", null, "prod")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("has no alias 'prod'; its aliases are {champion=1}");
    assertThatThrownBy(() -> prompts.load(new PromptRef("nothing-here", "1", null)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("prompt nothing-here does not exist");

    // the listing holds prompts only: a registered model that is no prompt is left out
    tracking.registerModel("not-a-prompt-model", "runs:/x/model", null, Map.of());
    List<PromptRegistry.Listing> listed = prompts.list();
    assertThat(listed)
        .extracting(PromptRegistry.Listing::name)
        .doesNotContain("not-a-prompt-model");
    PromptRegistry.Listing greeting =
        listed.stream().filter(l -> l.name().equals("greeting")).findFirst().orElseThrow();
    assertThat(greeting.aliases()).containsExactly(Map.entry("champion", "1"));
    assertThat(greeting.versions()).extracting(Prompt::version).containsExactly("1", "2");
    assertThat(greeting.versions().get(0).digest())
        .isEqualTo("sha256:" + PromptTemplate.sha256("Say hello to {{text}}."))
        .isNotEqualTo(greeting.versions().get(1).digest());
  }

  @Test
  void aJobRedactsCompletesWritesOnceAndCountsItsErrors(SparkSession spark) throws Exception {
    Datasets datasets = new Datasets(spark);
    String input = dir.resolve("tickets").toString();
    datasets.write(
        tickets(
            spark,
            List.of(
                new Object[] {1L, "Hi, I am jane.doe@example.com, call me at +44 20 7946 0958."},
                new Object[] {
                  2L, "My card 4111 1111 1111 1111 was charged twice; order ORD-2026-123456."
                },
                new Object[] {3L, "Refund to   DE89 3704 0044 0532 0130 00 please [500]"},
                new Object[] {4L, "Login from 192.168.1.20 failed"},
                new Object[] {5L, null},
                new Object[] {6L, "Please answer [429x1] soon"},
                new Object[] {7L, "Hi, I am  jane.doe@example.com, call me at +44 20 7946 0958."})),
        input,
        WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("triage", "Classify this ticket: {{text}}");
    String output = dir.resolve("triage").toString();
    LlmJobConfig config = config(input, output, new PromptRef("triage", "1", null), 0.5);
    List<String> progress = new ArrayList<>();
    LlmJob job =
        new LlmJob(spark, prompts, Map.of("KILN_TEST_LLM_KEY", "sk-kiln-test"), progress::add);

    LlmRunResult result;
    try (TrackedRun run = tracking.startRun("llm-test", "triage", Map.of())) {
      result = job.run(config, run, dir.resolve("pipelines"));
    }
    assertThat(result.rows()).isEqualTo(7);
    assertThat(result.errors()).isEqualTo(2); // the [500] row and the null text
    // row 7 renders (cleaned, redacted) to row 1's prompt: one request for both
    assertThat(result.deduplicatedRows()).isEqualTo(1);
    assertThat(llm.prompts.stream().filter(p -> p.contains("<EMAIL_ADDRESS>, call me")).count())
        .isEqualTo(1);
    assertThat(result.tokensSaved())
        .isEqualTo(11 + 3); // row 1's prompt (11 words for the fake) and completion
    assertThat(result.tooManyErrors()).isFalse();
    // redaction counts are per row: rows 1 and 7 each had an address and a phone
    assertThat(result.redactions())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "EMAIL_ADDRESS",
                2L,
                "PHONE_NUMBER",
                2L,
                "CREDIT_CARD",
                1L,
                "IBAN_CODE",
                1L,
                "IP_ADDRESS",
                1L));
    assertThat(result.promptTokens()).isPositive();
    assertThat(result.completionTokens()).isEqualTo(12);
    assertThat(result.modelDigest()).startsWith("sha256:");

    // nothing personal reached the model; the whitespace was shrunk by the cleaning step
    assertThat(llm.prompts)
        .contains(
            "Classify this ticket: Hi, I am <EMAIL_ADDRESS>, call me at <PHONE_NUMBER>.",
            "Classify this ticket: Refund to <IBAN_CODE> please [500]");
    assertThat(String.join("\n", llm.prompts))
        .doesNotContain("jane.doe", "7946", "4111", "DE89", "192.168")
        .contains("ORD-2026-123456");
    assertThat(llm.authorizations).containsOnly("Bearer sk-kiln-test");

    Dataset<Row> rows = spark.read().format("delta").load(output).orderBy("id");
    assertThat(rows.columns())
        .containsExactly(
            "id",
            "prompt_name",
            "prompt_version",
            "model",
            "model_digest",
            "prompt_sha256",
            "completion",
            "prompt_tokens",
            "completion_tokens",
            "finish_reason",
            "latency_ms",
            "attempts",
            "error",
            "redactions",
            "completion_pii",
            "deduplicated",
            "cache_hit",
            "run_id",
            "job_key");
    List<Row> all = rows.collectAsList();
    Row first = all.get(0);
    assertThat(first.<String>getAs("completion")).startsWith("echo: ");
    assertThat(first.<String>getAs("prompt_sha256"))
        .isEqualTo(
            PromptTemplate.sha256(
                "Classify this ticket: Hi, I am <EMAIL_ADDRESS>, call me at <PHONE_NUMBER>."));
    assertThat(first.<String>getAs("prompt_version")).isEqualTo("1");
    assertThat(first.<String>getAs("finish_reason")).isEqualTo("stop");
    assertThat(first.<String>getAs("error")).isNull();
    assertThat(all.get(2).<String>getAs("error"))
        .isEqualTo("HTTP 500: overloaded (after 2 attempts)");
    assertThat(all.get(4).<String>getAs("error"))
        .isEqualTo("the text is null or blank: nothing to send");
    assertThat(all.get(4).<Integer>getAs("attempts")).isZero();
    assertThat(all.get(6).<String>getAs("completion")).isEqualTo(first.<String>getAs("completion"));
    assertThat(all.get(6).<String>getAs("prompt_sha256"))
        .isEqualTo(first.<String>getAs("prompt_sha256"));
    assertThat(all.get(5).<Integer>getAs("attempts")).isEqualTo(2);
    assertThat(all.get(5).<String>getAs("error")).isNull();

    // the same job again: nothing generated, nothing written
    int requests = llm.requests.get();
    long version = datasets.latestVersion(output);
    LlmRunResult again;
    try (TrackedRun run = tracking.startRun("llm-test", "triage again", Map.of())) {
      again = job.run(config, run, dir.resolve("pipelines"));
    }
    assertThat(again.alreadyWritten()).isTrue();
    assertThat(again.rows()).isEqualTo(7);
    assertThat(llm.requests.get()).isEqualTo(requests);
    assertThat(datasets.latestVersion(output)).isEqualTo(version);

    // a stricter limit on the same rows: the job reports it (the command exits 1)
    LlmJobConfig strict =
        config(input, dir.resolve("strict").toString(), new PromptRef("triage", "1", null), 0.1);
    try (TrackedRun run = tracking.startRun("llm-test", "strict", Map.of())) {
      assertThat(job.run(strict, run, dir.resolve("pipelines")).tooManyErrors()).isTrue();
    }

    // the saved pipeline loads back and runs the same stages
    PipelineModel loaded = PipelineModel.load(result.pipeline());
    assertThat(loaded.stages()).hasSize(6);
    LlmStage stage = (LlmStage) loaded.stages()[5];
    assertThat(stage.engineConfig()).isEqualTo(config.engine());
    Dataset<Row> again2 =
        loaded.transform(tickets(spark, List.<Object[]>of(new Object[] {9L, "mail a@b.io"})));
    Row row = again2.select("prompt", "redactions", "error").first();
    assertThat(row.getString(0)).isEqualTo("Classify this ticket: mail <EMAIL_ADDRESS>");
    assertThat(row.<String, Integer>getJavaMap(1)).containsEntry("EMAIL_ADDRESS", 1);
    assertThat(row.isNullAt(2)).isTrue();
  }

  @Test
  void everyCompletionIsValidatedAgainstTheJobsJsonSchemaAndInvalidOnesAreCounted(
      SparkSession spark) throws Exception {
    Datasets datasets = new Datasets(spark);
    String input = dir.resolve("json-in").toString();
    datasets.write(
        tickets(
            spark,
            List.of(
                new Object[] {1L, "{\"label\": \"spam\", \"score\": 0.9}"},
                new Object[] {2L, "{\"label\": \"ham\"}"},
                new Object[] {3L, "{\"label\": \"eggs\"}"},
                new Object[] {4L, "The mail is spam."},
                new Object[] {5L, "{\"label\": \"ham\", \"score\": 3}"},
                new Object[] {6L, "{\"score\": 0.5}"},
                new Object[] {7L, "{\"label\": \"spam\", \"score\": 0.9}"})),
        input,
        WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("json-triage", "[json]{{text}}");
    com.fasterxml.jackson.databind.JsonNode schema =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(
                "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                    + "\"score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1}},"
                    + "\"required\":[\"label\"],\"additionalProperties\":false}");
    String output = dir.resolve("json-out").toString();
    LlmJobConfig config =
        config(input, output, new PromptRef("json-triage", "1", null), 0.9).toBuilder()
            .jsonSchema(schema)
            .build();
    int before = llm.requests.get();
    LlmRunResult result;
    String runId;
    try (TrackedRun run = tracking.startRun("llm-test", "json", Map.of())) {
      runId = run.id();
      result = new LlmJob(spark, prompts, ENV, m -> {}).run(config, run, dir.resolve("pipelines"));
    }
    // rows 1 and 7 share a prompt: six requests, each asking for the schema
    assertThat(llm.requests.get() - before).isEqualTo(6);
    assertThat(
            llm.responseFormats.subList(llm.responseFormats.size() - 6, llm.responseFormats.size()))
        .allSatisfy(
            f ->
                assertThat(f)
                    .contains("\"type\":\"json_schema\"")
                    .contains("\"enum\":[\"spam\",\"ham\"]"));
    assertThat(result.rows()).isEqualTo(7);
    assertThat(result.invalidOutputs()).isEqualTo(4);
    assertThat(result.errors()).isEqualTo(4);
    assertThat(result.summary()).contains("4 completions not valid against the JSON schema");

    List<Row> rows = spark.read().format("delta").load(output).orderBy("id").collectAsList();
    assertThat(rows.get(0).<String>getAs("error")).isNull();
    assertThat(rows.get(1).<String>getAs("error")).isNull();
    assertThat(rows.get(6).<String>getAs("error")).isNull();
    assertThat(rows.get(2).<String>getAs("error"))
        .startsWith("invalid_output: /label: ")
        .contains("enumeration");
    assertThat(rows.get(3).<String>getAs("error")).startsWith("invalid_output: not JSON");
    assertThat(rows.get(4).<String>getAs("error")).startsWith("invalid_output: /score: ");
    assertThat(rows.get(5).<String>getAs("error"))
        .startsWith("invalid_output: /: ")
        .contains("label");
    // the invalid answer stays readable next to its error; its tokens were spent
    assertThat(rows.get(2).<String>getAs("completion")).isEqualTo("{\"label\": \"eggs\"}");
    assertThat(rows.get(2).<Integer>getAs("completion_tokens")).isEqualTo(3);

    com.fasterxml.jackson.databind.JsonNode metrics =
        new kiln.core.tracking.internal.RestClient(
                server.uri(), null, 2, Duration.ofMillis(10), m -> {})
            .get("runs/get", Map.of("run_id", runId))
            .path("run")
            .path("data")
            .path("metrics");
    Map<String, Double> byKey = new java.util.HashMap<>();
    metrics.forEach(m -> byKey.put(m.path("key").asText(), m.path("value").asDouble()));
    assertThat(byKey).containsEntry("invalid_output", 4.0).containsEntry("errors", 4.0);
    // the llm module logs no cost of its own: the run's cost (jobs) prices the tokens once
    assertThat(byKey).doesNotContainKeys("cost", "cost.tokens");
    assertThat(result.price()).isNull();
    assertThat(result.summary()).doesNotContain("cost");

    // another schema is another job: its rows are not taken for this one's
    LlmJobConfig other =
        config.toBuilder()
            .jsonSchema(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"type\":\"object\"}"))
            .build();
    assertThat(LlmJob.idempotencyKey(other, result.input(), result.prompt(), result.modelDigest()))
        .isNotEqualTo(
            LlmJob.idempotencyKey(config, result.input(), result.prompt(), result.modelDigest()));
  }

  @Test
  void badInputIsRefusedBeforeAnyToken(SparkSession spark) throws Exception {
    Datasets datasets = new Datasets(spark);
    String input = dir.resolve("bad-input").toString();
    datasets.write(
        tickets(spark, List.<Object[]>of(new Object[] {1L, "x"})),
        input,
        WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("two-vars", "{{subject}}: {{text}}");
    int before = llm.requests.get();
    LlmJob job = new LlmJob(spark, prompts, Map.of("KILN_TEST_LLM_KEY", "k"), m -> {});
    try (TrackedRun run = tracking.startRun("llm-test", "bad", Map.of())) {
      assertThatThrownBy(
              () ->
                  job.run(
                      config(
                          input,
                          dir.resolve("o1").toString(),
                          new PromptRef("two-vars", "1", null),
                          0),
                      run,
                      dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("{{subject}}");
      LlmJobConfig wrongColumn =
          LlmJobConfig.builder()
              .input(input)
              .key("id")
              .text("text_body")
              .prompt(new PromptRef("two-vars", "1", null))
              .engine(config(input, "/x", new PromptRef("x", "1", null), 0).engine())
              .output(dir.resolve("o2").toString())
              .build();
      assertThatThrownBy(() -> job.run(wrongColumn, run, dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("text_body");
      LlmJob noKey = new LlmJob(spark, prompts, Map.of(), m -> {});
      prompts.register("one-var", "{{text}}");
      assertThatThrownBy(
              () ->
                  noKey.run(
                      config(
                          input,
                          dir.resolve("o3").toString(),
                          new PromptRef("one-var", "1", null),
                          0),
                      run,
                      dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "environment variable KILN_TEST_LLM_KEY (engine.apiKeyEnv) is not set");
      LlmJob refused =
          new LlmJob(spark, prompts, Map.of("KILN_TEST_LLM_KEY", "sk-refused"), m -> {});
      assertThatThrownBy(
              () ->
                  refused.run(
                      config(
                          input,
                          dir.resolve("o5").toString(),
                          new PromptRef("one-var", "1", null),
                          0),
                      run,
                      dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("refused the API key in KILN_TEST_LLM_KEY (HTTP 401)")
          .hasMessageNotContaining("sk-refused");
      // the same from a key file: checked against the endpoint before any row
      java.nio.file.Path keyFile = dir.resolve("refused.key");
      java.nio.file.Files.writeString(keyFile, "sk-refused\n");
      EngineConfig e = config(input, "/x", new PromptRef("x", "1", null), 0).engine();
      EngineConfig fromFile =
          EngineConfig.builder()
              .type(e.type())
              .model(e.model())
              .temperature(e.temperature())
              .maxTokens(e.maxTokens())
              .seed(e.seed())
              .baseUrl(e.baseUrl())
              .timeoutSeconds(e.timeoutSeconds())
              .maxAttempts(e.maxAttempts())
              .backoffMillis(e.backoffMillis())
              .concurrency(e.concurrency())
              .apiKeyFile(keyFile.toString())
              .build();
      LlmJobConfig fileJob =
          LlmJobConfig.builder()
              .input(input)
              .key("id")
              .text("body")
              .prompt(new PromptRef("one-var", "1", null))
              .engine(fromFile)
              .output(dir.resolve("o6").toString())
              .build();
      assertThatThrownBy(() -> noKey.run(fileJob, run, dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "refused the API key in file " + keyFile + " (engine.apiKeyFile) (HTTP 401)")
          .hasMessageNotContaining("sk-refused");
      String taken = dir.resolve("taken").toString();
      datasets.write(
          tickets(spark, List.<Object[]>of(new Object[] {1L, "x"})),
          taken,
          WriteOptions.of(WriteMode.OVERWRITE));
      assertThatThrownBy(
              () ->
                  job.run(
                      config(input, taken, new PromptRef("one-var", "1", null), 0),
                      run,
                      dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "output table "
                  + taken
                  + " has other columns than this job writes: it has id bigint, body string;");
      assertThat(datasets.latestVersion(taken)).isZero();
    }
    assertThat(llm.requests.get()).isEqualTo(before);
  }

  @Test
  void aLocalGgufJobRecordsTheFilesDigestAndRefusesAFileThatIsNotGguf(SparkSession spark)
      throws Exception {
    System.setProperty("kiln.llm.ignoreEos", "true");
    Path model = dir.resolve("tiny.gguf");
    kiln.llm.internal.TinyGguf.write(model, 3);
    Datasets datasets = new Datasets(spark);
    String input = dir.resolve("local-input").toString();
    datasets.write(
        tickets(
            spark,
            List.of(
                new Object[] {1L, "is this spam"},
                new Object[] {2L, "hello ham"},
                new Object[] {3L, "ticket ".repeat(300)})),
        input,
        WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("local-prompt", "classify: {{text}}");
    EngineConfig engine =
        EngineConfig.builder()
            .type(EngineType.LOCAL)
            .temperature(0.0)
            .maxTokens(4)
            .seed(1L)
            .modelPath(model.toString())
            .contextSize(512)
            .slots(1)
            .build();
    LlmJobConfig config =
        LlmJobConfig.builder()
            .input(input)
            .key("id")
            .text("body")
            .prompt(new PromptRef("local-prompt", "1", null))
            .engine(engine)
            .output(dir.resolve("local-output").toString())
            .maxErrorRate(0.5)
            .deduplicate(false)
            // 3,600 per hour: the cost is the engine's seconds
            .price(new LlmPrice(null, null, 3600.0, null))
            .build();
    List<String> progress = new ArrayList<>();
    LlmJob job = new LlmJob(spark, prompts, Map.of(), progress::add);
    LlmRunResult result;
    String runId;
    try (TrackedRun run = tracking.startRun("llm-test", "local", Map.of())) {
      runId = run.id();
      result = job.run(config, run, dir.resolve("pipelines"));
    }
    // Spark NLP's AutoGGUFModel detected (absent here: JSL's binding is not served), and which
    // runtime ran recorded with the run
    assertThat(progress)
        .anySatisfy(
            m ->
                assertThat(m)
                    .startsWith("Spark NLP AutoGGUFModel absent (")
                    .endsWith(
                        "the local engine runs on kiln llama.cpp (de.kherud:llama 4.2.0)"
                            + " (engine.runtime auto)"));
    Map<String, String> params = new java.util.HashMap<>();
    new kiln.core.tracking.internal.RestClient(
            server.uri(), null, 2, Duration.ofMillis(10), m -> {})
        .get("runs/get", Map.of("run_id", runId))
        .path("run")
        .path("data")
        .path("params")
        .forEach(p -> params.put(p.path("key").asText(), p.path("value").asText()));
    assertThat(params)
        .containsEntry("gguf_runtime", "kiln llama.cpp (de.kherud:llama 4.2.0)")
        .containsEntry("price", "3600.0 USD per hour");
    assertThat(params.get("spark_nlp_auto_gguf")).startsWith("absent: ").contains("jsl-llamacpp");
    assertThat(result.rows()).isEqualTo(3);
    assertThat(result.errors()).isEqualTo(1); // the prompt longer than a slot's context
    assertThat(result.completionTokens()).isPositive();
    // one slot: the engine's time is the two answered rows' latencies (the refused one never ran)
    long latencies =
        spark
            .read()
            .format("delta")
            .load(config.output())
            .where("error is null")
            .agg(functions.sum("latency_ms"))
            .first()
            .getLong(0);
    assertThat(result.engineHours()).isEqualTo(latencies / 3_600_000.0);
    assertThat(result.engineHours()).isPositive();
    // priced where jobs are priced (JobCost: perHour x engine_hours), carried here for it
    assertThat(result.price()).isEqualTo(new LlmPrice(null, null, 3600.0, "USD"));
    String sha =
        "sha256:"
            + java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(java.nio.file.Files.readAllBytes(model)));
    assertThat(result.modelDigest()).isEqualTo(sha);
    List<Row> rows =
        spark.read().format("delta").load(config.output()).orderBy("id").collectAsList();
    assertThat(rows.get(0).<String>getAs("model")).isEqualTo("tiny.gguf");
    assertThat(rows.get(2).<String>getAs("error"))
        .contains("75% of a slot's context: 512 / 1 slots");

    Path notGguf = dir.resolve("weights.bin");
    java.nio.file.Files.writeString(notGguf, "not a model");
    LlmJobConfig wrong =
        LlmJobConfig.builder()
            .input(input)
            .key("id")
            .text("body")
            .prompt(new PromptRef("local-prompt", "1", null))
            .engine(
                EngineConfig.builder().type(EngineType.LOCAL).modelPath(notGguf.toString()).build())
            .output(dir.resolve("o4").toString())
            .build();
    try (TrackedRun run = tracking.startRun("llm-test", "not gguf", Map.of())) {
      assertThatThrownBy(() -> job.run(wrong, run, dir.resolve("p")))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("is not a GGUF file");
    }
  }

  private static LlmJobConfig config(
      String input,
      String output,
      PromptRef prompt,
      int maxTokens,
      String cache,
      Integer commitEvery,
      Boolean blockLeaks) {
    LlmJobConfig base = config(input, output, prompt, 0.5);
    EngineConfig e = base.engine();
    return LlmJobConfig.builder()
        .input(input)
        .key("id")
        .text("body")
        .prompt(prompt)
        .engine(
            EngineConfig.builder()
                .type(e.type())
                .model(e.model())
                .temperature(e.temperature())
                .maxTokens(maxTokens)
                .seed(e.seed())
                .baseUrl(e.baseUrl())
                .apiKeyEnv(e.apiKeyEnv())
                .timeoutSeconds(e.timeoutSeconds())
                .maxAttempts(e.maxAttempts())
                .backoffMillis(e.backoffMillis())
                .concurrency(e.concurrency())
                .build())
        .output(output)
        .maxErrorRate(0.5)
        .cache(cache)
        .commitEvery(commitEvery)
        .blockLeaks(blockLeaks)
        .build();
  }

  private static String tenTickets(SparkSession spark, String name) {
    String input = dir.resolve(name).toString();
    List<Object[]> rows = new ArrayList<>();
    for (long i = 1; i <= 10; i++) {
      // rows 9 and 10 repeat rows 1 and 2: eight distinct prompts
      rows.add(new Object[] {i, "ticket number " + (i > 8 ? i - 8 : i) + " about a refund"});
    }
    new Datasets(spark).write(tickets(spark, rows), input, WriteOptions.of(WriteMode.OVERWRITE));
    return input;
  }

  private static final Map<String, String> ENV = Map.of("KILN_TEST_LLM_KEY", "sk-kiln-test");

  @Test
  void aJobKilledHalfWayIsResumedAndOnlyTheMissingKeysReachTheEngine(SparkSession spark) {
    String input = tenTickets(spark, "resume-in");
    prompts.register("resume", "Summarize: {{text}}");
    String output = dir.resolve("resume-out").toString();
    LlmJobConfig config =
        config(input, output, new PromptRef("resume", "1", null), 16, null, 4, null);
    int before = llm.requests.get();
    // the job dies right after its first part is committed, as a killed driver would
    LlmJob killed =
        new LlmJob(
            spark,
            prompts,
            ENV,
            m -> {
              if (m.startsWith("committed part 1 of 3")) {
                throw new IllegalStateException("killed");
              }
            });
    try (TrackedRun run = tracking.startRun("llm-test", "killed", Map.of())) {
      assertThatThrownBy(() -> killed.run(config, run, dir.resolve("pipelines")))
          .hasMessage("killed");
    }
    List<Row> first = spark.read().format("delta").load(output).collectAsList();
    int firstRequests = llm.requests.get() - before;
    assertThat(first).hasSizeBetween(1, 9);
    // one request per distinct prompt of the committed part, none for the parts never reached
    long firstDistinct =
        first.stream().map(r -> r.<String>getAs("prompt_sha256")).distinct().count();
    assertThat(firstRequests).isEqualTo((int) firstDistinct);

    int middle = llm.requests.get();
    LlmRunResult resumed;
    try (TrackedRun run = tracking.startRun("llm-test", "resumed", Map.of())) {
      resumed = new LlmJob(spark, prompts, ENV, m -> {}).run(config, run, dir.resolve("pipelines"));
    }
    Dataset<Row> all = spark.read().format("delta").load(output);
    assertThat(all.count()).isEqualTo(10);
    assertThat(all.select("id").distinct().count()).isEqualTo(10);
    assertThat(resumed.rows()).isEqualTo(10);
    assertThat(resumed.resumedRows()).isEqualTo(first.size());
    assertThat(resumed.alreadyWritten()).isFalse();
    // the engine saw only the keys that were missing (their distinct prompts)
    long restDistinct =
        all.where(
                functions.not(
                    functions.col("id").isin(first.stream().map(r -> r.getAs("id")).toArray())))
            .select("prompt_sha256")
            .distinct()
            .count();
    assertThat(llm.requests.get() - middle).isEqualTo((int) restDistinct);

    int end = llm.requests.get();
    try (TrackedRun run = tracking.startRun("llm-test", "finished", Map.of())) {
      LlmRunResult again =
          new LlmJob(spark, prompts, ENV, m -> {}).run(config, run, dir.resolve("pipelines"));
      assertThat(again.alreadyWritten()).isTrue();
      assertThat(again.rows()).isEqualTo(10);
    }
    assertThat(llm.requests.get()).isEqualTo(end);
    assertThat(spark.read().format("delta").load(output).count()).isEqualTo(10);
  }

  @Test
  void identicalPromptsAreGeneratedOncePerJobAcrossItsPartsAndAResume(SparkSession spark) {
    String input = dir.resolve("dedup-in").toString();
    List<Object[]> rows = new ArrayList<>();
    for (long i = 1; i <= 10; i++) {
      // rows 8, 9 and 10 repeat rows 1, 2 and 3: seven distinct prompts
      rows.add(new Object[] {i, "order " + (i > 7 ? i - 7 : i) + " arrived broken"});
    }
    new Datasets(spark).write(tickets(spark, rows), input, WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("dedup", "Triage: {{text}}");
    String output = dir.resolve("dedup-out").toString();
    // four parts of about three rows: duplicates would fall in other parts if parts went by key
    LlmJobConfig config =
        config(input, output, new PromptRef("dedup", "1", null), 16, null, 3, null).toBuilder()
            .price(new LlmPrice(1.0, 2.0, null, "EUR"))
            .build();
    LlmJob killed =
        new LlmJob(
            spark,
            prompts,
            ENV,
            m -> {
              if (m.startsWith("committed part 2 of 4")) {
                throw new IllegalStateException("killed");
              }
            });
    try (TrackedRun run = tracking.startRun("llm-test", "dedup killed", Map.of())) {
      assertThatThrownBy(() -> killed.run(config, run, dir.resolve("pipelines")))
          .hasMessage("killed");
    }
    LlmRunResult resumed;
    String runId;
    try (TrackedRun run = tracking.startRun("llm-test", "dedup resumed", Map.of())) {
      runId = run.id();
      resumed = new LlmJob(spark, prompts, ENV, m -> {}).run(config, run, dir.resolve("pipelines"));
    }
    // the engine saw each distinct prompt once over both runs
    Map<String, Long> requests =
        llm.prompts.stream()
            .filter(p -> p.startsWith("Triage: order "))
            .collect(
                java.util.stream.Collectors.groupingBy(
                    p -> p, java.util.stream.Collectors.counting()));
    assertThat(requests).hasSize(7);
    assertThat(requests.values()).containsOnly(1L);

    Dataset<Row> out = spark.read().format("delta").load(output);
    assertThat(out.count()).isEqualTo(10);
    assertThat(out.where("deduplicated").count()).isEqualTo(3);
    // every row of a prompt carries the one completion generated for it
    assertThat(out.groupBy("prompt_sha256").agg(functions.countDistinct("completion")).count())
        .isEqualTo(7);
    assertThat(
            out.groupBy("prompt_sha256")
                .agg(functions.countDistinct("completion").as("n"))
                .where("n > 1")
                .count())
        .isZero();
    assertThat(out.where("id in (1, 8)").select("completion").distinct().count()).isEqualTo(1);
    assertThat(resumed.rows()).isEqualTo(10);
    assertThat(resumed.deduplicatedRows()).isEqualTo(3);
    // each shared row saved its prompt (5 words for the fake) and completion (3) tokens
    assertThat(resumed.tokensSaved()).isEqualTo(3 * (5 + 3));
    assertThat(resumed.promptTokens()).isEqualTo(7 * 5);
    assertThat(resumed.summary()).contains("3 rows shared a completion, 24 tokens saved");
    // the tokens spent (7 prompts of 5 and 3 tokens), which the run's cost prices at the job's
    // price (jobs' JobCost); the llm module logs no cost metric of its own
    assertThat(resumed.price()).isEqualTo(new LlmPrice(1.0, 2.0, null, "EUR"));
    assertThat(metrics(runId))
        .containsEntry("deduplicated_rows", 3.0)
        .containsEntry("tokens_saved_by_dedup", 24.0)
        .doesNotContainKey("cost");
  }

  /** A run's metrics as the tracking server holds them. */
  private static Map<String, Double> metrics(String runId) {
    Map<String, Double> byKey = new java.util.HashMap<>();
    new kiln.core.tracking.internal.RestClient(
            server.uri(), null, 2, Duration.ofMillis(10), m -> {})
        .get("runs/get", Map.of("run_id", runId))
        .path("run")
        .path("data")
        .path("metrics")
        .forEach(m -> byKey.put(m.path("key").asText(), m.path("value").asDouble()));
    return byKey;
  }

  @Test
  void aCacheTableAnswersTheSamePromptModelAndParametersAcrossRuns(SparkSession spark) {
    String input = tenTickets(spark, "cache-in");
    prompts.register("cached", "Label: {{text}}");
    PromptRef prompt = new PromptRef("cached", "1", null);
    String cache = dir.resolve("llm-cache").toString();
    LlmJob job = new LlmJob(spark, prompts, ENV, m -> {});
    int before = llm.requests.get();
    LlmRunResult first;
    try (TrackedRun run = tracking.startRun("llm-test", "cache 1", Map.of())) {
      first =
          job.run(
              config(input, dir.resolve("cache-out-1").toString(), prompt, 16, cache, null, null),
              run,
              dir.resolve("pipelines"));
    }
    assertThat(llm.requests.get() - before).isEqualTo(8);
    assertThat(first.cacheHits()).isZero();
    assertThat(first.deduplicatedRows()).isEqualTo(2);
    assertThat(spark.read().format("delta").load(cache).count()).isEqualTo(8);

    // another job, same prompt, model and parameters: no request at all
    int middle = llm.requests.get();
    LlmRunResult second;
    try (TrackedRun run = tracking.startRun("llm-test", "cache 2", Map.of())) {
      second =
          job.run(
              config(input, dir.resolve("cache-out-2").toString(), prompt, 16, cache, null, null),
              run,
              dir.resolve("pipelines"));
    }
    assertThat(llm.requests.get()).isEqualTo(middle);
    assertThat(second.cacheHits()).isEqualTo(8);
    assertThat(second.tokensSavedByCache())
        .isEqualTo(first.promptTokens() + first.completionTokens());
    assertThat(second.promptTokens()).isZero();
    assertThat(second.completionTokens()).isZero();
    Dataset<Row> out2 = spark.read().format("delta").load(dir.resolve("cache-out-2").toString());
    assertThat(out2.where("cache_hit").count()).isEqualTo(10);
    assertThat(out2.where("attempts = 0 and error is null").count()).isEqualTo(10);
    assertThat(
            out2.select("id", "completion")
                .except(
                    spark
                        .read()
                        .format("delta")
                        .load(dir.resolve("cache-out-1").toString())
                        .select("id", "completion"))
                .count())
        .isZero();
    // the cache learnt nothing new, so it is not appended to twice
    assertThat(spark.read().format("delta").load(cache).count()).isEqualTo(8);

    // other parameters are another key: the engine is asked again
    int third = llm.requests.get();
    try (TrackedRun run = tracking.startRun("llm-test", "cache 3", Map.of())) {
      LlmRunResult other =
          job.run(
              config(input, dir.resolve("cache-out-3").toString(), prompt, 17, cache, null, null),
              run,
              dir.resolve("pipelines"));
      assertThat(other.cacheHits()).isZero();
    }
    assertThat(llm.requests.get() - third).isEqualTo(8);
  }

  @Test
  void completionsPassTheDetectorAndLeaksAreCountedOrBlocked(SparkSession spark) {
    String input = dir.resolve("leak-in").toString();
    new Datasets(spark)
        .write(
            tickets(
                spark,
                List.of(
                    new Object[] {1L, "all fine here"},
                    new Object[] {2L, "please [leak]"},
                    new Object[] {3L, "mail x.y@example.io"})),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("leaky", "Answer: {{text}}");
    PromptRef prompt = new PromptRef("leaky", "1", null);
    LlmJob job = new LlmJob(spark, prompts, ENV, m -> {});
    LlmRunResult counted;
    try (TrackedRun run = tracking.startRun("llm-test", "leaks counted", Map.of())) {
      counted =
          job.run(
              config(input, dir.resolve("leak-out").toString(), prompt, 16, null, null, null),
              run,
              dir.resolve("pipelines"));
    }
    assertThat(counted.rowsWithLeaks()).isEqualTo(1);
    assertThat(counted.leaks())
        .containsExactlyInAnyOrderEntriesOf(Map.of("EMAIL_ADDRESS", 1L, "PHONE_NUMBER", 1L));
    assertThat(counted.errors()).isZero();
    List<Row> rows =
        spark
            .read()
            .format("delta")
            .load(dir.resolve("leak-out").toString())
            .orderBy("id")
            .collectAsList();
    assertThat(rows.get(1).<String, Integer>getJavaMap(rows.get(1).fieldIndex("completion_pii")))
        .containsExactlyInAnyOrderEntriesOf(Map.of("EMAIL_ADDRESS", 1, "PHONE_NUMBER", 1));
    // the redacted placeholder the model echoes is no leak
    assertThat(rows.get(2).<String>getAs("completion")).contains("<EMAIL_ADDRESS>");
    assertThat(rows.get(2).<String, Integer>getJavaMap(rows.get(2).fieldIndex("completion_pii")))
        .isEmpty();

    LlmRunResult blocked;
    try (TrackedRun run = tracking.startRun("llm-test", "leaks blocked", Map.of())) {
      blocked =
          job.run(
              config(input, dir.resolve("leak-blocked").toString(), prompt, 16, null, null, true),
              run,
              dir.resolve("pipelines"));
    }
    assertThat(blocked.errors()).isEqualTo(1);
    Row row =
        spark
            .read()
            .format("delta")
            .load(dir.resolve("leak-blocked").toString())
            .where("id = 2")
            .first();
    assertThat(row.<String>getAs("completion")).isNull();
    assertThat(row.<String>getAs("error"))
        .contains("the completion holds personal data")
        .contains("EMAIL_ADDRESS=1")
        .doesNotContain("leak.test", "7946");
  }

  @Test
  void anEndpointsErrorTextIsStoredWithoutTheKeyOrPersonalData(SparkSession spark) {
    String input = dir.resolve("echo-in").toString();
    new Datasets(spark)
        .write(
            tickets(
                spark,
                List.of(new Object[] {1L, "all fine here"}, new Object[] {2L, "please [echo]"})),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
    prompts.register("echoed", "Answer: {{text}}");
    LlmRunResult result;
    try (TrackedRun run = tracking.startRun("llm-test", "error text redacted", Map.of())) {
      result =
          new LlmJob(spark, prompts, ENV, m -> {})
              .run(
                  config(
                      input,
                      dir.resolve("echo-out").toString(),
                      new PromptRef("echoed", "1", null),
                      16,
                      null,
                      null,
                      null),
                  run,
                  dir.resolve("pipelines"));
    }
    assertThat(result.errors()).isEqualTo(1);
    // the endpoint did echo the key and the account's contact: what reaches the table is masked
    assertThat(llm.authorizations).contains("Bearer sk-kiln-test");
    Row row =
        spark
            .read()
            .format("delta")
            .load(dir.resolve("echo-out").toString())
            .where("id = 2")
            .first();
    assertThat(row.<String>getAs("error"))
        .isEqualTo(
            "HTTP 400: key Bearer *** of account owner <EMAIL_ADDRESS> (<PHONE_NUMBER>) may not"
                + " use this model")
        .doesNotContain("sk-kiln-test", "ops.lead", "7946");
  }
}
