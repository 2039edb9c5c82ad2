package kiln.jobs.llmeval;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import kiln.drift.Derivation;
import kiln.drift.DriftResult;
import kiln.drift.FeatureDrift;
import kiln.drift.Histogram;
import kiln.drift.Role;
import kiln.drift.Verdict;
import kiln.llm.GgufTokenizer;
import kiln.llm.PiiConfig;
import kiln.llm.PiiPipeline;
import kiln.text.EmbeddingModel;
import kiln.text.SentenceEmbeddings;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * Drift of an LLM job's text columns (prompts or outputs) between two periods, composed of
 * kiln-drift, kiln-text and kiln-llm: each text column becomes numeric and categorical columns the
 * drift module already compares (length in characters, tokens, refusal, PII leak), and, apart, its
 * sentence embeddings are compared: a domain classifier's AUC (can a model tell the periods apart?)
 * and the distance between the periods' mean embeddings with a permutation p-value.
 */
public final class TextDrift {
  /** Above this AUC a domain classifier tells the periods apart well enough to call it drift. */
  public static final double DEFAULT_MIN_AUC = 0.6;

  /** Rows embedded per side at most: the statistics need hundreds, not millions. */
  public static final int DEFAULT_SAMPLE = 1000;

  static final int PERMUTATIONS = 500;
  static final int BINS = 10;

  private final SparkSession spark;
  private final List<String> columns;
  private final String refusalPattern;
  private final String embeddings;
  private final double minAuc;
  private final int sample;
  private final String tokenizer;

  public TextDrift(
      SparkSession spark,
      List<String> columns,
      String refusalPattern,
      String embeddings,
      Double minAuc,
      Integer sample,
      String tokenizer) {
    this.spark = Objects.requireNonNull(spark, "spark is null");
    this.columns = List.copyOf(columns);
    this.refusalPattern = refusalPattern == null ? EvalConfig.DEFAULT_REFUSAL : refusalPattern;
    this.embeddings = embeddings == null ? EmbeddingModel.DEFAULT : embeddings;
    this.minAuc = minAuc == null ? DEFAULT_MIN_AUC : minAuc;
    this.sample = sample == null ? DEFAULT_SAMPLE : sample;
    if (tokenizer != null) {
      GgufTokenizer.check(tokenizer);
    }
    this.tokenizer = tokenizer;
    if (this.minAuc <= 0.5 || this.minAuc > 1) {
      throw kiln.core.Errors.badInput(
          "the domain classifier's AUC threshold must be above 0.5 and at most 1, got " + minAuc,
          "e.g. 0.6: the periods are told apart 60% of the time");
    }
    if (this.sample < 20) {
      throw kiln.core.Errors.badInput(
          "the embedding sample must be at least 20 rows a side, got " + sample, "e.g. 1000");
    }
  }

  /**
   * How a text column's length in tokens is measured, best first; the drift report names the
   * feature after it ({@code <c>_tokens} or {@code <c>_words}), so a count of words is never shown
   * as tokens.
   */
  public enum LengthMeasure {
    /**
     * The engine's own counts, recorded with the text: an LLM output table's {@code prompt_tokens}
     * for {@code prompt} and {@code completion_tokens} for {@code completion} (any numeric {@code
     * <c>_tokens} column beside a text column {@code c}, on both sides).
     */
    RECORDED_TOKENS("_tokens", "tokens as the engine counted them (column %s_tokens)"),
    /** Counted with the job's GGUF model's tokenizer, as {@code kiln llm run}'s local engine. */
    TOKENIZER_TOKENS("_tokens", "tokens by the tokenizer of %2$s"),
    /** Neither known: whitespace-separated words. */
    WORDS("_words", "whitespace-separated words (no recorded token counts, no --tokenizer)");

    private final String suffix;
    private final String description;

    LengthMeasure(String suffix, String description) {
      this.suffix = suffix;
      this.description = description;
    }

    /** The derived feature's name for text column {@code column}. */
    public String feature(String column) {
      return column + suffix;
    }

    /** What the feature counts, for the run's params and the summary. */
    public String describe(String column, String tokenizer) {
      return String.format(Locale.ROOT, description, column, tokenizer);
    }
  }

