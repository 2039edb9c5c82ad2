package kiln.core.tracking.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import kiln.core.Errors;
import kiln.core.tracking.TrackingEvent;
import kiln.core.tracking.TrackingException;

/**
 * Sends a spool file's events in order. Progress is kept beside it ({@code FILE.sent}), so a replay
 * that stops half-way resumes where it stopped, and a replay of a file already sent sends nothing.
 */
public final class SpoolReplay {
  private SpoolReplay() {}

  /** Returns the number of events sent now; {@code notices} hears of every run created. */
  public static int replay(Path file, Sender sender, Consumer<String> notices) {
    if (!Files.isRegularFile(file)) {
      throw Errors.badInput(
          "spool file " + file + " does not exist",
          "give a file that a job spooled (it said where)");
    }
    Path progress = Path.of(file + ".sent");
    try {
      List<TrackingEvent> events = read(file);
      int done = Files.exists(progress) ? Integer.parseInt(Files.readString(progress).trim()) : 0;
      // ids are bound again even for events already sent, so later events find their runs
      for (int i = 0; i < done && i < events.size(); i++) {
        if (events.get(i) instanceof TrackingEvent.Bind) {
          sender.send(events.get(i));
        }
      }
      List<String> created = new ArrayList<>();
      int sent = 0;
      for (int i = done; i < events.size(); i++) {
        try {
          sender.send(events.get(i));
        } catch (TrackingException e) {
          throw Errors.environment(
              "replay stopped at event " + (i + 1) + " of " + events.size() + ": " + e.getMessage(),
              "fix the cause and run the replay again; it resumes at event " + (i + 1));
        }
        if (events.get(i) instanceof TrackingEvent.CreateRun create) {
          created.add(sender.ids(create.localId()).runId());
        }
        sent++;
        Files.writeString(progress, String.valueOf(i + 1));
      }
      created.forEach(run -> notices.accept("created run " + run));
      return sent;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<TrackingEvent> read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    List<TrackingEvent> events = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      try {
        events.add(RestClient.JSON.readValue(lines.get(i), TrackingEvent.class));
      } catch (IOException e) {
        throw Errors.badInput(
            file
                + ":"
                + (i + 1)
                + ": not a tracking event: "
                + e.getMessage().lines().findFirst().orElse(""),
            "give a spool file written by Kiln, unchanged");
      }
    }
    return events;
  }
}
