package kiln.drift.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.datasketches.ArrayOfStringsSerDe;
import org.apache.datasketches.frequencies.ErrorType;
import org.apache.datasketches.frequencies.ItemsSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The mergeable state of a categorical column: exact counts per category while there are at most
 * {@code exactLimit} of them, then a frequent-items sketch (bounded memory; counts then carry the
 * sketch's maximum error).
 */
public final class CategoricalProfile implements ColumnProfile {
  /** Map size of the frequent-items sketch (a power of two): about 6,000 tracked categories. */
  static final int SKETCH_MAP_SIZE = 8192;

  private final int exactLimit;
  long rows;
  long nulls;
  private StringCounts counts = new StringCounts();
  private ItemsSketch<String> sketch;

  public CategoricalProfile(int exactLimit) {
    this.exactLimit = exactLimit;
  }

  @Override
  public void addNull() {
    rows++;
    nulls++;
  }

  /** Counts a value; {@code value} may be a reused buffer, it is copied when first seen. */
  public void add(UTF8String value) {
    rows++;
    if (counts != null) {
      counts.add(value, 1);
      if (counts.size() > exactLimit) {
        spill();
      }
    } else {
      sketch.update(value.toString());
    }
  }

  public void add(String value) {
    add(UTF8String.fromString(value));
  }

  /**
   * A profile from counts made elsewhere ({@link GpuProfiler}): {@code rows} and {@code nulls},
   * then the values by {@link #addCount}.
   */
  static CategoricalProfile ofCounts(int exactLimit, long rows, long nulls) {
    CategoricalProfile profile = new CategoricalProfile(exactLimit);
    profile.rows = rows;
    profile.nulls = nulls;
    return profile;
  }

  /** Adds {@code count} occurrences of {@code value} without counting rows (they are known). */
  void addCount(String value, long count) {
    if (counts != null) {
      counts.add(UTF8String.fromString(value), count);
      if (counts.size() > exactLimit) {
        spill();
      }
    } else {
      sketch.update(value, count);
    }
  }

  @Override
  public void merge(ColumnProfile column) {
    CategoricalProfile other = (CategoricalProfile) column;
    rows += other.rows;
    nulls += other.nulls;
    if (counts != null && other.counts != null) {
      counts.addAll(other.counts);
      if (counts.size() > exactLimit) {
        spill();
      }
      return;
    }
    if (counts != null) {
      spill();
    }
    if (other.counts != null) {
      other.counts.forEachByCountDescending(
          (value, count) -> sketch.update(value.toString(), count));
    } else {
      sketch.merge(other.sketch);
    }
  }

  /**
   * Moves the counts to a sketch, in an order that does not depend on the hash table (see
   * StringCounts).
   */
  private void spill() {
    sketch = new ItemsSketch<>(SKETCH_MAP_SIZE);
    counts.forEachByCountDescending((value, count) -> sketch.update(value.toString(), count));
    counts = null;
  }

  @Override
  public long rows() {
    return rows;
  }

  @Override
  public long nulls() {
    return nulls;
  }

  public long nonNull() {
    return rows - nulls;
  }

  public boolean exact() {
    return counts != null;
  }

  /** The largest error of any count (0 when exact). */
  public long maximumCountError() {
    return counts != null ? 0 : sketch.getMaximumError();
  }

  /**
   * Counts per category: all of them when exact, the sketch's frequent items (estimates) otherwise.
   */
  public Map<String, Long> categoryCounts() {
    Map<String, Long> result = new LinkedHashMap<>();
    if (counts != null) {
      counts.forEach((value, count) -> result.put(value.toString(), count));
    } else {
      for (ItemsSketch.Row<String> row : sketch.getFrequentItems(ErrorType.NO_FALSE_NEGATIVES)) {
        result.put(row.getItem(), row.getEstimate());
      }
    }
    return result;
  }

  @Override
  public void write(DataOutputStream out) throws IOException {
    out.writeInt(exactLimit);
    out.writeLong(rows);
    out.writeLong(nulls);
    out.writeBoolean(counts != null);
    if (counts != null) {
      out.writeInt(counts.size());
      IOException[] failure = new IOException[1];
      counts.forEach(
          (value, count) -> {
            try {
              byte[] bytes = value.getBytes();
              out.writeInt(bytes.length);
              out.write(bytes);
              out.writeLong(count);
            } catch (IOException e) {
              failure[0] = e;
            }
          });
      if (failure[0] != null) {
        throw failure[0];
      }
    } else {
      byte[] bytes = sketch.toByteArray(new ArrayOfStringsSerDe());
      out.writeInt(bytes.length);
      out.write(bytes);
    }
  }

  static CategoricalProfile read(DataInputStream in) throws IOException {
    CategoricalProfile profile = new CategoricalProfile(in.readInt());
    profile.rows = in.readLong();
    profile.nulls = in.readLong();
    if (in.readBoolean()) {
      int size = in.readInt();
      profile.counts = new StringCounts(size);
      for (int i = 0; i < size; i++) {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        profile.counts.add(UTF8String.fromBytes(bytes), in.readLong());
      }
    } else {
      byte[] bytes = new byte[in.readInt()];
      in.readFully(bytes);
      profile.counts = null;
      profile.sketch = ItemsSketch.getInstance(Memory.wrap(bytes), new ArrayOfStringsSerDe());
    }
    return profile;
  }
}
