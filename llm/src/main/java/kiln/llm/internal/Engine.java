package kiln.llm.internal;

import java.util.List;

/**
 * Turns rendered prompts into completions. One row's failure is its own {@link Completion#error()},
 * never an exception.
 */
public interface Engine {
  /** The answers, in the order of the prompts; a null prompt fails its row without a request. */
  List<Completion> complete(List<String> prompts);
}
