package kiln.llm.internal;

/**
 * One row's answer from an engine: the completion, or the error that stands in for it.
 *
 * @param text the completion; null when the row failed
 * @param promptTokens as the engine counted them; null when unknown
 * @param completionTokens as the engine counted them; null when unknown
 * @param finishReason e.g. {@code stop} or {@code length}
 * @param latencyMillis from the first attempt to the answer, retries and waits included
 * @param attempts requests made (0 when the row failed before any)
 * @param error why the row failed; null when it did not
 */
public record Completion(
    String text,
    Integer promptTokens,
    Integer completionTokens,
    String finishReason,
    long latencyMillis,
    int attempts,
    String error) {

  /** The error of a row without text: no request is made for it. */
  public static final String NO_TEXT = "the text is null or blank: nothing to send";

  /** This completion with another error (a masked one, or the reason it fails validation). */
  public Completion withError(String newError) {
    return new Completion(
        text, promptTokens, completionTokens, finishReason, latencyMillis, attempts, newError);
  }

  public static Completion failed(String error, long latencyMillis, int attempts) {
    return new Completion(null, null, null, null, latencyMillis, attempts, error);
  }
}
