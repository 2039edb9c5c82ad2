package kiln.jobs;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.tracking.TrackedRun;
import kiln.cost.Cost;
import kiln.cost.CostLine;
import kiln.cost.CostRecord;
import kiln.cost.CostTable;
import kiln.cost.ModelPrice;
import kiln.cost.PriceCatalog;
import kiln.cost.Pricing;
import kiln.cost.TokenUsage;
import kiln.cost.Usage;
import kiln.cost.UsageListener;
import kiln.llm.LlmPrice;
import kiln.llm.LlmRunResult;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * The cost of one job run: usage measured from the run's start by the session's {@link
 * UsageListener}, priced with the catalog, logged to the run ({@code cost.*}, {@code usage.*}) and
 * appended to the cost table. Recording a cost never fails the job: a failure to record it is said
 * and the job goes on.
 *
 * <p>Set through the settings' Spark conf (so that a settings file, {@code --conf} or spark-submit
 * give it): {@value #TAG_PREFIX}KEY tags the run (also {@code --tag KEY=VALUE}), {@value #PRICES} a
 * price catalog file, {@value #TABLE} the cost table (default WORKDIR/cost), {@value #SPOT} true on
 * spot capacity, and {@value UsageListener#GPU_TYPE} the executors' GPU model.
 */
final class JobCost {
  static final String TAG_PREFIX = "spark.kiln.tag.";
  static final String PRICES = "spark.kiln.cost.prices";
  static final String TABLE = "spark.kiln.cost.table";
  static final String SPOT = "spark.kiln.cost.spot";

  /**
   * The run tag an LLM job sets to its engine type: {@code local} models' tokens are priced by the
   * catalog's localTokens (their hardware is in the core- and GPU-seconds).
   */
  static final String LLM_ENGINE = "kiln.llm.engine";

  private final KilnSettings settings;
  private final String job;
  private final Console console;
  private final Instant start;
  private final UsageListener.Mark mark;
  private final boolean localModel;

  /** The parent run's id of a nested run (the demo's steps), recorded so reports count it once. */
  private final String parentRunId;

  private JobCost(
      KilnSettings settings,
      String job,
      Console console,
      Instant start,
      UsageListener.Mark mark,
      boolean localModel,
      String parentRunId) {
    this.settings = settings;
    this.job = job;
    this.console = console;
    this.start = start;
    this.mark = mark;
    this.localModel = localModel;
    this.parentRunId = parentRunId;
  }

  static JobCost start(
      KilnSettings settings, String job, Map<String, String> runTags, Console console) {
    SparkSession spark = activeSpark();
    return new JobCost(
        settings,
        job,
        console,
        Instant.now(),
        spark == null ? null : UsageListener.attach(spark).mark(),
        "local".equals(runTags.get(LLM_ENGINE)),
        runTags.get("mlflow.parentRunId"));
  }

  /**
   * Measures, prices, logs and stores the run's cost; {@code result} gives an LLM job's tokens (and
   * its {@code price:}, which replaces the catalog's entry for its model). Returns the cost, or
   * null when it could not be recorded (said, never failing the job).
   */
  Cost record(TrackedRun run, Object result) {
    try {
      SparkSession spark = activeSpark();
      Map<String, String> conf = conf(spark);
      Usage usage;
      if (spark == null) {
        usage = Usage.none(start, Instant.now());
      } else {
        // a session made during the run: measured from when it was made
        UsageListener.Mark from =
            mark != null ? mark : new UsageListener.Mark(start.toEpochMilli(), Map.of());
        usage = UsageListener.attach(spark).since(from, spark.sparkContext());
      }
      List<TokenUsage> tokens = List.of();
      // the demo's LLM step carries its LLM run's result
      LlmRunResult llm =
          result instanceof LlmRunResult r
              ? r
              : result instanceof kiln.jobs.demo.SpamLlmDemo.Result d ? d.llm() : null;
      if (llm != null && llm.model() != null && !llm.alreadyWritten()) {
        tokens = List.of(tokenUsage(llm, localModel));
      } else if (result instanceof TokenSpending spending) {
        tokens = spending.tokenUsage();
      }
      PriceCatalog catalog = catalog(conf);
      Cost cost =
          Pricing.price(
              usage, tokens, catalog, Boolean.parseBoolean(conf.getOrDefault(SPOT, "false")));
      Map<String, Double> metrics = new LinkedHashMap<>(usage.metrics());
      metrics.putAll(cost.metrics());
      run.logMetrics(metrics);
      Map<String, String> tags = tags(conf);
      Map<String, String> runTags = new LinkedHashMap<>();
      runTags.put("cost.catalog_version", catalog.version());
      if (!cost.unknown().isEmpty()) {
        runTags.put("cost.unknown", String.join("; ", cost.unknown()));
      }
      if (!tokens.isEmpty()) {
        // which price the tokens were priced by: the job's own, or the catalog's
        runTags.put("cost.tokens_price", tokenPrices(tokens, catalog));
      }
      tags.forEach((k, v) -> runTags.put("kiln.tag." + k, v));
      run.setTags(runTags);
      console.step(
          String.format(
                  "Cost: %s %s (cpu %.6f, of which idle %.6f; memory %.6f; gpu %s; tokens %s;"
                      + " catalog %s)",
                  cost.total() == null ? "unknown" : String.format("%.6f", cost.total()),
                  cost.currency(),
                  cost.cpu(),
                  cost.idleCpu(),
                  cost.memory(),
                  cost.gpu() == null ? "unknown" : String.format("%.6f", cost.gpu()),
                  cost.tokens() == null ? "unknown" : String.format("%.6f", cost.tokens()),
                  catalog.version())
              + (cost.unknown().isEmpty()
                  ? ""
                  : "; not priced: " + String.join("; ", cost.unknown())));
      if (spark != null && !spark.sparkContext().isStopped()) {
        String table =
            conf.getOrDefault(
                TABLE, settings.workdirPath().resolve("cost").toAbsolutePath().toString());
        new CostTable(spark, table)
            .append(new CostRecord(job, run.id(), rowTags(tags), usage, tokens, cost));
      }
      return cost;
    } catch (RuntimeException e) {
      console.step("Cost not recorded: " + Errors.rootMessage(e));
      return null;
    }
  }

  /**
   * An LLM run's tokens as a run's cost prices them: its model, its tokens, and its job's {@code
   * price:} in place of the catalog's entry ({@code local}: the model ran on the job's executors).
   */
  static TokenUsage tokenUsage(LlmRunResult llm, boolean local) {
    return new TokenUsage(
        llm.model(), llm.promptTokens(), llm.completionTokens(), local, modelPrice(llm));
  }

  /**
   * What {@code tokens} cost, priced as {@link #record} prices a run's tokens (the same catalog,
   * each job's {@code price:} over the catalog's entry), without a run's cores and memory: for
   * comparing the tokens of runs (the prompt gate's cost per row). {@link Cost#tokens()} is null,
   * and {@link Cost#unknown()} says why, when a model has no price.
   */
  static Cost tokenCost(KilnSettings settings, List<TokenUsage> tokens) {
    Instant now = Instant.now();
    return Pricing.price(
        Usage.none(now, now), tokens, catalog(conf(settings, activeSpark())), false);
  }

  /**
   * An LLM job's {@code price:} as the cost module's model price: per 1,000 tokens, or per hour for
   * the hours its engine worked (null without one: the catalog prices the model).
   */
  static ModelPrice modelPrice(LlmRunResult llm) {
    LlmPrice price = llm.price();
    if (price == null) {
      return null;
    }
    return price.perHour() != null
        ? new ModelPrice.PerHour(price.perHour(), llm.engineHours(), price.currency())
        : new ModelPrice.PerThousandTokens(
            price.promptPer1k(), price.completionPer1k(), price.currency());
  }

  /** Each model's price, as priced: "MODEL: PRICE (job price:)" or "MODEL: catalog VERSION". */
  private static String tokenPrices(List<TokenUsage> tokens, PriceCatalog catalog) {
    return String.join(
        "; ",
        tokens.stream()
            .map(
                t ->
                    t.model()
                        + ": "
                        + (t.price() != null
                            ? t.price().describe() + " (the job's price:)"
                            : "catalog " + catalog.version()))
            .distinct()
            .toList());
  }

  /**
   * The catalog a run's cost is priced with (the settings' {@value #PRICES}, else the built-in
   * one), for checks before a job runs.
   */
  static PriceCatalog catalog(KilnSettings settings) {
    return GpuEstimates.catalog(settings);
  }

  /** The catalog named by {@value #PRICES} in {@code conf}, else the built-in one. */
  private static PriceCatalog catalog(Map<String, String> conf) {
    String prices = conf.get(PRICES);
    return PriceCatalog.load(prices == null ? null : Path.of(prices));
  }

  private Map<String, String> conf(SparkSession spark) {
    return conf(settings, spark);
  }

  /** The settings' Spark conf with the running session's {@code spark.kiln.*} over it. */
  private static Map<String, String> conf(KilnSettings settings, SparkSession spark) {
    Map<String, String> conf = new LinkedHashMap<>();
    if (settings.spark() != null && settings.spark().conf() != null) {
      conf.putAll(settings.spark().conf());
    }
    if (spark != null) {
      SparkConf sparkConf = spark.sparkContext().getConf();
      for (Tuple2<String, String> kv : sparkConf.getAll()) {
        if (kv._1().startsWith("spark.kiln.")) {
          conf.put(kv._1(), kv._2());
        }
      }
    }
    return conf;
  }

  /** The cost row's tags: the run's, and a nested run's parent (reports count it once). */
  private Map<String, String> rowTags(Map<String, String> tags) {
    Map<String, String> row = new LinkedHashMap<>(tags);
    if (parentRunId != null) {
      row.put(CostLine.PARENT_TAG, parentRunId);
    }
    return row;
  }

  static Map<String, String> tags(Map<String, String> conf) {
    Map<String, String> tags = new LinkedHashMap<>();
    conf.forEach(
        (k, v) -> {
          if (k.startsWith(TAG_PREFIX) && k.length() > TAG_PREFIX.length()) {
            tags.put(k.substring(TAG_PREFIX.length()), v);
          }
        });
    return tags;
  }

  private static SparkSession activeSpark() {
    return SparkSession.getActiveSession().isDefined()
        ? SparkSession.getActiveSession().get()
        : SparkSession.getDefaultSession().isDefined()
            ? SparkSession.getDefaultSession().get()
            : null;
  }
}
