package kiln.jobs.demo;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import kiln.contracts.CheckRun;
import kiln.contracts.CheckSpec;
import kiln.contracts.Contract;
import kiln.contracts.ContractCheck;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The contracts step of {@code kiln demo}: the flights contract passes on the real data, then fails
 * on a deliberately damaged copy, whose breaking rows go to quarantine and the rest to a clean
 * table.
 */
public final class FlightsContractDemo {
  private FlightsContractDemo() {}

  /**
   * Both checks. {@code damagedTable} holds the damaged copy; its quarantine and clean tables sit
   * beside it.
   */
  public record Outcome(CheckRun real, String damagedTable, CheckRun damaged) {}

  /**
   * Checks {@code flights} (e.g. the demo's table at its latest version) against the flights
   * contract, then a damaged copy of it written to {@code workdir/tables/flights_damaged}. Reports
   * go to {@code workdir/contracts/real} and {@code workdir/contracts/damaged}; the contract file
   * is written to {@code workdir/contracts/flights.yaml}. Metrics go to {@code TABLE_metrics}.
   */
  public static Outcome run(
      SparkSession spark, DatasetRef flights, Path workdir, Consumer<String> progress) {
    Path reports = workdir.resolve("contracts");
    try {
      Files.createDirectories(reports);
      Files.writeString(reports.resolve("flights.yaml"), FlightsExamples.contractYaml());
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot write to " + reports + ": " + e.getMessage(), "choose a writable work directory");
    }
    Contract contract = FlightsExamples.contract();
    ContractCheck check = new ContractCheck(spark, progress);
    Datasets datasets = new Datasets(spark);

    progress.accept(
        "checking " + flights + " against contract " + contract.id() + " " + contract.version());
    CheckRun real =
        check.run(CheckSpec.of(contract, flights).withReportDirectory(reports.resolve("real")));

    String damagedTable = workdir.resolve("tables/flights_damaged").toAbsolutePath().toString();
    progress.accept("writing a damaged copy to " + damagedTable);
    DatasetRef damagedRef =
        datasets
            .write(
                damage(datasets.read(real.result().dataset())),
                damagedTable,
                WriteOptions.of(WriteMode.OVERWRITE))
            .written();
    progress.accept("checking the damaged copy " + damagedRef);
    CheckRun damaged =
        check.run(
            CheckSpec.of(contract, damagedRef)
                .withCleanOutput(damagedTable + "_clean")
                .withReportDirectory(reports.resolve("damaged")));
    return new Outcome(real, damagedTable, damaged);
  }

  /**
   * About one row in a hundred loses its delay, one has a lowercase origin, one a negative
   * distance, and one flies from its destination to itself; the rest are untouched. Deterministic:
   * the same rows every time.
   */
  public static Dataset<Row> damage(Dataset<Row> flights) {
    Column bucket =
        pmod(
            xxhash64(col("date"), col("origin"), col("destination"), col("delay"), col("distance")),
            lit(100));
    return flights
        .withColumn("__bucket", bucket)
        .withColumn(
            "delay",
            when(col("__bucket").equalTo(0), lit(null).cast("bigint")).otherwise(col("delay")))
        .withColumn(
            "origin",
            when(col("__bucket").equalTo(1), lower(col("origin"))).otherwise(col("origin")))
        .withColumn(
            "distance",
            when(col("__bucket").equalTo(2), col("distance").multiply(-1))
                .otherwise(col("distance")))
        .withColumn(
            "destination",
            when(col("__bucket").equalTo(3), col("origin")).otherwise(col("destination")))
        .drop("__bucket");
  }
}
