package kiln.drift.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

/**
 * The primitive count tables against a plain HashMap, on values chosen to hit their special cases.
 */
class CountsTest {

  @Test
  void doubleCountsCountLikeAMap() {
    SplittableRandom random = new SplittableRandom(7);
    DoubleCounts counts = new DoubleCounts();
    Map<Double, Long> expected = new HashMap<>();
    double[] special = {
      0.0,
      -0.0,
      4095,
      -4096,
      4096,
      -4097,
      1e300,
      -1e300,
      9.223372036854775807E18,
      -9.223372036854775808E18,
      0.5,
      -0.5,
      1e-300,
      Double.MAX_VALUE,
      -Double.MAX_VALUE
    };
    for (int i = 0; i < 200_000; i++) {
      double value =
          switch (i % 4) {
            case 0 -> random.nextInt(-20_000, 20_000);
            case 1 -> random.nextInt(-20_000, 20_000) / 8.0;
            case 2 -> special[random.nextInt(special.length)];
            default -> random.nextLong(Long.MIN_VALUE, Long.MAX_VALUE);
          };
      counts.add(value, 1);
      expected.merge(value == 0.0 ? 0.0 : value, 1L, Long::sum);
    }
    assertThat(counts.size()).isEqualTo(expected.size());
    Map<Double, Long> seen = new HashMap<>();
    counts.forEach((value, count) -> assertThat(seen.put(value, count)).isNull());
    assertThat(seen).isEqualTo(expected);
    double[][] sorted = counts.sorted();
    for (int i = 0; i < sorted[0].length; i++) {
      assertThat(sorted[1][i]).isEqualTo((double) expected.get(sorted[0][i]));
      if (i > 0) {
        assertThat(sorted[0][i]).isGreaterThan(sorted[0][i - 1]);
      }
    }
  }

  @Test
  void stringCountsCountLikeAMapForShortLongAndEmptyStrings() {
    SplittableRandom random = new SplittableRandom(11);
    List<String> names =
        new ArrayList<>(List.of("", "a", "\u00e9t\u00e9", "12345678", "123456789", "x\u0000", "x"));
    for (int i = 0; i < 3000; i++) {
      names.add(Integer.toString(random.nextInt(), 36).repeat(1 + random.nextInt(3)));
    }
    StringCounts counts = new StringCounts();
    Map<String, Long> expected = new HashMap<>();
    for (int i = 0; i < 100_000; i++) {
      String name = names.get(random.nextInt(names.size()));
      long count = 1 + random.nextInt(3);
      counts.add(UTF8String.fromString(name), count);
      expected.merge(name, count, Long::sum);
    }
    assertThat(counts.size()).isEqualTo(expected.size());
    Map<String, Long> seen = new HashMap<>();
    counts.forEach((value, count) -> assertThat(seen.put(value.toString(), count)).isNull());
    assertThat(seen).isEqualTo(expected);
    long[] previous = {Long.MAX_VALUE};
    counts.forEachByCountDescending(
        (value, count) -> {
          assertThat(count).isLessThanOrEqualTo(previous[0]);
          previous[0] = count;
        });
  }
}
