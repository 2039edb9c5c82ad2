package kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.cost.PriceCatalog;

/**
 * The cost of CPU runs on the gpu profile, estimated: composes {@code kiln gpu check}'s coverage
 * (module gpu) with the cost table (module cost), which know nothing of each other.
 */
final class GpuEstimates {
  /**
   * The speed-up of the GPU-eligible share assumed unless given: RAPIDS on TPC-DS, as
   * GPU-SPEEDUP.md cites it (not measured here: no GPU).
   */
  static final double DEFAULT_SPEEDUP = 1.06;

  static final String DEFAULT_SOURCE =
      "RAPIDS on TPC-DS as GPU-SPEEDUP.md cites it, not measured here";

  /** The cheapest GPU the catalog prices and the one RAPIDS' own sizing examples start from. */
  static final String DEFAULT_GPU_TYPE = "T4";

  static final int DEFAULT_CORES_PER_GPU = 8;

  private GpuEstimates() {}

  /**
   * Each job's GPU-eligible share from a file {@code kiln gpu check --json} wrote: {@code
   * jobs[].job} and {@code jobs[].coverage}.
   */
  static Map<String, Double> coverage(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (java.nio.file.NoSuchFileException e) {
      throw Errors.notFound(
          "--gpu-coverage " + file + " does not exist",
          "write it with `kiln gpu check --json > " + file + "`");
    } catch (IOException e) {
      throw Errors.badInput(
          "--gpu-coverage " + file + " is not JSON: " + e.getMessage(),
          "give the output of `kiln gpu check --json`");
    }
    JsonNode jobs = root == null ? null : root.get("jobs");
    Map<String, Double> coverage = new LinkedHashMap<>();
    if (jobs != null && jobs.isArray()) {
      for (JsonNode job : jobs) {
        JsonNode name = job.get("job");
        JsonNode share = job.get("coverage");
        if (name != null && name.isTextual() && share != null && share.isNumber()) {
          coverage.put(name.asText(), share.asDouble());
        }
      }
    }
    if (coverage.isEmpty()) {
      throw Errors.badInput(
          "--gpu-coverage " + file + " has no jobs[].job and jobs[].coverage figures",
          "give the output of `kiln gpu check --json`");
    }
    return coverage;
  }

  /** The price catalog the jobs' runs were priced with (the settings' spark.kiln.cost.prices). */
  static PriceCatalog catalog(KilnSettings settings) {
    String prices =
        settings.spark() == null || settings.spark().conf() == null
            ? null
            : settings.spark().conf().get(JobCost.PRICES);
    return PriceCatalog.load(prices == null ? null : Path.of(prices));
  }
}
