package kiln.drift;

import java.util.List;

/**
 * Reference and current shares per bin, for plots: a numeric column's bins are the reference's
 * quantiles that its PSI is computed on (at most 20; each holds about the same share of the
 * reference), a categorical column's the kept categories plus "other".
 */
public record Histogram(List<String> labels, List<Double> reference, List<Double> current) {
  public Histogram {
    labels = List.copyOf(labels);
    reference = List.copyOf(reference);
    current = List.copyOf(current);
    if (labels.size() != reference.size() || labels.size() != current.size()) {
      // Kiln builds histograms from one profile: sizes that differ are a bug, never the input
      throw new IllegalStateException(
          "histogram sizes differ: "
              + labels.size()
              + " labels, "
              + reference.size()
              + " reference and "
              + current.size()
              + " current shares");
    }
  }

  public static Histogram empty() {
    return new Histogram(List.of(), List.of(), List.of());
  }
}