  /**
   * Each text column's length measure given both sides' schemas: the recorded token counts when
   * both sides have them, else the tokenizer when one was given, else words.
   */
  public Map<String, LengthMeasure> lengthMeasures(StructType reference, StructType current) {
    Map<String, LengthMeasure> out = new LinkedHashMap<>();
    for (String c : columns) {
      out.put(
          c,
          recorded(reference, c) && recorded(current, c)
              ? LengthMeasure.RECORDED_TOKENS
              : tokenizer != null ? LengthMeasure.TOKENIZER_TOKENS : LengthMeasure.WORDS);
    }
    return out;
  }

  private static boolean recorded(StructType schema, String column) {
    String name = column + "_tokens";
    return java.util.Arrays.stream(schema.fields())
        .anyMatch(f -> f.name().equals(name) && f.dataType() instanceof NumericType);
  }

  /** The GGUF file whose tokenizer counts tokens (null: none given). */
  public String tokenizer() {
    return tokenizer;
  }

  /**
   * The derivation both sides go through before the drift module profiles them: per text column,
   * {@code <c>_chars}, its length in tokens or words ({@code <c>_tokens} or {@code <c>_words}, by
   * {@code measures}), {@code <c>_refusal} and {@code <c>_pii_leak} ("true"/"false": categories),
   * the text itself dropped (free text is no category).
   */
  public Derivation derivation(Map<String, LengthMeasure> measures) {
    Map<String, LengthMeasure> chosen = Map.copyOf(measures);
    String model = tokenizer;
    return new Derivation(
        "text features of " + String.join(",", columns),
        rows -> {
          Dataset<Row> out = rows;
          for (String c : columns) {
            LengthMeasure measure = chosen.getOrDefault(c, LengthMeasure.WORDS);
            Column size =
                switch (measure) {
                  case RECORDED_TOKENS -> col(c + "_tokens").cast("int");
                  case TOKENIZER_TOKENS ->
                      functions
                          .udf(
                              (UDF1<String, Integer>)
                                  t -> t == null ? null : GgufTokenizer.count(model, t),
                              DataTypes.IntegerType)
                          .apply(col(c));
                  case WORDS ->
                      when(col(c).isNull(), lit(null).cast("int"))
                          .when(trim(col(c)).equalTo(""), lit(0))
                          .otherwise(functions.size(split(trim(col(c)), "\\s+")));
                };
            out =
                out.withColumn(c + "_chars", length(col(c)))
                    .withColumn(measure.feature(c), size)
                    .withColumn(c + "_refusal", col(c).rlike(refusalPattern).cast("string"));
            List<PipelineStage> stages =
                PiiPipeline.stages(
                    "kiln_drift_text",
                    "kiln_drift_redacted",
                    "kiln_drift_pii",
                    "kiln_drift_",
                    PiiConfig.defaults(),
                    "disabled");
            Dataset<Row> input = out.withColumn("kiln_drift_text", coalesce(col(c), lit("")));
            PipelineModel pii =
                new Pipeline().setStages(stages.toArray(PipelineStage[]::new)).fit(input.limit(0));
            out =
                pii.transform(input)
                    .withColumn(
                        c + "_pii_leak",
                        when(col(c).isNull(), lit(null).cast("string"))
                            .otherwise(
                                functions
                                    .expr(
                                        "aggregate(map_values(kiln_drift_pii), 0, (a, v) -> a + v)"
                                            + " > 0")
                                    .cast("string")))
                    .drop("kiln_drift_text", "kiln_drift_redacted", "kiln_drift_pii", c);
          }
          return out;
        });
  }

