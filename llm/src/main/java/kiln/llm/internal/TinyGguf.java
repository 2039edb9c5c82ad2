package kiln.llm.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes a tiny llama-architecture GGUF file with random weights and a SentencePiece-style
 * vocabulary (byte fallback plus a few hundred pieces). No real generative weights can be fetched
 * where Kiln is built, so tests and the demo run the real llama.cpp loading and decoding path on
 * this model; its completions are gibberish, but deterministic for a seed.
 */
public final class TinyGguf {
  private static final int EMBED = 64;
  private static final int FFN = 128;
  private static final int LAYERS = 2;
  private static final int HEADS = 4;
  private static final int ALIGN = 32;

  private TinyGguf() {}

  /** Writes the model to {@code file}; the same seed gives the same bytes. */
  public static void write(Path file, long seed) throws IOException {
    List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
    for (int b = 0; b < 256; b++) {
      tokens.add(String.format("<0x%02X>", b));
      types.add(6);
    }
    String chars =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-()<>_@/";
    for (char c : chars.toCharArray()) {
      tokens.add(String.valueOf(c));
      tokens.add("\u2581" + c);
    }
    for (String w :
        List.of(
            "the",
            "is",
            "this",
            "spam",
            "ham",
            "ticket",
            "mail",
            "and",
            "to",
            "of",
            "classify",
            "answer")) {
      tokens.add("\u2581" + w);
    }
    tokens.add("\u2581");
    while (types.size() < tokens.size()) {
      types.add(1);
    }
    int vocab = tokens.size();

    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("token_embd.weight", new long[] {EMBED, vocab});
    shapes.put("output_norm.weight", new long[] {EMBED});
    for (int i = 0; i < LAYERS; i++) {
      String p = "blk." + i + ".";
      shapes.put(p + "attn_norm.weight", new long[] {EMBED});
      shapes.put(p + "attn_q.weight", new long[] {EMBED, EMBED});
      shapes.put(p + "attn_k.weight", new long[] {EMBED, EMBED});
      shapes.put(p + "attn_v.weight", new long[] {EMBED, EMBED});
      shapes.put(p + "attn_output.weight", new long[] {EMBED, EMBED});
      shapes.put(p + "ffn_norm.weight", new long[] {EMBED});
      shapes.put(p + "ffn_gate.weight", new long[] {EMBED, FFN});
      shapes.put(p + "ffn_down.weight", new long[] {FFN, EMBED});
      shapes.put(p + "ffn_up.weight", new long[] {EMBED, FFN});
    }

    Buf head = new Buf();
    head.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(shapes.size()).u64(17);
    head.key("general.architecture").u32(8).str("llama");
    head.key("general.name").u32(8).str("kiln-tiny-random");
    head.key("general.alignment").u32(4).u32(ALIGN);
    head.key("llama.context_length").u32(4).u32(4096);
    head.key("llama.embedding_length").u32(4).u32(EMBED);
    head.key("llama.block_count").u32(4).u32(LAYERS);
    head.key("llama.feed_forward_length").u32(4).u32(FFN);
    head.key("llama.attention.head_count").u32(4).u32(HEADS);
    head.key("llama.attention.head_count_kv").u32(4).u32(HEADS);
    head.key("llama.attention.layer_norm_rms_epsilon").u32(6).f32(1e-5f);
    head.key("llama.rope.dimension_count").u32(4).u32(EMBED / HEADS);
    head.key("tokenizer.ggml.model").u32(8).str("llama");
    head.key("tokenizer.ggml.tokens").u32(9).u32(8).u64(vocab);
    tokens.forEach(head::str);
    head.key("tokenizer.ggml.scores").u32(9).u32(6).u64(vocab);
    for (int i = 0; i < vocab; i++) {
      // longer pieces score higher, so that words win over their letters
      head.f32(types.get(i) == 1 ? tokens.get(i).length() - 10f : 0f);
    }
    head.key("tokenizer.ggml.token_type").u32(9).u32(5).u64(vocab);
    types.forEach(head::u32);
    head.key("tokenizer.ggml.bos_token_id").u32(4).u32(1);
    head.key("tokenizer.ggml.eos_token_id").u32(4).u32(2);

    long offset = 0;
    for (Map.Entry<String, long[]> t : shapes.entrySet()) {
      head.str(t.getKey()).u32(t.getValue().length);
      for (long d : t.getValue()) {
        head.u64(d);
      }
      head.u32(0).u64(offset); // type F32
      offset = align(offset + 4 * count(t.getValue()));
    }
    Random random = new Random(seed);
    try (OutputStream out = Files.newOutputStream(file)) {
      byte[] header = head.bytes();
      out.write(header);
      out.write(new byte[(int) (align(header.length) - header.length)]);
      for (Map.Entry<String, long[]> t : shapes.entrySet()) {
        long n = count(t.getValue());
        ByteBuffer data = ByteBuffer.allocate((int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN);
        boolean norm = t.getKey().contains("norm");
        for (long i = 0; i < n; i++) {
          data.putFloat(norm ? 1f : (float) (random.nextGaussian() * 0.5));
        }
        out.write(data.array());
        out.write(new byte[(int) (align(4 * n) - 4 * n)]);
      }
    }
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private static long align(long n) {
    return (n + ALIGN - 1) / ALIGN * ALIGN;
  }

  /** Little-endian GGUF primitives. */
  private static final class Buf {
    private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    Buf raw(byte[] b) {
      out.write(b, 0, b.length);
      return this;
    }

    Buf u32(int v) {
      scratch.clear();
      return raw(java.util.Arrays.copyOf(scratch.putInt(v).array(), 4));
    }

    Buf u64(long v) {
      scratch.clear();
      return raw(scratch.putLong(v).array().clone());
    }

    Buf f32(float v) {
      scratch.clear();
      return raw(java.util.Arrays.copyOf(scratch.putFloat(v).array(), 4));
    }

    Buf str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return u64(b.length).raw(b);
    }

    Buf key(String k) {
      return str(k);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
