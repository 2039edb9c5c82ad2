package kiln.contracts;

/**
 * Where the dataset's schema differs from the contract's: a missing column or a type that does not
 * match.
 *
 * @param expected what the contract declares (e.g. {@code bigint}, {@code logicalType integer});
 *     columns the data has and the contract does not declare are no difference
 * @param actual the data's type, or null when the column is missing
 */
public record SchemaDifference(String column, String expected, String actual) {
  public String describe() {
    if (actual == null) {
      return "column '" + column + "' is missing (contract: " + expected + ")";
    }
    return "column '" + column + "' is " + actual + ", the contract says " + expected;
  }
}
