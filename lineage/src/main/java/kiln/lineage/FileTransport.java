package kiln.lineage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Appends events as JSON lines to {@code WORKDIR/lineage/events.jsonl}: the default, and what
 * {@code kiln lineage} reads.
 */
public final class FileTransport implements Transport {
  public static final String FILE_NAME = "events.jsonl";
  private final Path file;
  private final Consumer<String> notices;

  public FileTransport(Path directory, Consumer<String> notices) {
    this.file = directory.resolve(FILE_NAME);
    this.notices = notices;
  }

  public Path file() {
    return file;
  }

  @Override
  public synchronized void emit(String event) {
    try {
      Files.createDirectories(file.getParent());
      // one write per line, so lines from two jobs sharing a work directory do not interleave
      Files.write(
          file,
          (event + "\n").getBytes(StandardCharsets.UTF_8),
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND,
          StandardOpenOption.WRITE);
    } catch (IOException | RuntimeException e) {
      notices.accept(
          "lineage: cannot append an event to "
              + file
              + " ("
              + e
              + "); the job goes on without it");
    }
  }
}
