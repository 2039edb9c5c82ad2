package kiln.training;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.Errors;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A trained model on local disk: the XGBoost model in Spark ML format ({@value #MODEL_DIRECTORY}/) and
 * {@value #INFO_FILE}. This directory is what is uploaded to MLflow and registered.
 */
public final class ModelFiles {
  public static final String MODEL_DIRECTORY = "spark-model";
  public static final String INFO_FILE = "kiln-model.json";
  /** The assembled feature vector the model reads (xgboost4j-spark's CPU path mixes up output columns with a column list). */
  public static final String FEATURES_VECTOR = "kiln_features";
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path directory;
  private final ModelInfo info;
  private final Model<?> model;

  private ModelFiles(Path directory, ModelInfo info, Model<?> model) {
    this.directory = directory;
    this.info = info;
    this.model = model;
  }

  public static ModelFiles save(Model<?> model, ModelInfo info, Path directory) {
    try {
      Files.createDirectories(directory);
      ((MLWritable) model).write().overwrite().save(directory.resolve(MODEL_DIRECTORY).toAbsolutePath().toString());
      JSON.writeValue(directory.resolve(INFO_FILE).toFile(), info);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the model to " + directory, e);
    }
    return new ModelFiles(directory, info, model);
  }

  /** The same model with these metrics in its {@value #INFO_FILE}; only that file is written again. */
  public ModelFiles withMetrics(java.util.Map<String, Double> metrics) {
    ModelInfo measured = info.withMetrics(metrics);
    try {
      JSON.writeValue(directory.resolve(INFO_FILE).toFile(), measured);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the model to " + directory, e);
    }
    return new ModelFiles(directory, measured, model);
  }

  /** Loads a model directory that {@link #save} wrote (e.g. downloaded from MLflow). */
  public static ModelFiles load(Path directory) {
    Path infoFile = directory.resolve(INFO_FILE);
    if (!Files.isRegularFile(infoFile)) {
      throw Errors.badInput(directory + " holds no " + INFO_FILE + ", so it is not a model Kiln trained",
          "register models with `kiln train`");
    }
    ModelInfo info;
    try {
      info = JSON.readValue(infoFile.toFile(), ModelInfo.class);
    } catch (IOException e) {
      throw Errors.badInput("cannot read " + infoFile + ": " + e.getMessage(), "register the model again with `kiln train`");
    }
    String path = directory.resolve(MODEL_DIRECTORY).toAbsolutePath().toString();
    Model<?> model = info.task() == Task.CLASSIFIER
        ? (Model<?>) XGBoostClassificationModel.load(path) : (Model<?>) XGBoostRegressionModel.load(path);
    return new ModelFiles(directory, info, model);
  }

  public Path directory() {
    return directory;
  }

  public ModelInfo info() {
    return info;
  }

  public Model<?> model() {
    return model;
  }

  /**
   * The rows with the model's outputs and {@link Evaluation#SCORE} (probability of class 1, or the
   * predicted value). Fails with the missing columns named when the data lacks a feature.
   */
  public Dataset<Row> score(Dataset<Row> rows) {
    List<String> missing = new ArrayList<>(info.featureColumns());
    missing.removeAll(List.of(rows.columns()));
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("the data to score", missing, List.of(rows.columns()));
    }
    Dataset<Row> scored = model.transform(assemble(rows, info.featureColumns())).drop(FEATURES_VECTOR);
    return info.task() == Task.CLASSIFIER
        ? scored.withColumn(Evaluation.SCORE,
            org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64").getItem(1))
        : scored.withColumn(Evaluation.SCORE, col("prediction"));
  }

  /** Adds the feature vector; missing values stay NaN, which XGBoost treats as missing. */
  public static Dataset<Row> assemble(Dataset<Row> rows, List<String> featureColumns) {
    return new org.apache.spark.ml.feature.VectorAssembler()
        .setInputCols(featureColumns.toArray(new String[0]))
        .setOutputCol(FEATURES_VECTOR)
        .setHandleInvalid("keep")
        .transform(rows);
  }

  /** SHA-256 over the model's files (relative path and content, in path order; Hadoop's .crc files left out). */
  public String sha256() {
    Path root = directory.resolve(MODEL_DIRECTORY);
    try (Stream<Path> walk = Files.walk(root)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path file : walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".crc"))
          .sorted().toList()) {
        digest.update(root.relativize(file).toString().replace('\\', '/').getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
          in.transferTo(java.io.OutputStream.nullOutputStream());
        }
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model files in " + root, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The files to upload, relative to {@link #directory}, without Hadoop's checksum files. */
  public List<Path> files() {
    try (Stream<Path> walk = Files.walk(directory)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().endsWith(".crc"))
          .map(directory::relativize).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