  /** One text column's embedding drift, as a feature row of the drift report. */
  public FeatureDrift embeddingDrift(Dataset<Row> reference, Dataset<Row> current, String column) {
    List<double[]> ref = embed(reference, column);
    List<double[]> cur = embed(current, column);
    String name = column + " (embedding)";
    if (ref.size() < 10 || cur.size() < 10) {
      return new FeatureDrift(
          name,
          Role.FEATURE,
          "embedding",
          Verdict.NO_DATA,
          List.of("fewer than 10 non-empty texts on a side"),
          java.util.Map.of(),
          0,
          Histogram.empty(),
          List.of(),
          List.of(),
          false);
    }
    double[] meanRef = mean(ref);
    double[] meanCur = mean(cur);
    double distance = distance(meanRef, meanCur);
    double pValue = permutationPValue(ref, cur, distance, new Random(42));
    double auc = domainAuc(ref, cur);
    boolean drifted = auc >= minAuc && pValue < 0.05;
    java.util.Map<String, Double> statistics = new java.util.LinkedHashMap<>();
    statistics.put("domain_classifier_auc", auc);
    statistics.put("mean_embedding_distance", distance);
    statistics.put("mean_embedding_p_value", pValue);
    statistics.put("rows_embedded_reference", (double) ref.size());
    statistics.put("rows_embedded_current", (double) cur.size());
    String reason =
        String.format(
            Locale.ROOT,
            "a domain classifier tells the periods apart with AUC %.3f (threshold %.2f); mean"
                + " embeddings %.4f apart, permutation p-value %.4f",
            auc,
            minAuc,
            distance,
            pValue);
    return new FeatureDrift(
        name,
        Role.FEATURE,
        "embedding",
        drifted ? Verdict.DRIFTED : Verdict.STABLE,
        List.of(reason),
        statistics,
        Math.max(0, (auc - 0.5) * 2),
        projection(ref, cur, meanRef, meanCur),
        List.of(),
        List.of(),
        false);
  }

  /**
   * The tabular result with the embedding rows added: the dataset drifted when it did before or
   * when any text column's embeddings drifted (the text is what the model reads or wrote).
   */
  public static DriftResult merge(DriftResult tabular, List<FeatureDrift> embedded) {
    List<FeatureDrift> features = new ArrayList<>(tabular.features());
    features.addAll(embedded);
    List<String> drifted =
        embedded.stream().filter(FeatureDrift::drifted).map(FeatureDrift::name).toList();
    boolean any = tabular.drifted() || !drifted.isEmpty();
    String summary =
        tabular.summary()
            + "; embeddings "
            + (drifted.isEmpty() ? "stable" : "drifted: " + String.join(", ", drifted))
            + (any ? ": DRIFTED" : "");
    return new DriftResult(
        tabular.reference(),
        tabular.current(),
        tabular.referenceRows(),
        tabular.currentRows(),
        features,
        tabular.driftedShare(),
        any,
        summary,
        tabular.thresholds(),
        tabular.referenceProfileReused());
  }

  /** A side's non-empty texts of {@code column}, at most {@link #sample} of them, embedded. */
  private List<double[]> embed(Dataset<Row> rows, String column) {
    Dataset<Row> texts =
        rows.select(col(column).as("kiln_drift_text"))
            .where(
                col("kiln_drift_text").isNotNull().and(trim(col("kiln_drift_text")).notEqual("")));
    long n = texts.count();
    if (n > sample) {
      texts = texts.sample(false, Math.min(1.0, 1.2 * sample / n), 7L).limit(sample);
    }
    SentenceEmbeddings.Stages stages =
        SentenceEmbeddings.stages(
            spark, List.of("kiln_drift_text"), EmbeddingModel.resolve(embeddings, null), null);
    Dataset<Row> embedded = texts;
    for (Transformer stage : stages.stages()) {
      embedded = stage.transform(embedded);
    }
    List<double[]> out = new ArrayList<>();
    for (Row r : embedded.select(stages.outputColumn()).collectAsList()) {
      out.add(((Vector) r.get(0)).toArray());
    }
    return out;
  }

  static double[] mean(List<double[]> vectors) {
    double[] m = new double[vectors.get(0).length];
    for (double[] v : vectors) {
      for (int i = 0; i < m.length; i++) {
        m[i] += v[i];
      }
    }
    for (int i = 0; i < m.length; i++) {
      m[i] /= vectors.size();
    }
    return m;
  }

  static double distance(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(s);
  }

