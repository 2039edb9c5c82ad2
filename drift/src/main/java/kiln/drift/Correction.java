package kiln.drift;

/** How p-values are corrected for testing many columns at once. */
public enum Correction {
  /** Each column is tested at the significance level as given. */
  NONE,
  /**
   * Bonferroni: each column at level / number of tested columns (controls the family-wise error).
   */
  BONFERRONI,
  /** Benjamini-Hochberg: controls the false discovery rate at the level. */
  FDR
}
