package kiln.core.tracking.internal;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import kiln.core.Errors;
import kiln.core.tracking.TrackingEvent;

/**
 * Keeps the events a job could not send in a spool file, one JSON event a line, with copies of
 * their artifact files beside it ({@code FILE.artifacts/}), for {@link SpoolReplay} to send later.
 */
public final class SpoolWriter {
  private static final String PREFIX = "tracking-";
  private static final String SUFFIX = ".jsonl";

  private final Path directory;
  private Path file;
  private int written;

  public SpoolWriter(Path directory) {
    this.directory = directory;
  }

  /** The spool file, once the first event was spooled. */
  public Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  /** How many events were spooled. */
  public int written() {
    return written;
  }

  /**
   * Opens a new spool file in the directory. The runs the server already created are bound first,
   * so that their later events find them when replayed.
   */
  public Path start(Map<String, Sender.RunIds> boundRuns) {
    if (file != null) {
      return file;
    }
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the tracking spool in " + directory, e);
    }
    file =
        directory.resolve(
            PREFIX
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + "-"
                + UUID.randomUUID().toString().substring(0, 8)
                + SUFFIX);
    boundRuns.forEach(
        (localId, ids) -> append(new TrackingEvent.Bind(localId, ids.runId(), ids.experimentId())));
    return file;
  }

  public void append(TrackingEvent event) {
    if (file == null) {
      throw new IllegalStateException("the spool is not started");
    }
    try {
      TrackingEvent stored = event;
      if (event instanceof TrackingEvent.Artifact artifact) {
        // the job's file may be temporary: the spool keeps its own copy
        Path copies = Path.of(file + ".artifacts");
        Files.createDirectories(copies);
        Path copy = copies.resolve(written + "-" + Path.of(artifact.file()).getFileName());
        Files.copy(Path.of(artifact.file()), copy);
        stored =
            new TrackingEvent.Artifact(
                artifact.localId(), copy.toString(), artifact.artifactPath());
      }
      try (BufferedWriter writer =
          Files.newBufferedWriter(
              file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        writer.write(RestClient.JSON.writerFor(TrackingEvent.class).writeValueAsString(stored));
        writer.newLine();
      }
      written++;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tracking spool " + file, e);
    }
  }

  /** The spool files in {@code directory}, oldest first; none when it does not exist. */
  public static List<Path> files(Path directory) {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(directory)) {
      // the names start with the time they were opened, so their order is the order of the jobs
      return entries
          .filter(Files::isRegularFile)
          .filter(
              p ->
                  p.getFileName().toString().startsWith(PREFIX)
                      && p.getFileName().toString().endsWith(SUFFIX))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw Errors.environment(
          "cannot list the tracking spool " + directory + ": " + e.getMessage(),
          "check that the directory is readable");
    }
  }
}
