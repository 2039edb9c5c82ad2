package kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiln.jobs.KilnRun;
import kiln.llm.internal.TinyGguf;
import kiln.tracking.server.TrackingServer;

/**
 * {@code bin/kiln-bench llm-eval [--rows N] [--judge-tokens N] [--slots N] [--no-judge]}: what
 * {@code kiln llm evaluate} costs per 1,000 rows (issue 12), run as its command line runs it (the
 * cost listener and the price catalog included), at three depths: the text checks (length, refusal,
 * PII leak, JSON validity, exact match, classification), the same plus the three MiniLM
 * similarities, and the same plus an LLM judge on the local llama.cpp engine.
 *
 * <p>The judge is Kiln's tiny random-weight GGUF (no real judge model can be fetched here): its
 * time per token is not a real model's, so the judge's figure that carries over is the tokens it
 * reads and writes per row; the table prices those at the catalog's served-model prices as well (an
 * estimate of the same judge on a provider's endpoint). The rows are made up from templates
 * (questions, answers, references, contexts of realistic length), the same for every run.
 */
public final class LlmEvalBenchmark {
  private static final Pattern COST = Pattern.compile("Cost: ([0-9.]+|unknown) USD");
  private static final ObjectMapper JSON = new ObjectMapper();

  private LlmEvalBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rows = 1000;
    int judgeTokens = 32;
    int slots = 2;
    boolean judge = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Integer.parseInt(args[++i]);
        case "--judge-tokens" -> judgeTokens = Integer.parseInt(args[++i]);
        case "--slots" -> slots = Integer.parseInt(args[++i]);
        case "--no-judge" -> judge = false;
        default -> {
          System.err.println(
              "kiln-bench llm-eval: error: unknown argument "
                  + args[i]
                  + "\n  fix: use --rows N, --judge-tokens N, --slots N, --no-judge");
          System.exit(2);
        }
      }
    }
    if (rows < 10 || judgeTokens < 1 || slots < 1) {
      System.err.println(
          "kiln-bench llm-eval: error: --rows must be >= 10 and --judge-tokens, --slots >= 1"
              + "\n  fix: e.g. --rows 1000 --judge-tokens 32 --slots 2");
      System.exit(2);
    }
    Path work = Files.createTempDirectory("kiln-bench-llm-eval-");
    Path model = work.resolve("judge.gguf");
    TinyGguf.write(model, 11);
    Path data = work.resolve("golden.jsonl");
    Files.write(data, goldenRows(rows), StandardCharsets.UTF_8);
    System.out.printf(
        Locale.ROOT,
        "[bench] llm-eval: %d rows, judge %s (%d tokens, %d slots), load average %.2f at start%n",
        rows,
        judge ? "on the local engine" : "off",
        judgeTokens,
        slots,
        load());

    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(work.resolve("mlflow"))
            .build()
            .start()) {
      Path settings = work.resolve("kiln.yaml");
      Files.writeString(
          settings,
          "workdir: "
              + work.resolve("work")
              + "\ntracking:\n  uri: "
              + server.uri()
              + "\n  experiment: bench-llm-eval\n"
              + "spark:\n  conf:\n    spark.ui.showConsoleProgress: 'false'\n");
      String table = work.resolve("golden").toString();
      check(
          KilnRun.kiln(
              "ingest",
              "--source",
              data.toString(),
              "--format",
              "json",
              "--output",
              table,
              "--settings",
              settings.toString()));
      Path template = work.resolve("judge.txt");
      Files.writeString(
          template,
          "Grade the answer from 1 to 5 for correctness.\nQuestion: {{prompt}}\n"
              + "Answer: {{completion}}\nExpected: {{reference}}\n"
              + "Reply as JSON with score and rationale.");
      check(
          KilnRun.kiln(
              "prompts",
              "register",
              "--name",
              "judge-correctness",
              "--template",
              template.toString(),
              "--settings",
              settings.toString()));

      String text = "[length, refusal, pii_leak, json_valid, exact_match, classification]";
      String similar =
          "[length, refusal, pii_leak, json_valid, exact_match, classification,"
              + " similarity_to_reference, groundedness, relevance_to_query]";
      String judgeBlock =
          "judges:\n  - name: correctness\n    prompt: {name: judge-correctness, version: 1}\n"
              + "    engine: {type: local, model: tiny-judge, modelPath: '"
              + model
              + "', maxTokens: "
              + judgeTokens
              + ", slots: "
              + slots
              + ", contextSize: 2048}\n";
      List<String[]> depths = new ArrayList<>();
      depths.add(new String[] {"text checks", text, ""});
      depths.add(new String[] {"+ MiniLM similarities", similar, ""});
      if (judge) {
        depths.add(new String[] {"+ LLM judge (local, tiny)", similar, judgeBlock});
      }
      // a warm-up of the heaviest depth, so that no depth pays the JVM's and models' first load
      run(work, settings, table, "warm-up", depths.get(depths.size() - 1), 0);

      List<String> lines = new ArrayList<>();
      for (int d = 0; d < depths.size(); d++) {
        String[] depth = depths.get(d);
        Outcome o = run(work, settings, table, depth[0], depth, d + 1);
        double perK = 1000.0 / rows;
        String judgeCols = "| | |";
        if (o.judgePromptTokens > 0 || o.judgeCompletionTokens > 0) {
          double in = o.judgePromptTokens / (double) rows;
          double out = o.judgeCompletionTokens / (double) rows;
          // the catalog's gpt-4o-mini prices (cost/catalog/prices.yaml), per 1,000 tokens
          double provider = (in * 1000 * 0.00015 + out * 1000 * 0.0006) / 1000.0;
          judgeCols =
              String.format(Locale.ROOT, "| %.0f in + %.0f out | %.4f |", in, out, provider);
        }
        lines.add(
            String.format(
                Locale.ROOT,
                "| %s | %d | %.1f | %.1f | %s %s",
                depth[0],
                rows,
                o.seconds,
                o.seconds * perK,
                o.cost == null ? "unknown" : String.format(Locale.ROOT, "%.6f", o.cost * perK),
                judgeCols));
      }
      System.out.printf(Locale.ROOT, "[bench] load average %.2f at the end%n", load());
      System.out.println(
          "| evaluation | rows | wall (s) | s per 1k rows | cost per 1k rows, USD (measured:"
              + " cores, memory; catalog) | judge tokens per row | judge at gpt-4o-mini prices,"
              + " USD per 1k rows (ESTIMATE) |");
      System.out.println("|---|---|---|---|---|---|---|");
      lines.forEach(System.out::println);
    }
    System.exit(0);
  }

  private record Outcome(
      double seconds, Double cost, long judgePromptTokens, long judgeCompletionTokens) {}

  private static Outcome run(
      Path work, Path settings, String table, String label, String[] depth, int index)
      throws Exception {
    Path config = work.resolve("eval-" + index + ".yaml");
    Files.writeString(
        config,
        "input: "
            + table
            + "\nkey: id\n"
            + "columns: {prompt: question, completion: answer, reference: expected, context:"
            + " context}\n"
            + "labelField: label\n"
            + "metrics: "
            + depth[1]
            + "\n"
            + depth[2]
            + "output: "
            + work.resolve("eval-rows-" + index)
            + "\n");
    long start = System.nanoTime();
    KilnRun r =
        KilnRun.kiln(
            "llm",
            "evaluate",
            "--config",
            config.toString(),
            "--json",
            "--settings",
            settings.toString());
    double seconds = (System.nanoTime() - start) / 1e9;
    check(r);
    Matcher m = COST.matcher(r.output());
    Double cost = null;
    if (m.find() && !m.group(1).equals("unknown")) {
      cost = Double.parseDouble(m.group(1));
    }
    JsonNode agg = JSON.readTree(r.out()).path("aggregates");
    long in = agg.path("correctness_prompt_tokens").asLong(0);
    long out = agg.path("correctness_completion_tokens").asLong(0);
    System.out.printf(
        Locale.ROOT,
        "[bench] %s: %.1f s, cost %s USD, judge tokens %d in / %d out, load %.2f%n",
        label,
        seconds,
        cost == null ? "unknown" : String.format(Locale.ROOT, "%.6f", cost),
        in,
        out,
        load());
    return new Outcome(seconds, cost, in, out);
  }

  /** Question, answer (a JSON label, a sentence, or a refusal), reference and context per row. */
  static List<String> goldenRows(int rows) throws Exception {
    String[] topics = {
      "the parcel arrived late and the box was damaged",
      "the invoice lists a product that was never ordered",
      "the login page rejects a password that worked yesterday",
      "the refund has not reached the card after ten days",
      "the mobile app crashes when a photo is attached",
      "the subscription renewed although it was cancelled"
    };
    List<String> out = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      String topic = topics[i % topics.length];
      boolean complaint = (i * 7919) % 3 != 0;
      String label = complaint ? "complaint" : "question";
      String answer =
          switch (i % 5) {
            case 0, 1, 2 -> "{\"label\": \"" + (i % 10 == 1 ? "question" : label) + "\"}";
            case 3 -> "The customer writes that " + topic + " (ticket " + i + ").";
            default -> "I'm sorry, I cannot help with that.";
          };
      var row = JSON.createObjectNode();
      row.put("id", i);
      row.put(
          "question",
          "Classify ticket " + i + " as complaint or question: the customer says " + topic + ".");
      row.put("answer", answer);
      row.put("expected", "{\"label\": \"" + label + "\"}");
      row.put(
          "context",
          "Ticket "
              + i
              + " was opened by the customer on the web form. They report that "
              + topic
              + ". Support replied within a day and asked for the order number.");
      out.add(JSON.writeValueAsString(row));
    }
    return out;
  }

  private static double load() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static void check(KilnRun r) {
    if (r.exitCode() != 0) {
      throw new IllegalStateException("kiln exited " + r.exitCode() + ":\n" + r.output());
    }
  }
}
