package kiln.text.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.johnsnowlabs.nlp.annotators.common.IndexedToken;
import com.johnsnowlabs.nlp.annotators.common.Sentence;
import com.johnsnowlabs.nlp.annotators.common.TokenPiece;
import com.johnsnowlabs.nlp.annotators.tokenizer.wordpiece.BasicTokenizer;
import com.johnsnowlabs.nlp.annotators.tokenizer.wordpiece.WordpieceEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/**
 * Sentence embeddings of Spark NLP document annotations with a BERT-style ONNX model, run by ONNX
 * Runtime in Kiln's own stage: Spark NLP's DocumentAssembler makes the documents and Spark NLP's
 * own BERT tokenizer (BasicTokenizer and WordpieceEncoder, as its E5Embeddings uses them) cuts them
 * into word pieces; the model runs here, mean-pooled over each text's own attention mask and
 * L2-normalized, as E5Embeddings does for one text.
 *
 * <p>Why not E5Embeddings itself: Spark NLP 5.5.3 pools every text of a batch with the first text's
 * mask (LinAlg.expandAttentionMask reads column 0), and its pooling (Breeze matrices filled element
 * by element through boxed closures) costs about half as much CPU again as the model on 256 word
 * pieces; its ONNX session also takes 6 intra-op threads by default whatever the cores. Here each
 * task runs the model with {@code spark.task.cpus} threads and pooling is a plain loop. Batches
 * mask each text's padding, but a dynamically quantized model's vectors still depend on the batch
 * (activations are quantized with the whole input's range): Kiln runs one text at a time.
 *
 * <p>The model (ONNX bytes and vocabulary) travels with the stage: saved under its directory, sent
 * to executors as one broadcast, and opened once per executor JVM (sessions are cached by the
 * model's SHA-256 and thread count, and shared by that JVM's tasks).
 */
