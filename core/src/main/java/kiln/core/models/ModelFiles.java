package kiln.core.models;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

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
import kiln.core.SparkSessions;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * A trained model on local disk: a Spark ML model ({@value #MODEL_DIRECTORY}/, e.g. XGBoost's) and
 * {@value #INFO_FILE}. This directory is what is uploaded to MLflow and registered; the one format
 * training writes and scoring, drift and the gate read.
 */
public final class ModelFiles {
  public static final String MODEL_DIRECTORY = "spark-model";
  public static final String INFO_FILE = "kiln-model.json";

  /**
   * The assembled feature vector the model reads (xgboost4j-spark's CPU path mixes up output
   * columns with a column list).
   */
  public static final String FEATURES_VECTOR = "kiln_features";

  /**
   * The column {@link #score} adds: the probability of class 1 for a classifier, the predicted
   * value for a regressor.
   */
  public static final String SCORE = "kiln_score";

  /** XGBoost 3's parameter naming the feature columns a model reads (no vector). */
  static final String FEATURES_COLUMNS = "featuresCols";

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
      ((MLWritable) model)
          .write()
          .overwrite()
          .save(directory.resolve(MODEL_DIRECTORY).toAbsolutePath().toString());
      JSON.writeValue(directory.resolve(INFO_FILE).toFile(), info);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the model to " + directory, e);
    }
    return new ModelFiles(directory, info, model);
  }

  /**
   * The same model with these metrics in its {@value #INFO_FILE}; only that file is written again.
   */
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
      throw Errors.badInput(
          directory + " holds no " + INFO_FILE + ", so it is not a model Kiln trained",
          "register models with `kiln train`");
    }
    ModelInfo info;
    try {
      info = JSON.readValue(infoFile.toFile(), ModelInfo.class);
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot read " + infoFile + ": " + e.getMessage(),
          "register the model again with `kiln train`");
    }
    return new ModelFiles(directory, info, loadModel(directory.resolve(MODEL_DIRECTORY)));
  }

  /**
   * Loads the Spark ML model by the class its metadata names, through that class's own reader, as
   * Spark's {@code PipelineModel} loads its stages: core needs no model library, only whoever loads
   * the model needs its classes (XGBoost's) on the classpath.
   */
  private static Model<?> loadModel(Path modelDirectory) {
    String className = modelClass(modelDirectory);
    Object loaded;
    try {
      Class<?> type = Class.forName(className, true, ModelFiles.class.getClassLoader());
      loaded =
          ((MLReader<?>) type.getMethod("read").invoke(null))
              .load(modelDirectory.toAbsolutePath().toString());
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      throw Errors.environment(
          "the model in "
              + modelDirectory
              + " is a "
              + className
              + ", and that class (or its reader) is not on the classpath",
          "run with the kiln jar, which brings the model libraries (XGBoost), or add the library to the classpath",
          e);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw Errors.badInput(
          "cannot load the model in "
              + modelDirectory
              + " ("
              + className
              + "): "
              + Errors.rootMessage(e),
          "register the model again with `kiln train`",
          e.getCause());
    } catch (ReflectiveOperationException e) {
      throw Errors.environment(
          "cannot load the model in "
              + modelDirectory
              + " ("
              + className
              + "): "
              + Errors.rootMessage(e),
          "run with the kiln jar",
          e);
    }
    if (!(loaded instanceof Model<?> model)) {
      throw Errors.badInput(
          modelDirectory + " holds a " + className + ", which is not a fitted Spark ML model",
          "register models with `kiln train`");
    }
    return model;
  }

  /**
   * The class Spark ML wrote in the model's metadata ({@code metadata/part-00000}, one JSON line).
   */
  private static String modelClass(Path modelDirectory) {
    Path metadata = modelDirectory.resolve("metadata");
    try (Stream<Path> parts = Files.list(metadata)) {
      for (Path part :
          parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
        for (String line : Files.readAllLines(part)) {
          if (!line.isBlank()) {
            String className = JSON.readTree(line).path("class").asText("");
            if (!className.isEmpty()) {
              return className;
            }
          }
        }
      }
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot read the Spark ML metadata in " + metadata + ": " + e.getMessage(),
          "register the model again with `kiln train`",
          e);
    }
    throw Errors.badInput(
        metadata + " names no model class, so " + modelDirectory + " is not a saved Spark ML model",
        "register the model again with `kiln train`");
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
   * The rows with the model's outputs and {@link #SCORE} (probability of class 1, or the predicted
   * value). Fails with the missing columns named when the data lacks a feature.
   */
  public Dataset<Row> score(Dataset<Row> rows) {
    return score(rows, "the data to score");
  }

  /**
   * As {@link #score(Dataset)}; {@code what} names the rows in the message when a feature column is
   * missing.
   */
  public Dataset<Row> score(Dataset<Row> rows, String what) {
    requireInputColumns(rows, what);
    // a text model's pipeline embeds its text and assembles the vector itself
    if (!info.textColumns().isEmpty()) {
      return withScore(model.transform(rows), info.task());
    }
    if (SparkSessions.runsRapids(rows.sparkSession())
        && readsFeatureColumns()
        && plainFeatures(rows.schema())) {
      // xgboost4j-spark-gpu's transform, taken whenever RAPIDS is on, reads no vector: the features
      // by name, prepared as scoring prepares them, and left out of the result again
      List<String> prepared = featureColumnNames(info.featureColumns().size());
      return withScore(
              transformColumns(
                  model, withFeatureColumns(rows, info.featureColumns()), prepared, true),
              info.task())
          .drop(prepared.toArray(new String[0]));
    }
    return withScore(model.transform(assemble(rows, info.featureColumns())), info.task());
  }

  /**
   * Fails with the missing columns named when {@code rows} lack one of the model's input columns;
   * {@code what} names the rows.
   */
  public void requireInputColumns(Dataset<Row> rows, String what) {
    List<String> missing = new ArrayList<>(info.inputColumns());
    missing.removeAll(List.of(rows.columns()));
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(what, missing, List.of(rows.columns()));
    }
  }

  /**
   * Whether the model's features can be prepared as plain numeric columns ({@link #featureColumns})
   * from rows of this schema: not for a text model (its pipeline embeds the text) nor for a feature
   * that is a vector already. A feature missing from the schema does not say no: {@link
   * #requireInputColumns} names it.
   */
  public boolean plainFeatures(StructType schema) {
    if (!info.textColumns().isEmpty()) {
      return false;
    }
    List<String> names = List.of(schema.fieldNames());
    for (String feature : info.featureColumns()) {
      if (names.contains(feature)) {
        DataType type = schema.apply(feature).dataType();
        if (!(type instanceof NumericType) && !(type instanceof BooleanType)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Whether the model can read its features as plain columns by name: XGBoost 3's models do (their
   * {@value #FEATURES_COLUMNS} parameter), which is the only input xgboost4j-spark-gpu's GPU
   * transform reads; Spark ML's own models read one vector column.
   */
  public boolean readsFeatureColumns() {
    return model.hasParam(FEATURES_COLUMNS);
  }

  /**
   * The rows with the model's outputs and {@link #SCORE}, the model reading its features from
   * {@code columns} (in the order of {@link ModelInfo#featureColumns()}, numeric, missing values
   * NaN). With {@code byName} an XGBoost model reads them by name, with no vector assembled: the
   * only input xgboost4j-spark-gpu's GPU transform (taken whenever the RAPIDS plugin is on) reads.
   * Otherwise, and for any other model, they are assembled into {@link #FEATURES_VECTOR} first. Not
   * by name on a CPU: XGBoost 3.4.0's CPU transform, given feature columns by name, adds its
   * feature array to the rows but not to their schema, so every output lands one column off (the
   * margin where the probability should be; ScoreJobTest saw it). Not for text models, whose
   * pipeline builds its own vector.
   */
  public Dataset<Row> scoreColumns(Dataset<Row> rows, List<String> columns, boolean byName) {
    if (!info.textColumns().isEmpty()) {
      throw new IllegalStateException("a text model embeds its text itself: use score()");
    }
    if (columns.size() != info.featureColumns().size()) {
      throw new IllegalStateException(
          "the model reads " + info.featureColumns().size() + " features, not " + columns.size());
    }
    return withScore(transformColumns(model, rows, columns, byName), info.task());
  }

  /**
   * {@code model}'s outputs on {@code rows}, the model reading its features from {@code columns}
   * (numeric, missing values NaN): by name with {@code byName} where the model can (an XGBoost
   * model; see {@link #scoreColumns}), else from {@link #FEATURES_VECTOR} assembled from them. A
   * model trained on columns by name reads its vector here all the same ({@link #readingVector}).
   */
  public static Dataset<Row> transformColumns(
      Model<?> model, Dataset<Row> rows, List<String> columns, boolean byName) {
    if (byName && model.hasParam(FEATURES_COLUMNS)) {
      return readingColumns(model, columns).transform(rows);
    }
    return readingVector(model).transform(assemble(rows, columns));
  }

  /** A copy of the (XGBoost) model that reads its features from {@code columns} by name. */
  public Model<?> readingColumns(List<String> columns) {
    return readingColumns(model, columns);
  }

  /** A copy of the (XGBoost) {@code model} that reads its features from {@code columns} by name. */
  @SuppressWarnings("unchecked")
  public static Model<?> readingColumns(Model<?> model, List<String> columns) {
    org.apache.spark.ml.param.Param<String[]> names =
        (org.apache.spark.ml.param.Param<String[]>) (Object) model.getParam(FEATURES_COLUMNS);
    return (Model<?>)
        model.copy(
            new org.apache.spark.ml.param.ParamMap().put(names, columns.toArray(new String[0])));
  }

  /**
   * {@code model} as it reads {@link #FEATURES_VECTOR}: a model fitted on feature columns by name
   * (training under RAPIDS) keeps their names in {@value #FEATURES_COLUMNS}, and XGBoost 3.4.0's
   * CPU transform, seeing those columns in the rows, reads them instead of the vector and puts its
   * outputs one column off (see {@link #scoreColumns}). The copy has that parameter cleared: the
   * model every CPU path reads, and the one training saves, as a model fitted on the vector is. Any
   * other model is returned as it is.
   */
  public static Model<?> readingVector(Model<?> model) {
    if (!model.hasParam(FEATURES_COLUMNS) || !model.isSet(model.getParam(FEATURES_COLUMNS))) {
      return model;
    }
    Model<?> copy = (Model<?>) model.copy(new org.apache.spark.ml.param.ParamMap());
    copy.clear(copy.getParam(FEATURES_COLUMNS));
    return copy;
  }

  /**
   * The name of the {@code index}th feature prepared as a plain column ({@link
   * #withFeatureColumns}).
   */
  public static String featureColumn(int index) {
    return "kiln_feature_" + index;
  }

  /** The names of {@code count} prepared feature columns, in order. */
  public static List<String> featureColumnNames(int count) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add(featureColumn(i));
    }
    return names;
  }

  /**
   * A feature's value as every model in Kiln reads it: a double, a missing value (null) as NaN,
   * which XGBoost treats as missing. Built-in expressions, which RAPIDS runs on the GPU.
   */
  public static Column featureValue(String column) {
    return coalesce(col(column).cast(DataTypes.DoubleType), lit(Double.NaN));
  }

  /**
   * Each of {@code features} (numeric or boolean) as its own prepared column, {@link
   * #featureColumn}(i), in order ({@link #featureValue}): the columns xgboost4j-spark-gpu reads by
   * name, in scoring and in training under RAPIDS, with no vector assembled.
   */
  public static List<Column> featureColumns(List<String> features) {
    List<Column> columns = new ArrayList<>();
    for (int i = 0; i < features.size(); i++) {
      columns.add(featureValue(features.get(i)).as(featureColumn(i)));
    }
    return columns;
  }

  /** {@code rows} with {@link #featureColumns} of {@code features} added. */
  public static Dataset<Row> withFeatureColumns(Dataset<Row> rows, List<String> features) {
    List<Column> all = new ArrayList<>();
    all.add(col("*"));
    all.addAll(featureColumns(features));
    return rows.select(all.toArray(new Column[0]));
  }

  /**
   * Adds {@link #SCORE} to the output of a model that read {@link #FEATURES_VECTOR}, and drops that
   * vector.
   */
  public static Dataset<Row> withScore(Dataset<Row> transformed, Task task) {
    Dataset<Row> scored = transformed.drop(FEATURES_VECTOR);
    return task == Task.CLASSIFIER
        ? scored.withColumn(
            SCORE,
            org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64").getItem(1))
        : scored.withColumn(SCORE, col("prediction"));
  }

  /**
   * Adds the feature vector, always dense; missing values (null) become NaN, which XGBoost treats
   * as missing.
   */
  public static Dataset<Row> assemble(Dataset<Row> rows, List<String> featureColumns) {
    return rows.withColumn(FEATURES_VECTOR, denseVector(rows.schema(), featureColumns));
  }

  /**
   * The feature vector of {@code columns} (numeric or boolean, null as NaN; vector columns appended
   * slot by slot) as a DenseVector, whatever its zeros. Not Spark's VectorAssembler: it stores a
   * row with many zeros as a SparseVector, and xgboost4j-spark 3.4.0's CPU transform builds a
   * corrupt matrix from one (dmlc/xgboost#12347, fixed in 3.4.1): such rows get wrong predictions
   * or crash the JVM in native code. Every vector XGBoost reads in Kiln comes from here.
   */
  public static Column denseVector(StructType schema, List<String> columns) {
    if (columns.isEmpty()) {
      throw new IllegalStateException("a feature vector needs at least one column");
    }
    List<Column> parts = new ArrayList<>();
    for (String column : columns) {
      DataType type = schema.apply(column).dataType();
      if (type instanceof VectorUDT) {
        parts.add(org.apache.spark.ml.functions.vector_to_array(col(column), "float64"));
      } else if (type instanceof NumericType || type instanceof BooleanType) {
        parts.add(array(featureValue(column)));
      } else {
        // the jobs check their feature columns' types first: reaching here is an internal fault
        throw new IllegalStateException(
            "the feature column " + column + " is " + type.simpleString() + ", not numeric");
      }
    }
    return org.apache.spark.ml.functions.array_to_vector(
        parts.size() == 1 ? parts.get(0) : concat(parts.toArray(new Column[0])));
  }

  /**
   * SHA-256 over the model's files (relative path and content, in path order; Hadoop's .crc files
   * left out).
   */
  public String sha256() {
    Path root = directory.resolve(MODEL_DIRECTORY);
    try (Stream<Path> walk = Files.walk(root)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path file :
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().endsWith(".crc"))
              .sorted()
              .toList()) {
        digest.update(
            root.relativize(file)
                .toString()
                .replace('\\', '/')
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
          .map(directory::relativize)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
