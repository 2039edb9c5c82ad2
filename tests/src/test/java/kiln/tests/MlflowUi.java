package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The MLflow UI as a browser shows it: Debian's headless Chromium loads a page of a real MLflow
 * server, lets its scripts run, and gives back the rendered page's text and a screenshot.
 */
final class MlflowUi {
  private MlflowUi() {}

  /** What a page showed: its visible text (scripts and styles left out) and its screenshot. */
  record Page(String text, Path screenshot) {}

  /** The page at URL once its scripts have fetched and rendered, and its screenshot at PNG. */
  static Page open(String url, Path png) throws Exception {
    String dom =
        chromium(url, png.getParent().resolve(png.getFileName() + ".profile-dom"), "--dump-dom");
    chromium(
        url,
        png.getParent().resolve(png.getFileName() + ".profile-png"),
        "--screenshot=" + png.toAbsolutePath());
    String text =
        dom.replaceAll("(?s)<script.*?</script>|<style.*?</style>", " ")
            .replaceAll("<[^>]+>", " ")
            .replace("&nbsp;", " ")
            .replaceAll("\\s+", " ");
    return new Page(text, png);
  }

  private static String chromium(String url, Path profile, String output) throws Exception {
    Path chromium = Path.of("/usr/bin/chromium");
    assertThat(chromium)
        .as(
            "Chromium is needed for the MLflow UI test; install it: apt-get install -y chromium fonts-dejavu-core")
        .isExecutable();
    Files.createDirectories(profile);
    List<String> command =
        new ArrayList<>(
            List.of(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                // the UI fetches runs and models after it loads: give its scripts time to finish
                "--virtual-time-budget=20000",
                // on a closed network Chromium would otherwise keep trying to reach Google
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile.toAbsolutePath(),
                output,
                url));
    Path err = Files.createTempFile("chromium", ".err");
    Process process = new ProcessBuilder(command).redirectError(err.toFile()).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(180, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("chromium did not finish " + url + " in 180 s");
    }
    assertThat(process.exitValue())
        .as("chromium " + output + ": " + Files.readString(err))
        .isZero();
    return out;
  }
}
