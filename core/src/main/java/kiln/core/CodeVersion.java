package kiln.core;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * The version of the code a run ran: the git commit of the checkout Kiln's classes were compiled in
 * ({@code -dirty} when it had uncommitted changes), or else the SHA-256 of the jar they were loaded
 * from; and Kiln's own version (the jar manifest's, {@code development} outside a jar).
 */
public record CodeVersion(String gitCommit, String jarSha256, String kilnVersion) {

  public CodeVersion {
    kilnVersion = kilnVersion == null || kilnVersion.isBlank() ? "development" : kilnVersion;
  }

  /** One line: {@code git:<commit>}, {@code jar-sha256:<digest>} or {@code unknown}. */
  public String describe() {
    if (gitCommit != null) {
      return "git:" + gitCommit;
    }
    return jarSha256 != null ? "jar-sha256:" + jarSha256 : "unknown";
  }

  /**
   * Hashing a shaded jar of several hundred MB takes a second or more: once per JVM, off the
   * caller's thread once {@link #prefetch} has started it.
   */
  private static final java.util.concurrent.CompletableFuture<CodeVersion> CURRENT =
      new java.util.concurrent.CompletableFuture<>();

  private static final java.util.concurrent.atomic.AtomicBoolean STARTED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Starts working out {@link #current} in the background (training calls it before its fit), so
   * that it is ready when a run asks.
   */
  public static void prefetch() {
    if (STARTED.compareAndSet(false, true)) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  // anchored on core: one jar in the shaded build, and the same jar for every
                  // module when the reactor runs them from their own jars
                  CURRENT.complete(of(CodeVersion.class));
                } catch (RuntimeException | Error e) {
                  CURRENT.complete(new CodeVersion(null, null, null));
                }
              },
              "kiln-code-version");
      thread.setDaemon(true);
      thread.start();
    }
  }

  /** Kiln's code version, computed once per JVM. */
  public static CodeVersion current() {
    prefetch();
    return CURRENT.join();
  }

  /** The code version of the jar or classes directory {@code anchor} was loaded from. */
  public static CodeVersion of(Class<?> anchor) {
    String kilnVersion =
        anchor.getPackage() == null ? null : anchor.getPackage().getImplementationVersion();
    Path location;
    try {
      location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      return new CodeVersion(null, null, kilnVersion);
    }
    if (Files.isRegularFile(location)) {
      return new CodeVersion(null, sha256(location), kilnVersion);
    }
    return new CodeVersion(gitCommit(location), null, kilnVersion);
  }

  static String gitCommit(Path directory) {
    try {
      String head = git(directory, "rev-parse", "HEAD");
      if (head == null || !head.matches("[0-9a-f]{40}")) {
        return null;
      }
      String changes = git(directory, "status", "--porcelain", "--untracked-files=no");
      return changes == null || changes.isEmpty() ? head : head + "-dirty";
    } catch (IOException e) {
      // no git on the machine: the code version is then unknown rather than the run failing
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static String git(Path directory, String... args)
      throws IOException, InterruptedException {
    String[] command = new String[args.length + 3];
    command[0] = "git";
    command[1] = "-C";
    command[2] = directory.toString();
    System.arraycopy(args, 0, command, 3, args.length);
    Process git = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(git.getInputStream().readAllBytes()).trim();
    if (!git.waitFor(10, TimeUnit.SECONDS)) {
      git.destroyForcibly();
      return null;
    }
    return git.exitValue() == 0 ? out : null;
  }

  /** The SHA-256 of a file, in lower-case hex. */
  public static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + file + " to hash it", e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
