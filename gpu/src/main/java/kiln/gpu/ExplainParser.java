package kiln.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the RAPIDS Accelerator's explanation of a plan (what {@code spark.rapids.sql.explain=ALL}
 * logs, one line per node: {@code *} will run on the GPU, {@code !} cannot, {@code @} could but its
 * parent cannot, {@code #} will not) into its physical operators. An expression's reason is given
 * to the operator it belongs to, so that a fallback names the expression that caused it.
 */
public final class ExplainParser {
  private static final Pattern NODE =
      Pattern.compile("^(\\s*)([*!@#$])([A-Za-z]*) <([\\w$]+)>(.*)$");
  private static final String BECAUSE = " because ";
  private static final int REASON_LIMIT = 300;
  private static final String DELTA_PACKAGE = "org.apache.spark.sql.delta.";

  private ExplainParser() {}

  public static List<Operator> parse(String explanation) {
    List<Builder> operators = new ArrayList<>();
    List<int[]> openOperators = new ArrayList<>(); // {indent, index}
    for (String line : explanation.split("\n")) {
      Matcher m = NODE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      int indent = m.group(1).length();
      char marker = m.group(2).charAt(0);
      String kind = m.group(3);
      String name = m.group(4);
      String rest = m.group(5);
      while (!openOperators.isEmpty() && openOperators.get(openOperators.size() - 1)[0] >= indent) {
        openOperators.remove(openOperators.size() - 1);
      }
      boolean operator = kind.equals("Exec") || (kind.isEmpty() && name.endsWith("Exec"));
      if (operator) {
        Builder b = new Builder(name, marker == '*');
        reason(rest).ifPresent(b.reasons::add);
        operators.add(b);
        openOperators.add(new int[] {indent, operators.size() - 1});
      } else if (marker != '*' && !openOperators.isEmpty()) {
        Builder owner = operators.get(openOperators.get(openOperators.size() - 1)[1]);
        reason(rest)
            .map(r -> (kind.isEmpty() ? "" : kind + " ") + name + ": " + r)
            .filter(r -> !owner.reasons.contains(r))
            .ifPresent(owner.reasons::add);
      }
    }
    return operators.stream().map(b -> new Operator(b.name, b.onGpu, b.reasons)).toList();
  }

  private static java.util.Optional<String> reason(String rest) {
    int at = rest.indexOf(BECAUSE);
    if (at < 0 || !rest.substring(0, at).contains("on GPU")) {
      return java.util.Optional.empty();
    }
    String reason = rest.substring(at + BECAUSE.length()).trim();
    return java.util.Optional.of(
        labelled(
            reason.length() > REASON_LIMIT ? reason.substring(0, REASON_LIMIT) + "..." : reason));
  }

  /**
   * RAPIDS' reason, with {@link Rapids#DELTA_ON_SPARK_35} before it when it names a Delta Lake
   * class: RAPIDS says only that the format or data source is unsupported, not that its cause is
   * the RAPIDS release (a stub for OSS Delta on Spark 3.5), which no change of Kiln's can mend.
   */
  static String labelled(String reason) {
    return reason.contains(DELTA_PACKAGE) ? Rapids.DELTA_ON_SPARK_35 + ": " + reason : reason;
  }

  private static final class Builder {
    final String name;
    final boolean onGpu;
    final List<String> reasons = new ArrayList<>();

    Builder(String name, boolean onGpu) {
      this.name = name;
      this.onGpu = onGpu;
    }
  }
}
