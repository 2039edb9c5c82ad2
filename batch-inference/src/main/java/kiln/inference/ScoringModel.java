package kiln.inference;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kiln.core.Errors;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A model that {@code kiln train} registered, downloaded: the XGBoost model in Spark ML format and the
 * {@code kiln-model.json} that says which columns it reads. Adds {@code prediction} and, for a
 * classifier, {@code probability} (of class 1).
 */
public final class ScoringModel {
  static final String MODEL_DIRECTORY = "spark-model";
  static final String INFO_FILE = "kiln-model.json";
  private static final String FEATURES_VECTOR = "kiln_features";

  private final Model<?> model;
  private final boolean classifier;
  private final List<String> featureColumns;
  private final String label;

  private ScoringModel(Model<?> model, boolean classifier, List<String> featureColumns, String label) {
    this.model = model;
    this.classifier = classifier;
    this.featureColumns = List.copyOf(featureColumns);
    this.label = label;
  }

  public static ScoringModel load(Path directory) {
    Path info = directory.resolve(INFO_FILE);
    if (!Files.isRegularFile(info)) {
      throw Errors.badInput(directory + " holds no " + INFO_FILE + ", so it is not a model Kiln trained",
          "score models registered by `kiln train`");
    }
    JsonNode node;
    try {
      node = new ObjectMapper().readTree(info.toFile());
    } catch (IOException e) {
      throw Errors.badInput("cannot read " + info + ": " + e.getMessage(), "register the model again with `kiln train`");
    }
    List<String> features = new ArrayList<>();
    node.path("featureColumns").forEach(f -> features.add(f.asText()));
    boolean classifier = "CLASSIFIER".equals(node.path("task").asText());
    String path = directory.resolve(MODEL_DIRECTORY).toAbsolutePath().toString();
    Model<?> model = classifier ? (Model<?>) XGBoostClassificationModel.load(path) : (Model<?>) XGBoostRegressionModel.load(path);
    return new ScoringModel(model, classifier, features, node.path("label").asText());
  }

  public boolean classifier() {
    return classifier;
  }

  public List<String> featureColumns() {
    return featureColumns;
  }

  public String label() {
    return label;
  }

  /** The rows with {@code prediction} (and {@code probability}); fails naming the feature columns the data lacks. */
  public Dataset<Row> score(Dataset<Row> rows, String what) {
    List<String> missing = new ArrayList<>(featureColumns);
    missing.removeAll(List.of(rows.columns()));
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(what, missing, List.of(rows.columns()));
    }
    rows = rows.drop("prediction", "probability", "rawPrediction", FEATURES_VECTOR);
    Dataset<Row> assembled = new VectorAssembler().setInputCols(featureColumns.toArray(new String[0]))
        .setOutputCol(FEATURES_VECTOR).setHandleInvalid("keep").transform(rows);
    String[] keep = rows.columns();
    Dataset<Row> scored = model.transform(assembled);
    List<org.apache.spark.sql.Column> out = new ArrayList<>();
    for (String column : keep) {
      if (!column.equals("prediction") && !column.equals("probability")) {
        out.add(col(column));
      }
    }
    out.add(col("prediction").cast("double").as("prediction"));
    if (classifier) {
      out.add(org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64").getItem(1).as("probability"));
    }
    return scored.select(out.toArray(new org.apache.spark.sql.Column[0]));
  }
}
