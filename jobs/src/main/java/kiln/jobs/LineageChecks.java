package kiln.jobs;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.KilnException;
import kiln.lineage.LineageGraph;

/**
 * Recorded table versions checked against what Delta can still read (core's guard, lineage's
 * records).
 */
final class LineageChecks {
  private LineageChecks() {}

  /** Each table version that can no longer be read, with why; readable ones are left out. */
  static Map<String, String> unreadable(Datasets datasets, List<LineageGraph.TableAt> tables) {
    Map<String, String> unreadable = new LinkedHashMap<>();
    for (LineageGraph.TableAt table : tables) {
      if (table.version() == null || unreadable.containsKey(table.toString())) {
        continue;
      }
      try {
        datasets
            .unreadable(DatasetRef.atVersion(table.location(), Long.parseLong(table.version())))
            .ifPresent(reason -> unreadable.put(table.toString(), reason));
      } catch (KilnException | NumberFormatException e) {
        // the storage is unreachable from here, or the event is not Kiln's: say so, do not guess
        unreadable.put(table.toString(), "cannot be checked: " + e.getMessage());
      }
    }
    return unreadable;
  }
}
