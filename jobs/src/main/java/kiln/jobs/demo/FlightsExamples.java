package kiln.jobs.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import kiln.contracts.Contract;
import kiln.contracts.Contracts;
import kiln.core.Errors;
import kiln.core.YamlFiles;
import kiln.drift.DriftConfig;
import kiln.training.FeatureConfig;
import kiln.training.TrainConfig;

/**
 * The flights sample's contract, drift, feature and training configs, as {@code kiln demo} uses
 * them. The files live once, as the capabilities' examples ({@code
 * contracts/examples/flights.yaml}, {@code drift/examples/flights-drift.yaml}, {@code
 * training/examples/flights-features.yaml} and {@code flights-train.yaml}), and ship in the kiln
 * jar beside this class; the capabilities know no flights.
 */
public final class FlightsExamples {
  private static final String CONTRACT = "flights.yaml";
  private static final String DRIFT_CONFIG = "flights-drift.yaml";
  private static final String FEATURE_CONFIG = "flights-features.yaml";
  private static final String TRAIN_CONFIG = "flights-train.yaml";

  private FlightsExamples() {}

  /** The text of the flights contract (date, delay, distance, origin, destination). */
  public static String contractYaml() {
    return resource(CONTRACT);
  }

  public static Contract contract() {
    return Contracts.parse(contractYaml(), CONTRACT);
  }

  /**
   * The drift config of the flights sample: the date left out, distances deciding, delay's range.
   */
  public static DriftConfig driftConfig() {
    return YamlFiles.parse(resource(DRIFT_CONFIG), DRIFT_CONFIG, DriftConfig.class);
  }

  /**
   * The flights features (calendar, codes, airport and route statistics from January-March's train
   * rows).
   */
  public static FeatureConfig featureConfig() {
    return YamlFiles.parse(resource(FEATURE_CONFIG), FEATURE_CONFIG, FeatureConfig.class);
  }

  /** The classifier of delays over 15 minutes on those features, with per-airport metrics. */
  public static TrainConfig trainConfig() {
    return YamlFiles.parse(resource(TRAIN_CONFIG), TRAIN_CONFIG, TrainConfig.class);
  }

  private static String resource(String name) {
    try (InputStream in = FlightsExamples.class.getResourceAsStream(name)) {
      if (in == null) {
        throw Errors.environment(
            name + " is missing from the kiln jar, beside " + FlightsExamples.class.getName(),
            "rebuild the jar with `mvn package -pl jobs -am`");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name + " from the kiln jar", e);
    }
  }
}
