package kiln.jobs;

import java.util.List;
import kiln.cost.TokenUsage;

/**
 * A job's result that spent model tokens besides an LLM run's own (an evaluation's judges): the
 * run's cost prices them from the catalog like {@code kiln llm run}'s.
 */
public interface TokenSpending {
  /** The tokens each model read and wrote in the run, one entry per model use. */
  List<TokenUsage> tokenUsage();
}