  /**
   * The share of random relabellings of the pooled vectors whose means lie at least as far apart as
   * the periods' (with the observed labelling counted, so it is never 0).
   */
  static double permutationPValue(
      List<double[]> ref, List<double[]> cur, double observed, Random random) {
    List<double[]> pooled = new ArrayList<>(ref);
    pooled.addAll(cur);
    int dim = pooled.get(0).length;
    double[] total = new double[dim];
    for (double[] v : pooled) {
      for (int i = 0; i < dim; i++) {
        total[i] += v[i];
      }
    }
    int n = ref.size();
    int m = cur.size();
    int[] index = new int[pooled.size()];
    for (int i = 0; i < index.length; i++) {
      index[i] = i;
    }
    int atLeast = 0;
    for (int p = 0; p < PERMUTATIONS; p++) {
      // a partial Fisher-Yates shuffle draws the first group; the second is the rest
      double[] first = new double[dim];
      for (int i = 0; i < n; i++) {
        int j = i + random.nextInt(index.length - i);
        int t = index[i];
        index[i] = index[j];
        index[j] = t;
        double[] v = pooled.get(index[i]);
        for (int d = 0; d < dim; d++) {
          first[d] += v[d];
        }
      }
      double s = 0;
      for (int d = 0; d < dim; d++) {
        double a = first[d] / n;
        double b = (total[d] - first[d]) / m;
        s += (a - b) * (a - b);
      }
      if (Math.sqrt(s) >= observed - 1e-12) {
        atLeast++;
      }
    }
    return (atLeast + 1.0) / (PERMUTATIONS + 1.0);
  }

  /**
   * A logistic regression told which period each embedding is from, its AUC on a held-out third
   * (0.5: indistinguishable, 1: fully apart).
   */
  private double domainAuc(List<double[]> ref, List<double[]> cur) {
    List<Row> rows = new ArrayList<>();
    for (double[] v : ref) {
      rows.add(
          org.apache.spark.sql.RowFactory.create(
              0.0, new org.apache.spark.ml.linalg.DenseVector(v)));
    }
    for (double[] v : cur) {
      rows.add(
          org.apache.spark.sql.RowFactory.create(
              1.0, new org.apache.spark.ml.linalg.DenseVector(v)));
    }
    org.apache.spark.sql.types.StructType schema =
        new org.apache.spark.sql.types.StructType()
            .add("label", org.apache.spark.sql.types.DataTypes.DoubleType)
            .add("features", org.apache.spark.ml.linalg.SQLDataTypes.VectorType());
    Dataset<Row> data = spark.createDataFrame(rows, schema);
    Dataset<Row>[] split = data.randomSplit(new double[] {2, 1}, 11L);
    LogisticRegression lr = new LogisticRegression().setMaxIter(50).setRegParam(0.01);
    Dataset<Row> scored = lr.fit(split[0]).transform(split[1]);
    double auc =
        new BinaryClassificationEvaluator()
            .setLabelCol("label")
            .setRawPredictionCol("rawPrediction")
            .setMetricName("areaUnderROC")
            .evaluate(scored);
    return Double.isFinite(auc) ? auc : 0.5;
  }

  /**
   * The plot: both periods projected on the line between their mean embeddings, in equal-width bins
   * over the pooled range (two overlapping humps: no drift; two apart: drift).
   */
  static Histogram projection(
      List<double[]> ref, List<double[]> cur, double[] meanRef, double[] meanCur) {
    double[] direction = new double[meanRef.length];
    double norm = distance(meanRef, meanCur);
    for (int i = 0; i < direction.length; i++) {
      direction[i] = norm == 0 ? 0 : (meanCur[i] - meanRef[i]) / norm;
    }
    double[] r = project(ref, direction);
    double[] c = project(cur, direction);
    double lo =
        Math.min(
            java.util.Arrays.stream(r).min().orElse(0), java.util.Arrays.stream(c).min().orElse(0));
    double hi =
        Math.max(
            java.util.Arrays.stream(r).max().orElse(0), java.util.Arrays.stream(c).max().orElse(0));
    double width = hi > lo ? (hi - lo) / BINS : 1;
    List<String> labels = new ArrayList<>();
    for (int b = 0; b < BINS; b++) {
      labels.add(String.format(Locale.ROOT, "%.3f", lo + b * width));
    }
    return new Histogram(labels, shares(r, lo, width), shares(c, lo, width));
  }

  private static double[] project(List<double[]> vectors, double[] direction) {
    double[] out = new double[vectors.size()];
    for (int k = 0; k < out.length; k++) {
      double s = 0;
      for (int i = 0; i < direction.length; i++) {
        s += vectors.get(k)[i] * direction[i];
      }
      out[k] = s;
    }
    return out;
  }

  private static List<Double> shares(double[] values, double lo, double width) {
    double[] counts = new double[BINS];
    for (double v : values) {
      counts[Math.min(BINS - 1, Math.max(0, (int) ((v - lo) / width)))]++;
    }
    List<Double> out = new ArrayList<>();
    for (double count : counts) {
      out.add(count / values.length);
    }
    return out;
  }
}
