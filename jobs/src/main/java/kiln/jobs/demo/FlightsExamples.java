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

/**
 * The flights sample's contract and drift config, as {@code kiln demo} uses them. The files live once, as
 * the capabilities' examples ({@code contracts/examples/flights.yaml}, {@code drift/examples/flights-drift.yaml}),
 * and ship in the kiln jar beside this class; the capabilities themselves know no flights.
 */
public final class FlightsExamples {
  private static final String CONTRACT = "flights.yaml";
  private static final String DRIFT_CONFIG = "flights-drift.yaml";

  private FlightsExamples() {}

  /** The text of the flights contract (date, delay, distance, origin, destination). */
  public static String contractYaml() {
    return resource(CONTRACT);
  }

  public static Contract contract() {
    return Contracts.parse(contractYaml(), CONTRACT);
  }

  /** The drift config of the flights sample: the date left out, distances deciding, delay's range. */
  public static DriftConfig driftConfig() {
    return YamlFiles.parse(resource(DRIFT_CONFIG), DRIFT_CONFIG, DriftConfig.class);
  }

  private static String resource(String name) {
    try (InputStream in = FlightsExamples.class.getResourceAsStream(name)) {
      if (in == null) {
        throw Errors.environment(name + " is missing from the kiln jar, beside " + FlightsExamples.class.getName(),
            "rebuild the jar with `mvn package -pl jobs -am`");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name + " from the kiln jar", e);
    }
  }
}
