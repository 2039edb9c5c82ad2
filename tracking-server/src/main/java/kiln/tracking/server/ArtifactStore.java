package kiln.tracking.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.mlflow.api.proto.MlflowArtifacts.FileInfo;

/**
 * The artifact directory tree served by the mlflow-artifacts API; no path ever resolves outside the
 * root.
 */
final class ArtifactStore {
  private final Path root;

  ArtifactStore(Path root) throws IOException {
    Files.createDirectories(root);
    this.root = root.toRealPath();
  }

  Path root() {
    return root;
  }

  /**
   * Resolves a checked relative path and makes sure that no existing symbolic link leads out of the
   * root.
   */
  Path resolve(String relativePath) {
    String safe = SafePaths.relative(relativePath);
    Path target = root.resolve(safe).normalize();
    if (!target.startsWith(root)) {
      throw ApiException.invalidParameter(
          "Invalid path: '" + Validation.abbreviate(relativePath) + "'.");
    }
    Path existing = target;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    try {
      if (existing != null && !existing.toRealPath().startsWith(root)) {
        throw ApiException.invalidParameter(
            "Invalid path: '"
                + Validation.abbreviate(relativePath)
                + "' leads out of the artifact root.");
      }
    } catch (IOException e) {
      throw ApiException.invalidParameter(
          "Invalid path: '" + Validation.abbreviate(relativePath) + "'.");
    }
    return target;
  }

  /**
   * Streams the body into a temporary file beside the target and moves it into place only when
   * complete.
   */
  void put(String relativePath, InputStream body, long maxBytes) throws IOException {
    Path target = resolve(relativePath);
    if (target.equals(root) || Files.isDirectory(target)) {
      throw ApiException.invalidParameter(
          "Cannot upload to '" + relativePath + "': it is a directory.");
    }
    List<Path> created = createParents(target.getParent());
    Path temporary =
        target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".upload");
    boolean done = false;
    try {
      try (OutputStream out = Files.newOutputStream(temporary)) {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = body.read(buffer)) >= 0) {
          total += read;
          if (total > maxBytes) {
            throw new ApiException(
                ApiError.REQUEST_TOO_LARGE,
                "The artifact is larger than the limit of " + maxBytes + " bytes.");
          }
          out.write(buffer, 0, read);
        }
      }
      try {
        Files.move(
            temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
      }
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(temporary);
        for (int i = created.size() - 1; i >= 0; i--) {
          deleteIfEmpty(created.get(i));
        }
      }
    }
  }

  private List<Path> createParents(Path directory) throws IOException {
    List<Path> missing = new ArrayList<>();
    for (Path current = directory;
        current != null && !Files.exists(current);
        current = current.getParent()) {
      missing.add(0, current);
    }
    for (Path path : missing) {
      if (Files.exists(path) && !Files.isDirectory(path)) {
        throw ApiException.invalidParameter(
            "Cannot create directory '" + root.relativize(path) + "': a file has that name.");
      }
      Files.createDirectories(path);
    }
    if (!Files.isDirectory(directory)) {
      throw ApiException.invalidParameter(
          "Cannot upload under '" + root.relativize(directory) + "': it is a file.");
    }
    return missing;
  }

  private static void deleteIfEmpty(Path directory) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      if (!entries.iterator().hasNext()) {
        Files.delete(directory);
      }
    } catch (IOException e) {
      // a concurrent upload may have filled it; leaving an empty directory is harmless
    }
  }

  Path file(String relativePath) {
    Path target = resolve(relativePath);
    if (!Files.isRegularFile(target)) {
      throw ApiException.notFound(
          Files.isDirectory(target)
              ? "'"
                  + relativePath
                  + "' is a directory; list it with GET /api/2.0/mlflow-artifacts/artifacts?path=..."
              : "Artifact '" + relativePath + "' does not exist.");
    }
    return target;
  }

  /** Deleting what is not there succeeds, as in MLflow, so that a client's retry does no harm. */
  void delete(String relativePath) throws IOException {
    Path target = resolve(relativePath);
    if (target.equals(root)) {
      throw ApiException.invalidParameter(
          "Refusing to delete the artifact root; name a path below it.");
    }
    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        target,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path directory, IOException error)
              throws IOException {
            if (error != null) {
              throw error;
            }
            Files.delete(directory);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  List<FileInfo> list(String relativePath) throws IOException {
    Path directory = relativePath == null || relativePath.isEmpty() ? root : resolve(relativePath);
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    List<FileInfo> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.startsWith(".") && name.endsWith(".upload")) {
          continue;
        }
        FileInfo.Builder info =
            FileInfo.newBuilder().setPath(name).setIsDir(Files.isDirectory(entry));
        if (!info.getIsDir()) {
          info.setFileSize(Files.size(entry));
        }
        files.add(info.build());
      }
    }
    files.sort(Comparator.comparing(FileInfo::getPath));
    return files;
  }
}
