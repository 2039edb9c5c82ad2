package kiln.drift;

/** The outcome for one column. */
public enum Verdict {
  /** Compared, no threshold crossed. */
  STABLE(false),
  /** Compared, at least one threshold crossed. */
  DRIFTED(true),
  /** In the reference, not in the current data: a schema change that counts as drift. */
  MISSING_IN_CURRENT(true),
  /** In the current data only: reported, not counted as drift (a model cannot use it yet). */
  NEW_IN_CURRENT(false),
  /**
   * Numeric on one side and categorical on the other (or unsupported on one side): counts as drift.
   */
  TYPE_CHANGED(true),
  /** No non-null finite value on either side: nothing to compare. */
  NO_DATA(false),
  /** A type that cannot be profiled (arrays, maps, structs, binary): reported, not compared. */
  UNSUPPORTED(false);

  private final boolean drifted;

  Verdict(boolean drifted) {
    this.drifted = drifted;
  }

  public boolean drifted() {
    return drifted;
  }
}
