package kiln.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The baseline of the embeddings benchmark: the same ONNX file Kiln's stage runs, run by ONNX
 * Runtime in a plain loop, one text at a time, with a BERT uncased WordPiece tokenizer over the
 * same vocabulary and mean pooling over the attention mask. No Spark, no annotations, no broadcast.
 */
final class EmbeddingsLoop implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final Map<String, Integer> vocabulary = new HashMap<>();
  private final int maxTokens;
  private final int cls;
  private final int sep;
  private final int unk;

  /**
   * @param threads ONNX Runtime's intra-op threads; 0 for its default (one per physical core)
   */
  EmbeddingsLoop(Path directory, int maxTokens, int threads) throws IOException, OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    if (threads > 0) {
      options.setIntraOpNumThreads(threads);
    }
    session = env.createSession(directory.resolve("model.onnx").toString(), options);
    List<String> lines =
        Files.readAllLines(directory.resolve("assets/vocab.txt"), StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      vocabulary.putIfAbsent(lines.get(i), i);
    }
    this.maxTokens = maxTokens;
    cls = vocabulary.get("[CLS]");
    sep = vocabulary.get("[SEP]");
    unk = vocabulary.get("[UNK]");
  }

  /** The mean-pooled embedding of one text. */
  float[] embed(String text) throws OrtException {
    long[] ids = encode(text);
    long[] mask = new long[ids.length];
    java.util.Arrays.fill(mask, 1L);
    long[] types = new long[ids.length];
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try (OnnxTensor idTensor = OnnxTensor.createTensor(env, new long[][] {ids});
        OnnxTensor maskTensor = OnnxTensor.createTensor(env, new long[][] {mask});
        OnnxTensor typeTensor = OnnxTensor.createTensor(env, new long[][] {types})) {
      inputs.put("input_ids", idTensor);
      inputs.put("attention_mask", maskTensor);
      if (session.getInputNames().contains("token_type_ids")) {
        inputs.put("token_type_ids", typeTensor);
      }
      try (OrtSession.Result result = session.run(inputs)) {
        float[][][] hidden = (float[][][]) result.get(0).getValue();
        float[] out = new float[hidden[0][0].length];
        for (float[] token : hidden[0]) {
          for (int d = 0; d < out.length; d++) {
            out[d] += token[d] / hidden[0].length;
          }
        }
        return out;
      }
    }
  }

  /** [CLS] word pieces [SEP], cut to maxTokens. */
  long[] encode(String text) {
    List<Integer> ids = new ArrayList<>();
    ids.add(cls);
    for (String word : basicTokens(text)) {
      wordPieces(word, ids);
      if (ids.size() >= maxTokens - 1) {
        break;
      }
    }
    List<Integer> kept = ids.subList(0, Math.min(ids.size(), maxTokens - 1));
    long[] out = new long[kept.size() + 1];
    for (int i = 0; i < kept.size(); i++) {
      out[i] = kept.get(i);
    }
    out[out.length - 1] = sep;
    return out;
  }

  /**
   * BERT's basic uncased tokenizer: lower case, accents stripped, split at spaces and punctuation.
   */
  static List<String> basicTokens(String text) {
    String folded =
        Normalizer.normalize(text.toLowerCase(Locale.ROOT), Normalizer.Form.NFD)
            .replaceAll("\\p{Mn}", "");
    List<String> out = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < folded.length(); i++) {
      char c = folded.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c)) {
        flush(word, out);
      } else if (!Character.isLetterOrDigit(c)) {
        flush(word, out);
        out.add(String.valueOf(c));
      } else {
        word.append(c);
      }
    }
    flush(word, out);
    return out;
  }

  private static void flush(StringBuilder word, List<String> out) {
    if (word.length() > 0) {
      out.add(word.toString());
      word.setLength(0);
    }
  }

  /** Greedy longest-match-first word pieces; a word with no split is [UNK]. */
  private void wordPieces(String word, List<Integer> ids) {
    if (word.length() > 100) {
      ids.add(unk);
      return;
    }
    List<Integer> pieces = new ArrayList<>();
    int start = 0;
    while (start < word.length()) {
      int end = word.length();
      Integer found = null;
      while (start < end) {
        String piece = (start > 0 ? "##" : "") + word.substring(start, end);
        found = vocabulary.get(piece);
        if (found != null) {
          break;
        }
        end--;
      }
      if (found == null) {
        ids.add(unk);
        return;
      }
      pieces.add(found);
      start = end;
    }
    ids.addAll(pieces);
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
