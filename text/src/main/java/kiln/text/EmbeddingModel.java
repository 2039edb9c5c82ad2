package kiln.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import kiln.core.Errors;

/**
 * A sentence-embedding model as Spark NLP loads it: a directory with {@value #ONNX_FILE} and
 * {@value #VOCABULARY_FILE}. Either one Kiln ships (an ONNX model inside a Maven jar on the
 * classpath, unpacked once per JVM) or a directory the user gives.
 *
 * @param name what the config named: a built-in model's name or the directory
 * @param directory the directory Spark NLP reads
 * @param dimension the length of the vectors
 * @param maxTokens the tokens a text is cut to (the model's own sequence length)
 */
public record EmbeddingModel(String name, Path directory, int dimension, int maxTokens) {
  public static final String ONNX_FILE = "model.onnx";
  public static final String VOCABULARY_FILE = "assets/vocab.txt";

  /**
   * all-MiniLM-L6-v2, quantized (Apache-2.0), from langchain4j's Maven jar: 384 dimensions, trained
   * on texts of up to 256 word pieces.
   */
  public static final String ALL_MINILM_L6_V2_Q = "all-minilm-l6-v2-q";

  /** The model Kiln uses when a config names none. */
  public static final String DEFAULT = ALL_MINILM_L6_V2_Q;

  private static final Map<String, Builtin> BUILTIN =
      Map.of(
          ALL_MINILM_L6_V2_Q,
          new Builtin("all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", 384, 256));

  /** Built-in models unpacked in this JVM: once each, however many jobs use them. */
  private static final Map<String, Path> UNPACKED = new ConcurrentHashMap<>();

  public EmbeddingModel {
    Objects.requireNonNull(name, "name is null");
    Objects.requireNonNull(directory, "directory is null");
    if (dimension < 1 || maxTokens < 1) {
      throw new IllegalArgumentException("dimension and maxTokens must be positive");
    }
  }

  private record Builtin(String onnx, String tokenizer, int dimension, int maxTokens) {}

  /** The names of the models Kiln ships. */
  public static List<String> builtins() {
    return List.copyOf(new java.util.TreeSet<>(BUILTIN.keySet()));
  }

  /**
   * A built-in model by name, or a directory holding {@value #ONNX_FILE} and {@value
   * #VOCABULARY_FILE} (a BERT-style model with mean pooling: {@code dimension} must be given for
   * those).
   */
  public static EmbeddingModel resolve(String nameOrDirectory, Integer dimension) {
    Objects.requireNonNull(nameOrDirectory, "nameOrDirectory is null");
    Builtin builtin = BUILTIN.get(nameOrDirectory);
    if (builtin != null) {
      Path directory = UNPACKED.computeIfAbsent(nameOrDirectory, n -> unpack(n, builtin));
      return new EmbeddingModel(
          nameOrDirectory, directory, builtin.dimension(), builtin.maxTokens());
    }
    Path directory = Path.of(nameOrDirectory);
    if (!Files.isDirectory(directory)) {
      throw Errors.notFound(
          "embedding model '"
              + nameOrDirectory
              + "' is neither a model Kiln ships ("
              + String.join(", ", builtins())
              + ") nor a directory",
          "name a built-in model, or give a directory with "
              + ONNX_FILE
              + " and "
              + VOCABULARY_FILE);
    }
    List<String> missing = new ArrayList<>();
    for (String file : List.of(ONNX_FILE, VOCABULARY_FILE)) {
      if (!Files.isRegularFile(directory.resolve(file))) {
        missing.add(file);
      }
    }
    if (!missing.isEmpty()) {
      throw Errors.badInput(
          "embeddings directory " + directory + " has no " + String.join(" and no ", missing),
          "put the model's ONNX file at "
              + ONNX_FILE
              + " and its word-piece vocabulary (one token a line, in id order) at "
              + VOCABULARY_FILE);
    }
    if (dimension == null || dimension < 1) {
      throw Errors.badInput(
          "the embedding model in " + directory + " needs its vector length",
          "give the dimension of its vectors (e.g. dimension: 384)");
    }
    return new EmbeddingModel(nameOrDirectory, directory, dimension, 512);
  }

  /**
   * Writes the jar's ONNX file and a vocabulary made from its tokenizer.json to a new directory in
   * the JVM's temp directory, deleted when the JVM exits.
   */
  private static Path unpack(String name, Builtin builtin) {
    try {
      Path directory = Files.createTempDirectory("kiln-embeddings-" + name + "-");
      Files.createDirectories(directory.resolve(VOCABULARY_FILE).getParent());
      try (InputStream onnx = resource(builtin.onnx())) {
        Files.copy(onnx, directory.resolve(ONNX_FILE), StandardCopyOption.REPLACE_EXISTING);
      }
      try (InputStream tokenizer = resource(builtin.tokenizer())) {
        Files.write(
            directory.resolve(VOCABULARY_FILE),
            vocabulary(new ObjectMapper().readTree(tokenizer)),
            StandardCharsets.UTF_8);
      }
      directory.toFile().deleteOnExit();
      directory.resolve("assets").toFile().deleteOnExit();
      directory.resolve(ONNX_FILE).toFile().deleteOnExit();
      directory.resolve(VOCABULARY_FILE).toFile().deleteOnExit();
      return directory;
    } catch (IOException e) {
      throw Errors.environment(
          "cannot unpack the embedding model " + name + ": " + e.getMessage(),
          "give the JVM a writable temp directory (java.io.tmpdir)",
          e);
    }
  }

  private static InputStream resource(String path) {
    InputStream in = EmbeddingModel.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw Errors.environment(
          "the embedding model file " + path + " is not on the classpath",
          "run with the kiln jar, which holds the built-in embedding models");
    }
    return in;
  }

  /**
   * The word pieces of a Hugging Face WordPiece tokenizer.json ({@code model.vocab}: token to id),
   * one a line in id order: the {@code vocab.txt} BERT tokenizers read.
   */
  static List<String> vocabulary(JsonNode tokenizer) {
    JsonNode vocab = tokenizer.path("model").path("vocab");
    if (!vocab.isObject() || vocab.isEmpty()) {
      throw new UncheckedIOException(
          new IOException("tokenizer.json has no model.vocab object (not a WordPiece tokenizer)"));
    }
    TreeMap<Integer, String> byId = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      byId.put(entry.getValue().asInt(), entry.getKey());
    }
    if (byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
      throw new UncheckedIOException(
          new IOException("tokenizer.json's vocabulary ids are not 0.." + (byId.size() - 1)));
    }
    return new ArrayList<>(byId.values());
  }
}
