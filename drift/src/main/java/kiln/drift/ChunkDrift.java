package kiln.drift;

import java.util.List;
import java.util.Objects;

/**
 * One current chunk compared with the whole reference, column by column (histograms left out: the
 * whole-side comparison has them).
 *
 * @param chunk the chunk's key (a period's first day or month, or a zero-padded chunk number)
 * @param rows the chunk's rows
 * @param features the columns' verdicts and statistics for this chunk
 * @param driftedShare drifted features / compared features in this chunk
 * @param drifted the chunk's verdict, decided as the dataset verdict is
 */
public record ChunkDrift(
    String chunk, long rows, List<FeatureDrift> features, double driftedShare, boolean drifted) {
  public ChunkDrift {
    Objects.requireNonNull(chunk, "chunk is null");
    features = List.copyOf(features);
  }
}
