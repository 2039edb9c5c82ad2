package kiln.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.hour;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.rand;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.drift.ChunkValue;
import kiln.drift.DriftConfig;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftResult;
import kiln.drift.Estimation;
import kiln.drift.FeatureDrift;
import kiln.drift.PerformanceEstimate;
import kiln.drift.Thresholds;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/kiln-bench drift --vs evidently,nannyml [--rows 1000000,3000000,30000000]}: Kiln's
 * drift job (every per-column statistic and CBPE) against Evidently's data drift preset and
 * NannyML's univariate drift and CBPE, on the same flights data, each in its own process (Kiln in a
 * fresh JVM, the peers in their own PyPI virtual environments, {@code bin/kiln-python-env
 * evidently|nannyml}); prints each side's seconds and peak resident memory and the agreement of
 * every shared statistic.
 *
 * <p>The data: the flights sample, January-March (reference) against April-June (current), with a
 * classifier's score for CBPE (a fixed formula, see {@link #withScore}) and its label (delay over
 * 15 minutes). 1M rows: a seeded third of the 3M sample; 30M: the 3M sample ten times, copies 1-9
 * with delay and distance moved by a seeded uniform jitter in [-0.5, 0.5) (so that the copies are
 * not duplicates; the distributions are unchanged to the eye).
 *
 * <p>Bounds: a side's process is killed when it exceeds {@code --timeout} seconds (default 1800) or
 * {@code --memory-limit} GB of resident memory (default 8: the machine is shared), and reported as
 * such.
 */
public final class DriftPeersBenchmark {
  static final String FIRST_QUARTER = "date < '2001-04-01'";
  static final String SECOND_QUARTER = "date >= '2001-04-01'";
  static final List<String> FEATURES = List.of("delay", "distance", "origin", "destination");
  private static final ObjectMapper JSON = new ObjectMapper();

