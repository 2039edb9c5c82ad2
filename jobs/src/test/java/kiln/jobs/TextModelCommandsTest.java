package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A text model through the same commands as a tabular one: {@code kiln train} with a text section
 * (Spark NLP embeddings of all-MiniLM-L6-v2, logistic regression), {@code kiln models gate} and
 * {@code kiln score} on raw text.
 */
@ExtendWith(SharedSpark.class)
class TextModelCommandsTest {
  static final String[] SPAM = {
    "Win a free cruise now, click here to claim your prize",
    "Cheap meds online without prescription, best prices",
    "Make money fast working from home, guaranteed income",
    "Lowest mortgage rates, refinance today and save thousands",
    "You have been selected for a cash reward, reply now",
  };
  static final String[] HAM = {
    "The meeting moved to Thursday afternoon, same room",
    "Can you review my patch for the build script before Friday?",
    "Lunch tomorrow with the team at the usual place?",
    "Attached are the minutes of yesterday's project call",
    "The nightly tests failed on the integration server again",
  };

  /** {@code rows} short mails, half spam; {@code offset} varies the wording between tables. */
  static void mail(SparkSession spark, String table, int rows, int offset) {
    StructType schema =
        new StructType()
            .add("message_id", DataTypes.LongType, false)
            .add("subject", DataTypes.StringType, true)
            .add("sender_domain_length", DataTypes.IntegerType, false)
            .add("is_spam", DataTypes.IntegerType, false);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      boolean spam = i % 2 == 0;
      String[] texts = spam ? SPAM : HAM;
      int n = i / 2 + offset;
      data.add(
          RowFactory.create(
              (long) (i + offset * 1000),
              texts[n % texts.length] + " #" + n,
              8 + i % 5,
              spam ? 1 : 0));
    }
    new Datasets(spark)
        .write(spark.createDataFrame(data, schema), table, WriteOptions.of(WriteMode.OVERWRITE));
  }

  private static KilnRun kiln(TrackingServer server, Path dir, String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--tracking-uri";
    all[args.length + 1] = server.uri().toString();
    all[args.length + 2] = "--workdir";
    all[args.length + 3] = dir.resolve("work").toString();
    return KilnRun.kiln(all);
  }

  @Test
  void aTextClassifierIsTrainedGatedAndScoresNewTextWithTheTabularCommands(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String mail = dir.resolve("mail").toString();
    mail(spark, mail, 60, 0);
    String later = dir.resolve("mail-later").toString();
    mail(spark, later, 10, 7);
    String config =
        "features: "
            + mail
            + "@0\nmodel: spam\nlabel: is_spam\nkey: message_id\nminGroupRows: 1\n"
            + "algorithm: logistic_regression\nhyperparameters: {regParam: 0.01}\n";
    Path trainConfig = dir.resolve("train.yaml");
    Files.writeString(trainConfig, config + "text: {columns: [subject], maxTokens: 64}\n");
    Path notText = dir.resolve("not-text.yaml");
    Files.writeString(notText, config + "text: {columns: [sender_domain_length]}\n");

    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start()) {
      KilnRun refused = kiln(server, dir, "train", "--config", notText.toString());
      assertThat(refused.exitCode()).isEqualTo(2);
      assertThat(refused.err())
          .contains("text column 'sender_domain_length' of " + mail + "@0 has type int, not string")
          .doesNotContain("\tat ");

      KilnRun trained = kiln(server, dir, "train", "--config", trainConfig.toString());
      assertThat(trained.exitCode()).as(trained.err()).isZero();
      assertThat(trained.out())
          .contains("Registered spam version 1 (device")
          .containsPattern("auc_roc (0\\.9\\d*|1\\.0000)");

      KilnRun gated =
          kiln(
              server,
              dir,
              "models",
              "gate",
              "--model",
              "models:/spam/1",
              "--min-auc-roc",
              "0.9",
              "--max-latency-ms",
              "600000",
              "--max-group-gap",
              "1");
      assertThat(gated.exitCode()).as(gated.err()).isZero();
      assertThat(gated.out())
          .contains("PASS min_auc_roc")
          .contains("Version 1 of spam is now champion (the first).");

      String predictions = dir.resolve("predictions").toString();
      KilnRun scored =
          kiln(
              server,
              dir,
              "score",
              "--model",
              "models:/spam@champion",
              "--input",
              later + "@0",
              "--output",
              predictions);
      assertThat(scored.exitCode()).as(scored.err()).isZero();
      assertThat(scored.out())
          .contains("Scored 10 rows of " + later + "@0 with spam version 1 into")
          .contains("0 error rows");
      List<Row> rows =
          new Datasets(spark)
              .read(DatasetRef.parse(predictions))
              .select("is_spam", "probability")
              .collectAsList();
      assertThat(rows).hasSize(10);
      // new wordings of the same kinds of mail: every spam scores above every ham
      double lowestSpam =
          rows.stream()
              .filter(r -> r.getInt(0) == 1)
              .mapToDouble(r -> r.getDouble(1))
              .min()
              .orElseThrow();
      double highestHam =
          rows.stream()
              .filter(r -> r.getInt(0) == 0)
              .mapToDouble(r -> r.getDouble(1))
              .max()
              .orElseThrow();
      assertThat(lowestSpam).isGreaterThan(highestHam);
    }
  }
}
