package kiln.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The feature and training configs the end-to-end tests run on a flights table: the flights example
 * config on the test's own tables, and a small training (ten rounds, depth 3) on its features.
 */
final class FlightsConfigs {
  private FlightsConfigs() {}

  /**
   * {@code training/examples/flights-features.yaml}, reading {@code flights@0}, writing {@code
   * features}.
   */
  static Path features(Path home, Path dir, String flights, String features) throws IOException {
    return Files.writeString(
        dir.resolve("features.yaml"),
        Files.readString(home.resolve("training/examples/flights-features.yaml"))
            .replaceFirst("(?m)^input: .*$", "input: " + flights + "@0")
            .replaceFirst("(?m)^output: .*$", "output: " + features));
  }

  /** A classifier 'delays' on {@code features@0}. */
  static Path training(Path dir, String features) throws IOException {
    return Files.writeString(
        dir.resolve("train.yaml"),
        "features: "
            + features
            + "@0\nmodel: delays\nnumRound: 10\nearlyStoppingRounds: 5\n"
            + "numWorkers: 1\nnthread: 1\ngroupColumns: [origin]\nminGroupRows: 10\ndevice: auto\nlabel: label\nkey: flight_id\n"
            + "featureColumns: [hour, day_of_week, month, distance, origin_index, destination_index, origin_flights,"
            + " origin_delay_rate, destination_flights, destination_delay_rate, route_flights, route_delay_rate,"
            + " route_mean_delay]\nhyperparameters:\n  max_depth: 3\n");
  }
}
