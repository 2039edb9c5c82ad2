package kiln.drift;

import java.util.Objects;

/**
 * One chunk's value of a monitored quantity (a reconstruction error, an estimated metric).
 *
 * @param chunk the chunk's key (a period's first day or a zero-padded chunk number)
 * @param rows the chunk's rows
 * @param value the chunk's value
 * @param samplingError the standard error of the value from the chunk's size (NaN when unknown)
 * @param realized the value measured with labels (NaN when no labels)
 * @param alert the value left the band of the reference chunks
 */
public record ChunkValue(
    String chunk, long rows, double value, double samplingError, double realized, boolean alert) {
  public ChunkValue {
    Objects.requireNonNull(chunk, "chunk is null");
  }
}
