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
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln pii redact}'s job on real Spark, Spark NLP, Delta and Kiln's tracking server: two
 * text columns of a ten-row table redacted with three operators, counted, written once.
 */
@ExtendWith(SharedSpark.class)
class PiiJobTest {
  static TrackingServer server;
  static MlflowTracking tracking;
  @TempDir static Path dir;

  /** The salt the surefire configuration exports to this JVM (executors read it from there). */
  static final Map<String, String> ENV = Map.of("KILN_TEST_PII_SALT", "kiln-test-salt");

  @BeforeAll
  static void start() throws Exception {
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
  }

  @AfterAll
  static void stop() {
    tracking.close();
    server.close();
  }

  static String emails(SparkSession spark) {
    String input = dir.resolve("emails").toString();
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("subject", DataTypes.StringType)
            .add("body", DataTypes.StringType);
    List<Row> rows =
        List.of(
            RowFactory.create(1, "Refund", "Card 4111 1111 1111 1111 was charged twice."),
            RowFactory.create(
                2, "From jane.doe@example.com", "Reply to jane.doe@example.com  please."),
            RowFactory.create(3, "SSN", "My SSN is 078-05-1121; 000-12-3456 is not one."),
            RowFactory.create(4, null, "Call (212) 736-4512 or +44 20 7946 0958."),
            RowFactory.create(5, "Link", "See https://shop.example.org/track?id=7&u=k."),
            RowFactory.create(6, "Nothing", "Order ORD-2026-123456 on 2026-12-05."),
            RowFactory.create(7, "IBAN", "DE89 3704 0044 0532 0130 00"),
            RowFactory.create(8, "IP", "Login from 192.168.1.20"),
            RowFactory.create(9, "", null),
            RowFactory.create(10, "Bob", "Write bob@corp-x.io"));
    new Datasets(spark)
        .write(
            spark.createDataFrame(rows, schema).repartition(2),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
    return input;
  }

  static PiiConfig operators() {
    return new PiiConfig(
        null,
        Map.of(
            PiiEntity.CREDIT_CARD,
            new PiiOperator(PiiOperator.Type.MASK, 4, null, null),
            PiiEntity.EMAIL_ADDRESS,
            new PiiOperator(PiiOperator.Type.HASH, null, null, "KILN_TEST_PII_SALT")),
        null);
  }

  @Test
  void textColumnsAreRedactedIntoTheOutputWithCountsAndWrittenOnce(SparkSession spark) {
    String input = emails(spark);
    String output = dir.resolve("emails-redacted").toString();
    PiiJobConfig config = new PiiJobConfig(input, List.of("subject", "body"), output, operators());
    List<String> progress = new ArrayList<>();
    PiiJob job = new PiiJob(spark, ENV, progress::add);
    PiiRunResult result;
    try (TrackedRun run = tracking.startRun("pii-test", "redact", Map.of())) {
      result = job.run(config, run);
    }
    assertThat(result.rows()).isEqualTo(10);
    assertThat(result.rowsWithPii()).isEqualTo(8);
    assertThat(result.alreadyWritten()).isFalse();
    assertThat(result.redactions())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "CREDIT_CARD", 1L,
                "EMAIL_ADDRESS", 3L,
                "US_SSN", 1L,
                "PHONE_NUMBER", 2L,
                "URL", 1L,
                "IBAN_CODE", 1L,
                "IP_ADDRESS", 1L));

    List<Row> rows = spark.read().format("delta").load(output).orderBy("id").collectAsList();
    assertThat(spark.read().format("delta").load(output).columns())
        .containsExactly("id", "subject", "body", "redactions", "run_id", "job_key");
    assertThat(rows.get(0).<String>getAs("body"))
        .isEqualTo("Card **** **** **** 1111 was charged twice.");
    String subject = rows.get(1).getAs("subject");
    String body = rows.get(1).getAs("body");
    assertThat(subject).matches("From <EMAIL_ADDRESS:[0-9a-f]{16}>");
    // the same address, the same pseudonym, in both columns; the double space is kept
    assertThat(body).isEqualTo("Reply to " + subject.substring(5) + "  please.");
    assertThat(
            rows.get(1)
                .<scala.collection.Map<String, Integer>>getAs("redactions")
                .apply("EMAIL_ADDRESS"))
        .isEqualTo(2);
    assertThat(rows.get(2).<String>getAs("body"))
        .isEqualTo("My SSN is <US_SSN>; 000-12-3456 is not one.");
    assertThat(rows.get(3).<String>getAs("subject")).isNull();
    assertThat(rows.get(3).<String>getAs("body"))
        .isEqualTo("Call <PHONE_NUMBER> or <PHONE_NUMBER>.");
    assertThat(rows.get(4).<String>getAs("body")).isEqualTo("See <URL>.");
    assertThat(rows.get(5).<String>getAs("body")).isEqualTo("Order ORD-2026-123456 on 2026-12-05.");
    assertThat(rows.get(8).<String>getAs("subject")).isEmpty();
    assertThat(rows.get(8).<String>getAs("body")).isNull();
    String everything = rows.toString();
    assertThat(everything)
        .doesNotContain(
            "jane.doe",
            "4111 1111",
            "078-05",
            "736-4512",
            "shop.example",
            "DE89",
            "192.168",
            "bob@");

    // the same job again: nothing redacted, nothing written
    Datasets datasets = new Datasets(spark);
    long version = datasets.latestVersion(output);
    try (TrackedRun run = tracking.startRun("pii-test", "again", Map.of())) {
      PiiRunResult again = job.run(config, run);
      assertThat(again.alreadyWritten()).isTrue();
      assertThat(again.redactions()).isEqualTo(result.redactions());
    }
    assertThat(datasets.latestVersion(output)).isEqualTo(version);
  }

  @Test
  void badInputIsRefusedBeforeAnythingIsWritten(SparkSession spark) {
    String input = emails(spark);
    String output = dir.resolve("never").toString();
    PiiJob job = new PiiJob(spark, ENV, m -> {});
    try (TrackedRun run = tracking.startRun("pii-test", "bad", Map.of())) {
      assertThatThrownBy(
              () -> job.run(new PiiJobConfig(input, List.of("body", "sender"), output, null), run))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("sender");
      assertThatThrownBy(() -> job.run(new PiiJobConfig(input, List.of("id"), output, null), run))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("column id of")
          .hasMessageContaining("is int, not a string");
      PiiJob noSalt = new PiiJob(spark, Map.of(), m -> {});
      assertThatThrownBy(
              () -> noSalt.run(new PiiJobConfig(input, List.of("body"), output, operators()), run))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "environment variable KILN_TEST_PII_SALT (the hash operator's saltEnv) is not set");
    }
    assertThat(new Datasets(spark).exists(output)).isFalse();
    assertThatThrownBy(() -> new PiiJobConfig(input, List.of("body"), input, null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("is the input table");
  }
}