public final class OnnxSentenceEmbeddings extends VectorStage<OnnxSentenceEmbeddings>
    implements MLWritable {
  private static final long serialVersionUID = 1L;

  static final String MODEL_DIRECTORY = "model";
  static final String ONNX_FILE = "model.onnx";
  static final String VOCABULARY_FILE = "vocab.txt";

  private final IntParam maxTokens;
  private final IntParam batchSize;
  private final BooleanParam caseSensitive;

  /** The model on the driver; executors get it through {@link #broadcast}. */
  private transient OnnxModel model;

  private transient Broadcast<OnnxModel> broadcast;

  public OnnxSentenceEmbeddings() {
    this(Identifiable$.MODULE$.randomUID("kilnOnnxSentenceEmbeddings"));
  }

  public OnnxSentenceEmbeddings(String uid) {
    super(uid, "Spark NLP's document annotations");
    maxTokens =
        new IntParam(this, "maxTokens", "word pieces a text is cut to, [CLS] and [SEP] included");
    batchSize = new IntParam(this, "batchSize", "texts per model run (padding is masked)");
    caseSensitive = new BooleanParam(this, "caseSensitive", "false for uncased vocabularies");
    setDefault(batchSize, 1);
    setDefault(caseSensitive, false);
  }

  /**
   * The model's ONNX bytes and word-piece vocabulary (one token a line, in id order).
   *
   * @param sha256 the ONNX file's digest: the key executors cache the opened model by
   */
  record OnnxModel(String sha256, byte[] onnx, List<String> vocabulary) implements Serializable {
    OnnxModel {
      Objects.requireNonNull(sha256, "sha256 is null");
      Objects.requireNonNull(onnx, "onnx is null");
      vocabulary = List.copyOf(vocabulary);
    }

    static OnnxModel of(byte[] onnx, List<String> vocabulary) {
      try {
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(onnx));
        return new OnnxModel(sha, onnx, vocabulary);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("this JVM has no SHA-256", e);
      }
    }
  }

  /** Reads the model from a directory holding model.onnx and assets/vocab.txt. */
  public OnnxSentenceEmbeddings setModel(java.nio.file.Path directory) {
    try {
      byte[] onnx = java.nio.file.Files.readAllBytes(directory.resolve(ONNX_FILE));
      List<String> vocabulary =
          java.nio.file.Files.readAllLines(
              directory.resolve("assets").resolve(VOCABULARY_FILE), StandardCharsets.UTF_8);
      // the model must open before it is used: a bad file is found here, not in a task
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
          OrtSession session = OrtEnvironment.getEnvironment().createSession(onnx, options)) {
        if (!session.getInputNames().containsAll(List.of("input_ids", "attention_mask"))) {
          throw new IllegalArgumentException(
              "the ONNX model's inputs are "
                  + session.getInputNames()
                  + ", not those of a BERT-style encoder (input_ids, attention_mask)");
        }
      } catch (OrtException e) {
        throw new IllegalArgumentException("ONNX Runtime cannot open " + ONNX_FILE + ": " + e, e);
      }
      for (String special : List.of("[CLS]", "[SEP]", "[UNK]")) {
        if (!vocabulary.contains(special)) {
          throw new IllegalArgumentException(
              "the vocabulary has no " + special + " token (not a BERT word-piece vocabulary)");
        }
      }
      model = OnnxModel.of(onnx, vocabulary);
      broadcast = null;
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public OnnxSentenceEmbeddings setMaxTokens(int value) {
    set(maxTokens, value);
    return this;
  }

  public OnnxSentenceEmbeddings setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  public OnnxSentenceEmbeddings setCaseSensitive(boolean value) {
    set(caseSensitive, value);
    return this;
  }

  // Spark ML finds a stage's params through public methods returning them

  public IntParam maxTokens() {
    return maxTokens;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public BooleanParam caseSensitive() {
    return caseSensitive;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!Arrays.asList(schema.fieldNames()).contains($(inputCol()))) {
      // only Kiln's own pipeline puts this stage after the DocumentAssembler: an internal fault
      throw new IllegalStateException("OnnxSentenceEmbeddings needs the column " + $(inputCol()));
    }
    List<String> drop = Arrays.asList($(dropCols()));
    StructField[] kept =
        Arrays.stream(schema.fields())
            .filter(f -> !drop.contains(f.name()))
            .toArray(StructField[]::new);
    return new StructType(kept).add($(outputCol()), SQLDataTypes.VectorType(), false);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType in = dataset.schema();
    StructType out = transformSchema(in);
    List<String> drop = Arrays.asList($(dropCols()));
    int[] kept =
        java.util.stream.IntStream.range(0, in.size())
            .filter(i -> !drop.contains(in.fields()[i].name()))
            .toArray();
    Embed embed =
        new Embed(
            broadcast(dataset.sparkSession()),
            in.fieldIndex($(inputCol())),
            kept,
            new Settings(
                (Integer) $(dimension()),
                (Integer) $(maxTokens),
                (Integer) $(batchSize),
                (Boolean) $(caseSensitive)));
    return dataset.toDF().mapPartitions(embed, Encoders.row(out));
  }

  private synchronized Broadcast<OnnxModel> broadcast(SparkSession spark) {
    if (model == null) {
      throw new IllegalStateException("OnnxSentenceEmbeddings has no model (setModel)");
    }
    if (broadcast == null) {
      broadcast = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(model);
    }
    return broadcast;
  }

  @Override
  public Transformer copy(ParamMap extra) {
    OnnxSentenceEmbeddings copy = new OnnxSentenceEmbeddings(uid());
    copyValues(copy, extra);
    copy.model = model;
    return copy;
  }

  /** The parameters a task needs (the stage itself stays on the driver). */
  record Settings(int dimension, int maxTokens, int batchSize, boolean caseSensitive)
      implements Serializable {}

  /** A partition's rows in batches: each row keeps its kept columns and gains its vector. */
  private static final class Embed implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<OnnxModel> model;
    private final int documentIndex;
    private final int[] kept;
    private final Settings settings;

    Embed(Broadcast<OnnxModel> model, int documentIndex, int[] kept, Settings settings) {
      this.model = model;
      this.documentIndex = documentIndex;
      this.kept = kept;
      this.settings = settings;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      TaskContext task = TaskContext.get();
      int threads = task == null ? 1 : Math.max(1, task.cpus());
      Encoder encoder = Encoder.of(model.value(), threads, settings.caseSensitive());
      return new Iterator<>() {
        private final List<Row> pending = new ArrayList<>();
        private int next;

        @Override
        public boolean hasNext() {
          return next < pending.size() || rows.hasNext();
        }

        @Override
        public Row next() {
          if (next == pending.size()) {
            if (!rows.hasNext()) {
              throw new NoSuchElementException();
            }
            fill();
          }
          return pending.get(next++);
        }

        private void fill() {
          List<Row> batch = new ArrayList<>(settings.batchSize());
          while (batch.size() < settings.batchSize() && rows.hasNext()) {
            batch.add(rows.next());
          }
          List<String> texts = new ArrayList<>(batch.size());
          for (Row row : batch) {
            texts.add(document(row));
          }
          float[][] vectors = encoder.embed(texts, settings.maxTokens(), settings.dimension());
          pending.clear();
          next = 0;
          for (int r = 0; r < batch.size(); r++) {
            Object[] values = new Object[kept.length + 1];
            for (int k = 0; k < kept.length; k++) {
              values[k] = batch.get(r).get(kept[k]);
            }
            double[] vector = new double[settings.dimension()];
            if (vectors[r] != null) {
              for (int d = 0; d < vector.length; d++) {
                vector[d] = vectors[r][d];
              }
            }
            values[kept.length] = Vectors.dense(vector);
            pending.add(RowFactory.create(values));
          }
        }
      };
    }

    /** The first document annotation's text, or null when the row has none (no text). */
    private String document(Row row) {
      if (row.isNullAt(documentIndex)) {
        return null;
      }
      List<Row> annotations = row.getList(documentIndex);
      if (annotations.isEmpty()) {
        return null;
      }
      return annotations.get(0).getAs("result");
    }
  }

  /**
   * An opened model: the ONNX session and Spark NLP's tokenizers over its vocabulary. One per model
   * and thread count in a JVM, shared by its tasks (ONNX Runtime sessions are thread-safe).
   */
  static final class Encoder {
    private static final Map<String, Encoder> OPEN = new ConcurrentHashMap<>();

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final boolean tokenTypes;
    private final scala.collection.immutable.Map<String, Object> vocabulary;
    private final boolean caseSensitive;
    private final int cls;
    private final int sep;

    static Encoder of(OnnxModel model, int threads, boolean caseSensitive) {
      return OPEN.computeIfAbsent(
          model.sha256() + "/" + threads + "/" + caseSensitive,
          key -> new Encoder(model, threads, caseSensitive));
    }

    private Encoder(OnnxModel model, int threads, boolean caseSensitive) {
      Map<String, Object> ids = new HashMap<>();
      List<String> lines = model.vocabulary();
      for (int i = 0; i < lines.size(); i++) {
        ids.put(lines.get(i), i); // the last of duplicate lines, as Spark NLP's vocabulary map
      }
      vocabulary = scalaMap(ids);
      this.caseSensitive = caseSensitive;
      cls = (Integer) ids.get("[CLS]");
      sep = (Integer) ids.get("[SEP]");
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        // a task's share of the cores: spark.task.cpus (1 unless set), not ONNX Runtime's
        // default of every core, which oversubscribes the cores when tasks run side by side
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(model.onnx(), options);
        tokenTypes = session.getInputNames().contains("token_type_ids");
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime cannot open the embedding model", e);
      }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static scala.collection.immutable.Map<String, Object> scalaMap(
        Map<String, Object> map) {
      return (scala.collection.immutable.Map<String, Object>)
          scala.collection.JavaConverters.mapAsScalaMapConverter(map)
              .asScala()
              .toMap((scala.Predef.$less$colon$less) scala.Predef$.MODULE$.$conforms());
    }

    /** [CLS] word pieces [SEP] of one text, cut to {@code maxTokens} in all. */
    long[] ids(String text, int maxTokens) {
      // new per call: cheap, and Spark NLP does not promise they are thread-safe
      BasicTokenizer basic =
          new BasicTokenizer(caseSensitive, BasicTokenizer.$lessinit$greater$default$2());
      WordpieceEncoder pieces =
          new WordpieceEncoder(
              vocabulary,
              WordpieceEncoder.$lessinit$greater$default$2(),
              WordpieceEncoder.$lessinit$greater$default$3(),
              WordpieceEncoder.$lessinit$greater$default$4());
      List<Integer> out = new ArrayList<>();
      Sentence sentence = new Sentence(text, 0, Math.max(0, text.length() - 1), 0, Option.empty());
      outer:
      for (IndexedToken token : basic.tokenize(sentence)) {
        for (TokenPiece piece : pieces.encode(token)) {
          if (out.size() == maxTokens - 2) {
            break outer;
          }
          out.add(piece.pieceId());
        }
      }
      long[] ids = new long[out.size() + 2];
      ids[0] = cls;
      for (int i = 0; i < out.size(); i++) {
        ids[i + 1] = out.get(i);
      }
      ids[ids.length - 1] = sep;
      return ids;
    }

    /**
     * The L2-normalized mean of the last hidden states over each text's own tokens; null for a null
     * text.
     */
    float[][] embed(List<String> texts, int maxTokens, int dimension) {
      float[][] out = new float[texts.size()][];
      List<long[]> encoded = new ArrayList<>();
      List<Integer> rows = new ArrayList<>();
      int longest = 0;
      for (int r = 0; r < texts.size(); r++) {
        if (texts.get(r) != null && !texts.get(r).isBlank()) {
          long[] ids = ids(texts.get(r), maxTokens);
          encoded.add(ids);
          rows.add(r);
          longest = Math.max(longest, ids.length);
        }
      }
      if (encoded.isEmpty()) {
        return out;
      }
      int batch = encoded.size();
      long[][] ids = new long[batch][longest];
      long[][] mask = new long[batch][longest];
      for (int b = 0; b < batch; b++) {
        long[] text = encoded.get(b);
        System.arraycopy(text, 0, ids[b], 0, text.length);
        Arrays.fill(mask[b], 0, text.length, 1L);
      }
      Map<String, OnnxTensor> inputs = new HashMap<>();
      try (OnnxTensor idTensor = OnnxTensor.createTensor(env, ids);
          OnnxTensor maskTensor = OnnxTensor.createTensor(env, mask);
          OnnxTensor typeTensor = OnnxTensor.createTensor(env, new long[batch][longest])) {
        inputs.put("input_ids", idTensor);
        inputs.put("attention_mask", maskTensor);
        if (tokenTypes) {
          inputs.put("token_type_ids", typeTensor);
        }
        try (OrtSession.Result result = session.run(inputs)) {
          OnnxTensor hidden =
              (OnnxTensor) result.get("last_hidden_state").orElseGet(() -> result.get(0));
          long[] shape = hidden.getInfo().getShape();
          if (shape.length != 3 || shape[2] != dimension) {
            throw new IllegalStateException(
                "the embedding model's output has shape "
                    + Arrays.toString(shape)
                    + ", not (batch, tokens, "
                    + dimension
                    + ")");
          }
          FloatBuffer states = hidden.getFloatBuffer();
          for (int b = 0; b < batch; b++) {
            int length = encoded.get(b).length;
            double[] sum = new double[dimension];
            int base = b * longest * dimension;
            for (int t = 0; t < length; t++) {
              int at = base + t * dimension;
              for (int d = 0; d < dimension; d++) {
                sum[d] += states.get(at + d);
              }
            }
            double norm = 0;
            for (int d = 0; d < dimension; d++) {
              sum[d] /= length;
              norm += sum[d] * sum[d];
            }
            norm = Math.sqrt(norm);
            float[] vector = new float[dimension];
            for (int d = 0; d < dimension; d++) {
              vector[d] = norm == 0 ? 0f : (float) (sum[d] / norm);
            }
            out[rows.get(b)] = vector;
          }
        }
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime failed to embed a batch of texts", e);
      }
      return out;
    }
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  public static MLReader<OnnxSentenceEmbeddings> read() {
    return new Reader();
  }

  /** The params as Spark ML writes them, and the model's two files under {@code model/}. */
  private static final class Writer extends MLWriter {
    private final OnnxSentenceEmbeddings stage;

    Writer(OnnxSentenceEmbeddings stage) {
      this.stage = stage;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sc(), Option.empty(), Option.empty());
      org.apache.hadoop.fs.Path directory = new org.apache.hadoop.fs.Path(path, MODEL_DIRECTORY);
      try {
        FileSystem fs = directory.getFileSystem(sc().hadoopConfiguration());
        try (OutputStream onnx = fs.create(new org.apache.hadoop.fs.Path(directory, ONNX_FILE))) {
          onnx.write(stage.model.onnx());
        }
        try (OutputStream vocabulary =
            fs.create(new org.apache.hadoop.fs.Path(directory, VOCABULARY_FILE))) {
          vocabulary.write(
              (String.join("\n", stage.model.vocabulary()) + "\n")
                  .getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static final class Reader extends MLReader<OnnxSentenceEmbeddings> {
    @Override
    public OnnxSentenceEmbeddings load(String path) {
      DefaultParamsReader.Metadata metadata =
          DefaultParamsReader$.MODULE$.loadMetadata(
              path, sc(), OnnxSentenceEmbeddings.class.getName());
      OnnxSentenceEmbeddings stage = new OnnxSentenceEmbeddings(metadata.uid());
      metadata.getAndSetParams(stage, Option.empty());
      org.apache.hadoop.fs.Path directory = new org.apache.hadoop.fs.Path(path, MODEL_DIRECTORY);
      try {
        FileSystem fs = directory.getFileSystem(sc().hadoopConfiguration());
        byte[] onnx = readAll(fs, new org.apache.hadoop.fs.Path(directory, ONNX_FILE));
        String vocabulary =
            new String(
                readAll(fs, new org.apache.hadoop.fs.Path(directory, VOCABULARY_FILE)),
                StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(Arrays.asList(vocabulary.split("\n", -1)));
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
          lines.remove(lines.size() - 1); // after the last line's newline
        }
        stage.model = OnnxModel.of(onnx, lines);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return stage;
    }

    private static byte[] readAll(FileSystem fs, org.apache.hadoop.fs.Path file)
        throws IOException {
      try (InputStream in = fs.open(file)) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        in.transferTo(bytes);
        return bytes.toByteArray();
      }
    }
  }
}
