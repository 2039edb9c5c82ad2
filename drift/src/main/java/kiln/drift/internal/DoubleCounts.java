package kiln.drift.internal;

import java.util.Arrays;

/**
 * Exact counts of double values in an open-addressing table with primitive arrays: the hot path of a
 * profile, where a boxed HashMap would cost more than the scan itself. Whole numbers near the first
 * whole number seen (delays, distances, codes) are counted in a plain array instead, which needs no
 * hashing or probing.
 */
final class DoubleCounts {
  private static final long EMPTY = 0x7ff8dead0000beefL; // a NaN payload never stored (NaN is counted apart)
  /** Slots of the window for whole numbers: 64 KB of counts. */
  private static final int WINDOW = 8192;

  /** Counts of the whole numbers windowBase .. windowBase + WINDOW - 1; null until one is seen. */
  private long[] window;
  private long windowBase;
  private int windowSize;

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
    return size + windowSize;
  }

  /** Adds {@code count} occurrences of a finite value ({@code -0.0} counts as {@code 0.0}). */
  void add(double value, long count) {
    long whole = (long) value;
    if (whole == value) {
      if (window == null) {
        window = new long[WINDOW];
        windowBase = whole - WINDOW / 2;
      }
      long index = whole - windowBase;
      if (index >= 0 && index < WINDOW) {
        if (window[(int) index] == 0) {
          windowSize++;
        }
        window[(int) index] += count;
        return;
      }
    }
    addToTable(value, count);
  }

  private void addToTable(double value, long count) {
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
    if (window != null) {
      for (int i = 0; i < WINDOW; i++) {
        if (window[i] != 0) {
          visitor.accept((double) (windowBase + i), window[i]);
        }
      }
    }
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != EMPTY) {
        visitor.accept(Double.longBitsToDouble(keys[i]), counts[i]);
      }
    }
  }

  /** The distinct values ascending and their counts. */
  double[][] sorted() {
    double[] values = new double[size()];
    int[] n = {0};
    forEach((value, count) -> values[n[0]++] = value);
    Arrays.sort(values);
    double[] weights = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      weights[i] = count(values[i]);
    }
    return new double[][] {values, weights};
  }

  long count(double value) {
    long whole = (long) value;
    if (whole == value && window != null && whole - windowBase >= 0 && whole - windowBase < WINDOW) {
      return window[(int) (whole - windowBase)];
    }
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
        addToTable(Double.longBitsToDouble(oldKeys[i]), oldCounts[i]);
      }
    }
  }

  /**
   * MurmurHash3's 64-bit finaliser. The bits of whole numbers stored as doubles sit in the high half,
   * so a plain multiplicative hash would put them all in a few slots.
   */
  private static int mix(long key) {
    long h = key;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) h;
  }
}
