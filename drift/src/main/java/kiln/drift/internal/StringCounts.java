package kiln.drift.internal;

import java.util.Arrays;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Exact counts of strings in an open-addressing table. A string of at most 8 bytes is its own key,
 * the bytes packed into a long, so that counting a short category (codes, flags, airports) hashes
 * and compares one long instead of a byte array (a HashMap of UTF8String cost more than the scan).
 * Longer strings are keyed by a hash and compared byte by byte.
 */
final class StringCounts {
  private static final int SHORT = 8;

  /**
   * Per slot: the packed bytes (at most 8) or a hash (longer); the length + 1, 0 when the slot is
   * empty.
   */
  private long[] keys;

  private int[] lengths;

  /** Per slot: the string itself when longer than 8 bytes (a short one is rebuilt from its key). */
  private UTF8String[] longValues;

  private long[] counts;
  private int size;
  private int mask;

  StringCounts() {
    this(64);
  }

  StringCounts(int capacity) {
    allocate(Integer.highestOneBit(Math.max(16, capacity * 2 - 1)) << 1);
  }

  private void allocate(int slots) {
    keys = new long[slots];
    lengths = new int[slots];
    longValues = new UTF8String[slots];
    counts = new long[slots];
    mask = slots - 1;
  }

  int size() {
    return size;
  }

  /**
   * Adds {@code count} occurrences; {@code value} may be a reused buffer, it is copied when first
   * seen.
   */
  void add(UTF8String value, long count) {
    int length = value.numBytes();
    long key = length <= SHORT ? pack(value, length) : value.hashCode();
    int slot = mix(key, length) & mask;
    while (true) {
      int stored = lengths[slot];
      if (stored == 0) {
        keys[slot] = key;
        lengths[slot] = length + 1;
        longValues[slot] = length <= SHORT ? null : value.clone();
        counts[slot] = count;
        if (++size * 2 > keys.length) {
          grow();
        }
        return;
      }
      if (stored == length + 1
          && keys[slot] == key
          && (length <= SHORT || longValues[slot].equals(value))) {
        counts[slot] += count;
        return;
      }
      slot = (slot + 1) & mask;
    }
  }

  void addAll(StringCounts other) {
    other.forEach(this::add);
  }

  interface Visitor {
    void accept(UTF8String value, long count);
  }

  /** Every string and its count, in no particular order. */
  void forEach(Visitor visitor) {
    for (int i = 0; i < keys.length; i++) {
      if (lengths[i] != 0) {
        visitor.accept(value(i), counts[i]);
      }
    }
  }

  /**
   * Every string and its count, the most frequent first and ties by their bytes: an order that does
   * not depend on the table's layout, for feeding a sketch whose result depends on the order.
   */
  void forEachByCountDescending(Visitor visitor) {
    Integer[] slots = new Integer[size];
    UTF8String[] values = new UTF8String[keys.length];
    int n = 0;
    for (int i = 0; i < keys.length; i++) {
      if (lengths[i] != 0) {
        values[i] = value(i);
        slots[n++] = i;
      }
    }
    Arrays.sort(
        slots,
        (a, b) ->
            counts[a] != counts[b]
                ? Long.compare(counts[b], counts[a])
                : values[a].compareTo(values[b]));
    for (int slot : slots) {
      visitor.accept(values[slot], counts[slot]);
    }
  }

  private UTF8String value(int slot) {
    int length = lengths[slot] - 1;
    if (length > SHORT) {
      return longValues[slot];
    }
    byte[] bytes = new byte[length];
    long key = keys[slot];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (key >>> (8 * i));
    }
    return UTF8String.fromBytes(bytes);
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldLengths = lengths;
    UTF8String[] oldValues = longValues;
    long[] oldCounts = counts;
    allocate(oldKeys.length * 2);
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldLengths[i] != 0) {
        int slot = mix(oldKeys[i], oldLengths[i] - 1) & mask;
        while (lengths[slot] != 0) {
          slot = (slot + 1) & mask;
        }
        keys[slot] = oldKeys[i];
        lengths[slot] = oldLengths[i];
        longValues[slot] = oldValues[i];
        counts[slot] = oldCounts[i];
      }
    }
  }

  /** The bytes of a string of at most 8 bytes, the first in the lowest bits. */
  private static long pack(UTF8String value, int length) {
    Object base = value.getBaseObject();
    long offset = value.getBaseOffset();
    long key = 0;
    for (int i = 0; i < length; i++) {
      key |= (Platform.getByte(base, offset + i) & 0xffL) << (8 * i);
    }
    return key;
  }

  /** MurmurHash3's 64-bit finaliser over the key and the length. */
  private static int mix(long key, int length) {
    return (int) DoubleCounts.fmix64(key ^ ((long) length << 59));
  }
}
