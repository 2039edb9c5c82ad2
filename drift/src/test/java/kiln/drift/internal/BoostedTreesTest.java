package kiln.drift.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BoostedTreesTest {
  @Test
  void aucIsTheShareOfPositiveNegativePairsRankedRightWithTiesCountedHalf() {
    // pairs (positive, negative): (0.9, 0.1) right, (0.9, 0.5) right, (0.5, 0.1) right,
    // (0.5, 0.5) a tie: 3.5 of 4
    assertThat(BoostedTrees.auc(new double[] {0.9, 0.5, 0.1, 0.5}, new int[] {1, 1, 0, 0}))
        .isCloseTo(3.5 / 4, within(1e-12));
    assertThat(BoostedTrees.auc(new double[] {0.2, 0.8}, new int[] {1, 0})).isZero();
    assertThat(BoostedTrees.auc(new double[] {0.2, 0.8}, new int[] {1, 1})).isNaN();
  }

  @Test
  void learnsAnInteractionNoSingleFeatureShowsAndScoresMissingValues() {
    // class 1 when the signs of a and b agree: neither feature alone says anything
    Random random = new Random(3);
    int n = 2000;
    double[][] x = new double[n][2];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      x[i][0] = random.nextGaussian();
      x[i][1] = i % 20 == 0 ? Double.NaN : random.nextGaussian();
      y[i] = x[i][0] * x[i][1] > 0 ? 1 : 0;
    }
    int[] train = IntStream.range(0, 1500).toArray();
    BoostedTrees model = BoostedTrees.fit(x, y, train, 60, 4, 10, 0.1);
    double[] scores = IntStream.range(1500, n).mapToDouble(i -> model.score(x[i])).toArray();
    int[] labels = IntStream.range(1500, n).map(i -> y[i]).toArray();

    assertThat(BoostedTrees.auc(scores, labels)).isGreaterThan(0.9);
  }
}
