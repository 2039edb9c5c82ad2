package kiln.training;

import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import kiln.core.models.ModelInfo;

/**
 * The model card: a Markdown page on what the model is, what it was trained on, and how it did on
 * test.
 */
final class ModelCard {
  private ModelCard() {}

  static String markdown(String name, String version, TrainingResult result) {
    ModelInfo info = result.model().info();
    StringBuilder card = new StringBuilder();
    card.append("# Model card: ")
        .append(name)
        .append(version == null ? "" : " version " + version)
        .append("\n\n");
    card.append("XGBoost ")
        .append(info.task().name().toLowerCase(Locale.ROOT))
        .append(" predicting `")
        .append(info.label())
        .append("`, trained by Kiln on device `")
        .append(result.device())
        .append("`.\n\n");
    card.append("## Data\n\n");
    card.append("- feature table: `")
        .append(info.featureTable())
        .append("` version ")
        .append(info.featureVersion())
        .append('\n');
    if (info.dataTable() != null) {
      card.append("- source table: `")
          .append(info.dataTable())
          .append("` version ")
          .append(info.dataVersion())
          .append('\n');
    }
    card.append("- split by hash of `")
        .append(info.key())
        .append("` (seed ")
        .append(info.seed())
        .append("): ")
        .append(result.trainRows())
        .append(" train, ")
        .append(result.validationRows())
        .append(" validation (early stopping), ")
        .append(result.testRows())
        .append(" test rows\n");
    card.append("- features: ")
        .append(String.join(", ", info.featureColumns().stream().map(c -> "`" + c + "`").toList()))
        .append("\n");
    if (!info.textColumns().isEmpty()) {
      // the embedding model and its settings are the run's text_* parameters
      card.append("- text (sentence embeddings, in the model's pipeline): ")
          .append(String.join(", ", info.textColumns().stream().map(c -> "`" + c + "`").toList()))
          .append("\n");
    }
    card.append("\n");
    card.append("## Test metrics\n\n| metric | value |\n| --- | --- |\n");
    result
        .evaluation()
        .metrics()
        .forEach(
            (k, v) -> card.append("| ").append(k).append(" | ").append(format(v)).append(" |\n"));
    card.append("| latency (ms per 1000 rows) | ")
        .append(format(result.latencyMillisPer1000Rows()))
        .append(" |\n\n");
    if (!result.evaluation().groups().isEmpty()) {
      card.append("## Groups\n\n");
      String primary = info.task().primaryMetric();
      result
          .evaluation()
          .groups()
          .forEach(
              (group, byValue) -> {
                card.append("`")
                    .append(group)
                    .append("`: largest gap in ")
                    .append(primary)
                    .append(" between groups of at least ")
                    .append(info.minGroupRows())
                    .append(" rows: ")
                    .append(format(result.evaluation().gaps().get(group)))
                    .append("\n\n");
                card.append("| ")
                    .append(group)
                    .append(" | rows | ")
                    .append(primary)
                    .append(" |\n| --- | --- | --- |\n");
                byValue.forEach(
                    (value, metrics) ->
                        card.append("| ")
                            .append(value)
                            .append(" | ")
                            .append(format(metrics.get("rows")))
                            .append(" | ")
                            .append(format(metrics.get(primary)))
                            .append(" |\n"));
                card.append('\n');
              });
    }
    card.append("## Feature importance (gain)\n\n| feature | gain |\n| --- | --- |\n");
    result.featureImportance().entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()))
        .forEach(
            e ->
                card.append("| ")
                    .append(e.getKey())
                    .append(" | ")
                    .append(format(e.getValue()))
                    .append(" |\n"));
    card.append("\n## Provenance\n\n- model files sha256: `")
        .append(result.sha256())
        .append("`\n- code version: `")
        .append(result.codeVersion())
        .append("`\n- hyperparameters: ")
        .append(info.hyperparameters())
        .append('\n');
    return card.toString();
  }

  private static String format(Double value) {
    if (value == null) {
      return "";
    }
    return value == Math.rint(value) && Math.abs(value) < 1e12
        ? String.valueOf(value.longValue())
        : String.format(Locale.ROOT, "%.4f", value);
  }
}
