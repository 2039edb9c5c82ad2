package kiln.training;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * The version of the code that trained a model: the git commit of a checkout, or the jar's SHA-256.
 */
final class CodeVersion {
  private CodeVersion() {}

  /**
   * Hashing a shaded jar of several hundred MB takes a second or more: once per JVM, off the
   * caller's thread.
   */
  private static final java.util.concurrent.CompletableFuture<String> CURRENT =
      new java.util.concurrent.CompletableFuture<>();

  private static final java.util.concurrent.atomic.AtomicBoolean STARTED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Starts working out {@link #current} in the background, so that it is ready when a training
   * asks.
   */
  static void prefetch() {
    if (STARTED.compareAndSet(false, true)) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  CURRENT.complete(compute());
                } catch (RuntimeException | Error e) {
                  CURRENT.complete("unknown");
                }
              },
              "kiln-code-version");
      thread.setDaemon(true);
      thread.start();
    }
  }

  static String current() {
    prefetch();
    return CURRENT.join();
  }

  private static String compute() {
    try {
      Path location =
          // core's jar, as lineage's triad hashes: one jar in the shaded build, the same one for
          // every module when the reactor runs them from their own jars
          Path.of(
              kiln.core.Datasets.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isRegularFile(location)) {
        return "jar-sha256:" + sha256(location);
      }
      String commit = gitCommit(location);
      return commit == null ? "unknown" : "git:" + commit;
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static String gitCommit(Path directory) throws IOException, InterruptedException {
    Process git =
        new ProcessBuilder("git", "-C", directory.toString(), "rev-parse", "HEAD")
            .redirectErrorStream(true)
            .start();
    String out = new String(git.getInputStream().readAllBytes()).trim();
    if (!git.waitFor(10, TimeUnit.SECONDS)) {
      git.destroyForcibly();
      return null;
    }
    if (git.exitValue() != 0 || !out.matches("[0-9a-f]{40}")) {
      return null;
    }
    Process status =
        new ProcessBuilder(
                "git", "-C", directory.toString(), "status", "--porcelain", "--untracked-files=no")
            .redirectErrorStream(true)
            .start();
    String changes = new String(status.getInputStream().readAllBytes()).trim();
    status.waitFor(10, TimeUnit.SECONDS);
    return changes.isEmpty() ? out : out + "-dirty";
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
