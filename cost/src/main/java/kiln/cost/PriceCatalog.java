package kiln.cost;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/**
 * Unit prices of the resources a job uses: the repo's {@code cost/catalog/prices.yaml} (shipped in
 * the jar) unless a file overrides it. Validated like every Kiln config: unknown keys, missing
 * prices and negative prices are named with the file and line.
 *
 * @param version names the catalog in every cost record, so a cost can be re-derived
 * @param coreHour one vCPU for an hour
 * @param gbHour one GB of memory for an hour
 * @param gpuHour one GPU for an hour, by GPU model (A100, H100, ...), matched case-insensitively
 * @param storageGbMonth one GB stored for a month
 * @param tokens per model, per 1,000 prompt and completion tokens
 * @param localTokens per 1,000 tokens of a model Kiln runs itself (llm's {@code local} engine) and
 *     {@code tokens} does not list: 0 unless given, since the cores, memory and GPUs that ran it
 *     are priced by the second already
 * @param spotDiscount the fraction spot or preemptible capacity saves, in [0, 1)
 */
public record PriceCatalog(
    String version,
    String currency,
    Double coreHour,
    Double gbHour,
    Map<String, Double> gpuHour,
    Double storageGbMonth,
    Map<String, TokenPrice> tokens,
    TokenPrice localTokens,
    Double spotDiscount) {

  static final String RESOURCE = "kiln/cost/prices.yaml";
  private static final String FIX =
      "correct the price catalog (spark.kiln.cost.prices FILE, or cost/catalog/prices.yaml)";

  /** Per 1,000 tokens. */
  public record TokenPrice(Double prompt, Double completion) {
    public TokenPrice {
      price("tokens.prompt", prompt);
      price("tokens.completion", completion);
    }
  }

  public PriceCatalog {
    if (version == null || version.isBlank()) {
      throw Errors.badInput(
          "the price catalog has no version",
          "add version: \"YYYY-MM-DD\" (it is recorded with every cost)");
    }
    currency = currency == null ? "USD" : currency;
    price("coreHour", coreHour);
    price("gbHour", gbHour);
    price("storageGbMonth", storageGbMonth);
    price("spotDiscount", spotDiscount);
    if (spotDiscount >= 1) {
      throw Errors.badInput(
          "spotDiscount must be below 1 (a fraction saved), got " + spotDiscount, FIX);
    }
    Map<String, Double> gpus = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    if (gpuHour != null) {
      gpuHour.forEach((type, price) -> gpus.put(type, price("gpuHour." + type, price)));
    }
    gpuHour = java.util.Collections.unmodifiableMap(gpus);
    tokens = tokens == null ? Map.of() : Map.copyOf(tokens);
    localTokens = localTokens == null ? new TokenPrice(0.0, 0.0) : localTokens;
    tokens.forEach(
        (model, price) -> {
          if (price == null) {
            throw Errors.badInput(
                "tokens." + model + " has no prices",
                "give {prompt: P, completion: C} per 1,000 tokens");
          }
        });
  }

  private static double price(String key, Double value) {
    if (value == null) {
      throw Errors.badInput("the price catalog has no " + key, FIX + ": add " + key);
    }
    if (value < 0 || value.isNaN() || value.isInfinite()) {
      throw Errors.badInput(key + " is " + value + ": a price cannot be negative", FIX);
    }
    return value;
  }

  /** The catalog in the repo (cost/catalog/prices.yaml). */
  public static PriceCatalog defaults() {
    try (InputStream in = PriceCatalog.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw Errors.environment(
            "the built-in price catalog " + RESOURCE + " is not on the classpath",
            "rebuild Kiln (the cost module ships it), or set spark.kiln.cost.prices to a file");
      }
      return YamlFiles.parse(
          new String(in.readAllBytes(), StandardCharsets.UTF_8),
          "the built-in " + RESOURCE,
          PriceCatalog.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static PriceCatalog read(Path file) {
    return YamlFiles.read(file, PriceCatalog.class);
  }

  /** {@code file} when given, else the built-in catalog. */
  public static PriceCatalog load(Path file) {
    return file == null ? defaults() : read(file);
  }
}
