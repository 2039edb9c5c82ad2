package kiln.drift.internal;

import java.util.Arrays;

/**
 * Exact counts of double values in an open-addressing table with primitive arrays: the hot path of
 * a profile, where a boxed HashMap would cost more than the scan itself.
 */
final class DoubleCounts {
  private static final long EMPTY =
      0x7ff8dead0000beefL; // a NaN payload never stored (NaN is counted apart)

  private long[] keys;
  private long[] counts;
  private int size;
  private int mask;

  DoubleCounts() {
    this(64);
  }

  DoubleCounts(int capacity) {
    int slots = Integer.highestOneBit(Math.max(16, capacity * 2 - 1)) << 1;
    keys = new long[slots];
    Arrays.fill(keys, EMPTY);
    counts = new long[slots];
    mask = slots - 1;
  }

  int size() {
    return size;
  }

  /** Adds {@code count} occurrences of a finite value ({@code -0.0} counts as {@code 0.0}). */
  void add(double value, long count) {
    long key = Double.doubleToLongBits(value == 0.0 ? 0.0 : value);
    int slot = mix(key) & mask;
    while (true) {
      long existing = keys[slot];
      if (existing == key) {
        counts[slot] += count;
        return;
      }
      if (existing == EMPTY) {
        keys[slot] = key;
        counts[slot] = count;
        if (++size * 2 > keys.length) {
          grow();
        }
        return;
      }
      slot = (slot + 1) & mask;
    }
  }

  void addAll(DoubleCounts other) {
    other.forEach(this::add);
  }

  interface Visitor {
    void accept(double value, long count);
  }

  void forEach(Visitor visitor) {
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != EMPTY) {
        visitor.accept(Double.longBitsToDouble(keys[i]), counts[i]);
      }
    }
  }

  /** The distinct values ascending and their counts. */
  double[][] sorted() {
    double[] values = new double[size];
    int n = 0;
    for (long key : keys) {
      if (key != EMPTY) {
        values[n++] = Double.longBitsToDouble(key);
      }
    }
    Arrays.sort(values);
    double[] weights = new double[size];
    for (int i = 0; i < size; i++) {
      weights[i] = count(values[i]);
    }
    return new double[][] {values, weights};
  }

  long count(double value) {
    long key = Double.doubleToLongBits(value == 0.0 ? 0.0 : value);
    int slot = mix(key) & mask;
    while (keys[slot] != EMPTY) {
      if (keys[slot] == key) {
        return counts[slot];
      }
      slot = (slot + 1) & mask;
    }
    return 0;
  }

  private void grow() {
    long[] oldKeys = keys;
    long[] oldCounts = counts;
    keys = new long[oldKeys.length * 2];
    Arrays.fill(keys, EMPTY);
    counts = new long[keys.length];
    mask = keys.length - 1;
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != EMPTY) {
        add(Double.longBitsToDouble(oldKeys[i]), oldCounts[i]);
      }
    }
  }

  /**
   * The bits of whole numbers stored as doubles sit in the high half, so a plain multiplicative
   * hash would put them all in a few slots: mix them with MurmurHash3's finaliser.
   */
  private static int mix(long key) {
    return (int) fmix64(key);
  }

  /** MurmurHash3's 64-bit finaliser; {@link StringCounts} uses it too. */
  static long fmix64(long key) {
    long h = key;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
