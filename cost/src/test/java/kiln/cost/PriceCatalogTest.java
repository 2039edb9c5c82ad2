package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The price catalog: the repo's defaults pinned, every YAML key mapped, mistakes named with file
 * and line.
 */
class PriceCatalogTest {

  @Test
  void theBuiltInCatalogIsTheRepositorysPricesYaml() {
    PriceCatalog catalog = PriceCatalog.defaults();
    assertThat(catalog.version()).isEqualTo("2026-12-05");
    assertThat(catalog.currency()).isEqualTo("USD");
    assertThat(catalog.coreHour()).isEqualTo(0.031611);
    assertThat(catalog.gbHour()).isEqualTo(0.004237);
    assertThat(catalog.gpuHour()).containsOnlyKeys("A100", "H100", "H200", "L4", "T4");
    assertThat(catalog.gpuHour().get("T4")).isEqualTo(0.35);
    assertThat(catalog.gpuHour().get("L4")).isEqualTo(0.56);
    assertThat(catalog.gpuHour().get("A100")).isEqualTo(2.934);
    assertThat(catalog.gpuHour().get("H100")).isEqualTo(6.88);
    assertThat(catalog.gpuHour().get("H200")).isEqualTo(7.91);
    assertThat(catalog.gpuHour().get("a100"))
        .as("GPU types match case-insensitively")
        .isEqualTo(2.934);
    assertThat(catalog.storageGbMonth()).isEqualTo(0.023);
    assertThat(catalog.tokens().get("gpt-4o")).isEqualTo(new PriceCatalog.TokenPrice(0.0025, 0.01));
    assertThat(catalog.tokens().get("gpt-4o-mini"))
        .isEqualTo(new PriceCatalog.TokenPrice(0.00015, 0.0006));
    assertThat(catalog.localTokens())
        .as("a local model's hardware is priced per second, not per token")
        .isEqualTo(new PriceCatalog.TokenPrice(0.0, 0.0));
    assertThat(catalog.spotDiscount()).isEqualTo(0.6);
    assertThat(PriceCatalog.load(null)).isEqualTo(catalog);
  }

  @Test
  void yamlMapsEveryKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("prices.yaml");
    Files.writeString(
        file,
        """
        version: contract-7
        currency: EUR
        coreHour: 0.05
        gbHour: 0.01
        gpuHour: {a100: 3.0, MI300X: 4.5}
        storageGbMonth: 0.02
        tokens: {llama-3-8b: {prompt: 0.0001, completion: 0.0002}}
        localTokens: {prompt: 0.00001, completion: 0.00003}
        spotDiscount: 0.5
        """);
    PriceCatalog catalog = PriceCatalog.load(file);
    assertThat(catalog)
        .usingRecursiveComparison()
        .ignoringFields("gpuHour")
        .isEqualTo(
            new PriceCatalog(
                "contract-7",
                "EUR",
                0.05,
                0.01,
                null,
                0.02,
                java.util.Map.of("llama-3-8b", new PriceCatalog.TokenPrice(0.0001, 0.0002)),
                new PriceCatalog.TokenPrice(0.00001, 0.00003),
                0.5));
    assertThat(catalog.gpuHour())
        .containsEntry("A100", 3.0)
        .containsEntry("mi300x", 4.5)
        .hasSize(2);
  }

  @Test
  void negativeMissingAndUnknownPricesAreNamedWithTheFile(@TempDir Path dir) throws Exception {
    Path negative = dir.resolve("negative.yaml");
    Files.writeString(
        negative, "version: v\ncoreHour: -1\ngbHour: 0\nstorageGbMonth: 0\nspotDiscount: 0\n");
    assertThatThrownBy(() -> PriceCatalog.read(negative))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("negative.yaml")
        .hasMessageContaining("coreHour is -1.0");

    Path missing = dir.resolve("missing.yaml");
    Files.writeString(missing, "version: v\ncoreHour: 1\nstorageGbMonth: 0\nspotDiscount: 0\n");
    assertThatThrownBy(() -> PriceCatalog.read(missing))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("no gbHour");

    Path unknown = dir.resolve("unknown.yaml");
    Files.writeString(
        unknown,
        "version: v\ncoreHour: 1\ngbHour: 1\nstorageGbMonth: 0\nspotDiscount: 0\ncpuHour: 2\n");
    assertThatThrownBy(() -> PriceCatalog.read(unknown))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("unknown.yaml:6:")
        .hasMessageContaining("unknown key 'cpuHour'");

    Path gpu = dir.resolve("gpu.yaml");
    Files.writeString(
        gpu, "version: v\ncoreHour: 1\ngbHour: 1\nstorageGbMonth: 0\nspotDiscount: 1\n");
    assertThatThrownBy(() -> PriceCatalog.read(gpu))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("spotDiscount must be below 1");
  }
}
