package kiln.jobs.llmeval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A judge's answer read as a score and a rationale: JSON {@code {"score": 4, "rationale": "..."}}
 * (anywhere in the answer, as models wrap it in prose or code fences) or lines {@code Score: 4} and
 * {@code Rationale: ...}. An answer without a number after "score" has no score: it is counted as a
 * judge error, never guessed.
 *
 * @param score the score, or null when the answer gives none
 * @param rationale the rationale, or the whole answer when it names none
 */
public record JudgeVerdict(Double score, String rationale) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern OBJECT = Pattern.compile("\\{[^{}]*\\}", Pattern.DOTALL);
  private static final Pattern SCORE =
      Pattern.compile("(?i)\\bscore\\b\\s*[:=]?\\s*\\**\\s*(-?\\d+(?:\\.\\d+)?)");
  private static final Pattern RATIONALE =
      Pattern.compile("(?is)\\b(?:rationale|reason(?:ing)?)\\b\\s*[:=]\\s*(.+)");

  public static JudgeVerdict parse(String answer) {
    if (answer == null || answer.isBlank()) {
      return new JudgeVerdict(null, null);
    }
    Matcher object = OBJECT.matcher(answer);
    while (object.find()) {
      try {
        JsonNode node = JSON.readTree(object.group());
        JsonNode score = node.get("score");
        if (score != null && (score.isNumber() || score.asText().matches("-?\\d+(\\.\\d+)?"))) {
          JsonNode rationale = node.get("rationale");
          return new JudgeVerdict(
              score.asDouble(), rationale == null ? answer.strip() : rationale.asText());
        }
      } catch (java.io.IOException e) {
        // not JSON: try the next object, then the lines
      }
    }
    Matcher score = SCORE.matcher(answer);
    Double value = score.find() ? Double.valueOf(score.group(1)) : null;
    Matcher rationale = RATIONALE.matcher(answer);
    return new JudgeVerdict(value, rationale.find() ? rationale.group(1).strip() : answer.strip());
  }
}