  private DriftPeersBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--kiln-side")) {
      kilnSide(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
      System.exit(0);
    }
    List<String> peers = List.of();
    List<Long> sizes = List.of(1_000_000L, 3_000_000L);
    String source = System.getProperty("user.home") + "/.cache/kiln/data/flights-3m.parquet";
    long timeoutSeconds = 1800;
    double memoryLimitGb = 8;
    Path markdown = null;
    Path workRoot = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--vs" -> peers = args[++i].isBlank() ? List.of() : List.of(args[i].split(","));
        case "--rows" -> sizes = parseRows(args[++i]);
        case "--source" -> source = args[++i];
        case "--timeout" -> timeoutSeconds = Long.parseLong(args[++i]);
        case "--memory-limit" -> memoryLimitGb = Double.parseDouble(args[++i]);
        case "--markdown" -> markdown = Path.of(args[++i]);
        case "--work" -> workRoot = Path.of(args[++i]);
        default -> usage("unknown argument '" + args[i] + "'");
      }
    }
    for (String peer : peers) {
      if (!peer.equals("evidently") && !peer.equals("nannyml")) {
        usage("unknown peer '" + peer + "'");
      }
    }
    if (!Files.exists(Path.of(source))) {
      System.err.println(
          "kiln-bench drift: error: the flights sample "
              + source
              + " does not exist\n  fix: fetch it with `bin/kiln-data` (or pass --source FILE)");
      System.exit(2);
    }
    Path home = kilnHome();
    Map<String, Path> pythons = new LinkedHashMap<>();
    for (String peer : peers) {
      pythons.put(peer, venv(home, peer).resolve("bin/python"));
    }
    Path work =
        workRoot == null
            ? Files.createTempDirectory("kiln-bench-drift-peers-")
            : Files.createDirectories(workRoot);
    StringBuilder report = new StringBuilder();
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try {
      for (long rows : sizes) {
        Path dir = work.resolve(rows + "-rows");
        Path reference = dir.resolve("reference.parquet");
        Path current = dir.resolve("current.parquet");
        if (!Files.exists(current)) {
          System.out.println("[bench] writing " + rows + " rows to " + dir);
          prepare(spark, source, rows, reference, current);
        }
        String load = uptime();
        System.out.println("[bench] " + rows + " rows; load: " + load);
        List<Side> sides = new ArrayList<>();
        sides.add(
            run(
                "kiln",
                javaCommand(reference, current, dir.resolve("kiln.json"), memoryLimitGb),
                dir.resolve("kiln.json"),
                timeoutSeconds,
                memoryLimitGb));
        for (String peer : peers) {
          Path out = dir.resolve(peer + ".json");
          sides.add(
              run(
                  peer,
                  List.of(
                      pythons.get(peer).toString(),
                      home.resolve("python/" + peer + "/bench_drift.py").toString(),
                      "--reference",
                      reference.toString(),
                      "--current",
                      current.toString(),
                      "--out",
                      out.toString()),
                  out,
                  timeoutSeconds,
                  memoryLimitGb));
        }
        String section = section(rows, load + " -> " + uptime(), sides);
        System.out.println();
        System.out.println(section);
        report.append(section).append('\n');
        if (markdown != null) {
          Files.writeString(markdown, header(spark) + report);
        }
      }
    } finally {
      spark.stop();
      if (workRoot == null) {
        try (var paths = Files.walk(work)) {
          for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(path);
          }
        }
      }
    }
    System.exit(0);
  }

  static List<Long> parseRows(String text) {
    List<Long> sizes = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.trim().toUpperCase(Locale.ROOT);
      long factor = p.endsWith("M") ? 1_000_000L : 1L;
      sizes.add(Long.parseLong(p.endsWith("M") ? p.substring(0, p.length() - 1) : p) * factor);
    }
    return sizes;
  }

  private static void usage(String problem) {
    System.err.println(
        "kiln-bench drift: error: "
            + problem
            + "\n  fix: bin/kiln-bench drift --vs evidently,nannyml [--rows 1000000,3000000,30000000]"
            + " [--source FLIGHTS.parquet] [--timeout SECONDS] [--memory-limit GB] [--markdown FILE]"
            + " [--work DIR]");
    System.exit(2);
  }

  private static String header(SparkSession spark) {
    return "Measured "
        + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)
        + ", "
        + Runtime.getRuntime().availableProcessors()
        + " cores, Spark "
        + spark.version()
        + " local[*]; each side once, in its own process\n\n";
  }

  /** The flights rows of the size asked for, split into the two quarters, with score and label. */
  static void prepare(SparkSession spark, String source, long rows, Path reference, Path current) {
    Dataset<Row> flights = spark.read().parquet(source);
    long available = flights.count();
    Dataset<Row> sized;
    if (rows <= available) {
      sized = rows == available ? flights : flights.sample(false, (double) rows / available, 18);
    } else {
      int copies = (int) Math.ceil((double) rows / available);
      sized = jittered(flights, 0);
      for (int k = 1; k < copies; k++) {
        sized = sized.unionAll(jittered(flights, k));
      }
    }
    Dataset<Row> scored = withScore(sized);
    scored
        .where(FIRST_QUARTER)
        .drop("date")
        .write()
        .mode("overwrite")
        .parquet(reference.toString());
    scored.where(SECOND_QUARTER).drop("date").write().mode("overwrite").parquet(current.toString());
  }

  /** Copy k of the flights: delay and distance as doubles, moved by a seeded jitter when k > 0. */
  static Dataset<Row> jittered(Dataset<Row> flights, int k) {
    Column delay = col("delay").cast("double");
    Column distance = col("distance").cast("double");
    if (k > 0) {
      delay = delay.plus(rand(1000 + k).minus(0.5));
      distance = distance.plus(rand(2000 + k).minus(0.5));
    }
    return flights.select(
        col("date"), delay.as("delay"), distance.as("distance"), col("origin"), col("destination"));
  }

  /**
   * A classifier's probability of a delay over 15 minutes, a fixed formula standing in for a model
   * (later departures, longer flights and some airports delayed more), over-confident so that
   * calibration matters; the label is the delay over 15 minutes.
   */
  static Dataset<Row> withScore(Dataset<Row> flights) {
    Column airport = pmod(hash(col("origin")), lit(7)).cast("double").divide(6).minus(0.5);
    Column logit =
        lit(-1.4)
            .plus(hour(col("date")).cast("double").minus(12).multiply(0.09))
            .plus(col("distance").cast("double").divide(1000).multiply(0.15))
            .plus(airport.multiply(0.8));
    Column score = lit(1).divide(lit(1).plus(exp(logit.multiply(-1.8))));
    return flights
        .select(
            col("date"),
            col("delay").cast("double").as("delay"),
            col("distance").cast("double").as("distance"),
            col("origin"),
            col("destination"),
            score.as("score"),
            when(col("delay").gt(15), 1).otherwise(0).as("label"))
        .withColumn("y_pred", when(col("score").geq(0.5), 1).otherwise(0));
  }

  /** Kiln's side, in its own JVM: read, compare every column, estimate CBPE; write the result. */
  static void kilnSide(Path reference, Path current, Path out) throws Exception {
    // the JVM's start (before main) and the session's creation, reported apart from the compute
    double jvmStart = ManagementFactory.getRuntimeMXBean().getUptime() / 1e3;
    long sessionStart = System.nanoTime();
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    double session = (System.nanoTime() - sessionStart) / 1e9;
    SparkWork work = new SparkWork();
    spark.sparkContext().addSparkListener(work);
    // every category counted (the peers keep them all), label and score out of the features
    DriftConfig config =
        new DriftConfig(
            FEATURES,
            null,
            null,
            null,
            null,
            Thresholds.defaults(),
            null,
            null,
            1000,
            null,
            null,
            null,
            null,
            null);
    long start = System.nanoTime();
    double cpuStart = SparkWork.processCpuSeconds();
    double gcStart = SparkWork.gcSeconds();
    // where Kiln's time goes: each progress message with the seconds since the start, and the
    // process's CPU and GC seconds (less sensitive to the machine's load than the wall time)
    List<String> progress = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.function.Consumer<String> timed =
        m -> {
          String line =
              String.format(
                  Locale.ROOT,
                  "%7.2f s (CPU %.2f s, GC %.2f s)  %s",
                  (System.nanoTime() - start) / 1e9,
                  SparkWork.processCpuSeconds() - cpuStart,
                  SparkWork.gcSeconds() - gcStart,
                  m);
          progress.add(line);
          System.err.println("[kiln] " + line);
        };
    Dataset<Row> r = spark.read().parquet(reference.toString());
    Dataset<Row> c = spark.read().parquet(current.toString()).drop("label");
    DriftResult result =
        new DriftMonitor(spark, config, timed, null, new Estimation("score", "label", 0.5))
            .compare(r, c);
    double seconds = (System.nanoTime() - start) / 1e9;
    timed.accept("done");
    ObjectNode json = JSON.createObjectNode();
    json.put("tool", "kiln");
    json.putObject("seconds")
        .put("load", 0.0)
        .put("compute", seconds)
        .put("jvm_start", jvmStart)
        .put("spark_session", session)
        .put("compute_cpu", SparkWork.processCpuSeconds() - cpuStart)
        .put("compute_gc", SparkWork.gcSeconds() - gcStart);
    List<SparkWork.Job> jobs = work.jobs();
    json.put("spark_jobs", jobs.size());
    json.put("spark_stages", jobs.stream().mapToInt(SparkWork.Job::stages).sum());
    json.put("spark_tasks", jobs.stream().mapToInt(SparkWork.Job::tasks).sum());
    json.put("spark_task_cpu", jobs.stream().mapToDouble(SparkWork.Job::taskCpuSeconds).sum());
    for (SparkWork.Job job : jobs) {
      json.withArray("jobs").add(job.line());
      System.err.println("[kiln] " + job.line());
    }
    ObjectNode statistics = json.putObject("statistics");
    for (FeatureDrift f : result.features()) {
      ObjectNode column = statistics.putObject(f.name());
      f.statistics().forEach(column::put);
      column.put("exact", f.exact() ? 1.0 : 0.0);
    }
    ObjectNode cbpe = json.putObject("cbpe");
    for (PerformanceEstimate e : result.estimated()) {
      for (ChunkValue v : e.current()) {
        cbpe.put(e.metric(), v.value());
      }
    }
    json.put("summary", result.summary());
    progress.forEach(json.putArray("progress")::add);
    json.put("peak_rss_bytes", peakRss());
    spark.stop();
    Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
  }

  /** This process's peak resident set (VmHWM), in bytes. */
  static long peakRss() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }

  private static List<String> javaCommand(
      Path reference, Path current, Path out, double memoryLimitGb) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    // a JVM fills the heap it is allowed before it collects, so a heap as large as the memory
    // limit (kiln-bench's -Xmx8g against the default 8 GB) gets it killed for memory it does not
    // need: the heap is three quarters of the limit, the rest for Spark's off-heap buffers
    command.add("-Xmx" + Math.max(1024, (long) (memoryLimitGb * 1024 * 0.75)) + "m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(DriftPeersBenchmark.class.getName());
    command.add("--kiln-side");
    command.add(reference.toString());
    command.add(current.toString());
    command.add(out.toString());
    return command;
  }

  /** One side's run: wall seconds, peak resident memory seen, its result or why it has none. */
  record Side(
      String tool,
      double wallSeconds,
      long peakRssSeen,
      double cpuSecondsSeen,
      JsonNode result,
      String failure) {}

  /**
   * Runs a side under the bounds: polls its resident memory (the process and its children) every
   * 200 ms and kills it past the memory limit or the timeout.
   */
  static Side run(
      String tool, List<String> command, Path out, long timeoutSeconds, double memoryLimitGb)
      throws Exception {
    Files.deleteIfExists(out);
    Path log = out.resolveSibling(tool + ".log");
    long start = System.nanoTime();
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long limit = (long) (memoryLimitGb * 1024 * 1024 * 1024);
    long peak = 0;
    double cpu = 0;
    String failure = null;
    while (!process.waitFor(200, TimeUnit.MILLISECONDS)) {
      long rss = rss(process.toHandle());
      peak = Math.max(peak, rss);
      cpu = Math.max(cpu, cpuSeconds(process.toHandle()));
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (rss > limit) {
        failure = String.format(Locale.ROOT, "killed: resident memory over %.0f GB", memoryLimitGb);
      } else if (elapsed > timeoutSeconds) {
        failure = "killed: no result after " + timeoutSeconds + " s";
      }
      if (failure != null) {
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        break;
      }
    }
    double wall = (System.nanoTime() - start) / 1e9;
    if (failure == null && (process.exitValue() != 0 || !Files.exists(out))) {
      List<String> lines = Files.readAllLines(log);
      failure =
          "exit "
              + process.exitValue()
              + ": "
              + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
    }
    System.out.printf(
        Locale.ROOT,
        "[bench] %s: %.1f s wall%s (log %s)%n",
        tool,
        wall,
        failure == null ? "" : ", " + failure,
        log);
    // a side killed after it wrote part of its result (Evidently's extra runs) keeps that part
    return new Side(
        tool, wall, peak, cpu, Files.exists(out) ? PeerAgreement.read(out) : null, failure);
  }

  /**
   * CPU seconds (user and system) of a process and its descendants, with their waited-for children,
   * as last seen while it ran (polled: the last 200 ms may be missing).
   */
  static double cpuSeconds(ProcessHandle process) {
    double total = cpuOf(process.pid());
    for (ProcessHandle child : process.descendants().toList()) {
      total += cpuOf(child.pid());
    }
    return total;
  }

  private static double cpuOf(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // the fields after the command name, which may hold spaces, in parentheses
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks =
          Long.parseLong(f[11])
              + Long.parseLong(f[12])
              + Long.parseLong(f[13])
              + Long.parseLong(f[14]);
      return ticks / 100.0;
    } catch (Exception gone) {
      return 0;
    }
  }

  /** Resident memory of a process and its descendants, in bytes (0 once gone). */
  static long rss(ProcessHandle process) {
    long total = rssOf(process.pid());
    for (ProcessHandle child : process.descendants().toList()) {
      total += rssOf(child.pid());
    }
    return total;
  }

  private static long rssOf(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (Exception gone) {
      // the process ended between the listing and the read
    }
    return 0;
  }

  /** The markdown section of one size: times, memory, agreement. */
  static String section(long rows, String load, List<Side> sides) {
    StringBuilder text = new StringBuilder();
    text.append(String.format(Locale.ROOT, "### %,d rows (load average: %s)%n%n", rows, load));
    text.append(
        "| side | read + compute (s) | of which compute (s) | process wall (s) | process CPU (s)"
            + " | peak resident memory (GB) | result |\n|---|---|---|---|---|---|---|\n");
    JsonNode kiln = null;
    for (Side side : sides) {
      if (side.tool().equals("kiln")) {
        kiln = side.result();
      }
      if (side.result() == null || side.result().path("seconds").path("compute").isMissingNode()) {
        text.append(
            String.format(
                Locale.ROOT,
                "| %s | | | %.1f | %.1f | %.2f (seen) | %s |%n",
                side.tool(),
                side.wallSeconds(),
                side.cpuSecondsSeen(),
                side.peakRssSeen() / 1e9,
                side.failure()));
        continue;
      }
      JsonNode seconds = side.result().path("seconds");
      double compute = seconds.path("compute").asDouble();
      double loadSeconds = seconds.path("load").asDouble();
      text.append(
          String.format(
              Locale.ROOT,
              "| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %s |%n",
              side.tool(),
              loadSeconds + compute,
              compute,
              side.wallSeconds(),
              side.cpuSecondsSeen(),
              Math.max(side.result().path("peak_rss_bytes").asLong(), side.peakRssSeen()) / 1e9,
              (side.tool().equals("kiln") ? "" : "every row, no sampling")
                  + (side.failure() == null ? "" : "; " + side.failure())));
    }
    if (kiln != null && kiln.has("spark_jobs")) {
      JsonNode seconds = kiln.path("seconds");
      text.append(
          String.format(
              Locale.ROOT,
              "%nKiln's process: JVM start %.1f s and Spark session %.1f s before the compute;"
                  + " the compute %.1f s wall, %.1f s CPU (GC %.1f s) in %d Spark jobs, %d stages,"
                  + " %d tasks (tasks' CPU %.1f s). Phases (wall, with the process's CPU and GC"
                  + " since the compute started):%n%n",
              seconds.path("jvm_start").asDouble(),
              seconds.path("spark_session").asDouble(),
              seconds.path("compute").asDouble(),
              seconds.path("compute_cpu").asDouble(),
              seconds.path("compute_gc").asDouble(),
              kiln.path("spark_jobs").asInt(),
              kiln.path("spark_stages").asInt(),
              kiln.path("spark_tasks").asInt(),
              kiln.path("spark_task_cpu").asDouble()));
      kiln.path("progress").forEach(line -> text.append("    ").append(line.asText()).append('\n'));
    }
    if (kiln != null) {
      List<PeerAgreement.Row> rowsCompared = new ArrayList<>();
      for (Side side : sides) {
        if (!side.tool().equals("kiln") && side.result() != null) {
          rowsCompared.addAll(PeerAgreement.compare(kiln, side.result()));
        }
      }
      if (!rowsCompared.isEmpty()) {
        text.append('\n').append(PeerAgreement.markdown(rowsCompared));
      }
    }
    return text.toString();
  }

  private static String uptime() {
    try {
      String line = Files.readString(Path.of("/proc/loadavg")).trim();
      String[] parts = line.split(" ");
      return parts[0] + ", " + parts[1] + ", " + parts[2];
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static Path kilnHome() {
    String home = System.getenv("KILN_HOME");
    if (home != null) {
      return Path.of(home);
    }
    // the benchmarks jar sits in benchmarks/target under the checkout
    Path jar =
        Path.of(
                DriftPeersBenchmark.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .getPath())
            .toAbsolutePath();
    for (Path p = jar; p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("bin/kiln-python-env"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the Kiln checkout above " + jar);
  }

  /** The peer's virtual environment, built (or reused) by bin/kiln-python-env. */
  private static Path venv(Path home, String peer) throws Exception {
    Process process =
        new ProcessBuilder(home.resolve("bin/kiln-python-env").toString(), peer)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String path = new String(process.getInputStream().readAllBytes()).trim();
    if (process.waitFor() != 0) {
      System.err.println(
          "kiln-bench drift: error: bin/kiln-python-env " + peer + " failed (see above)");
      System.exit(3);
    }
    return Path.of(path.lines().reduce((a, b) -> b).orElse(path));
  }
}
