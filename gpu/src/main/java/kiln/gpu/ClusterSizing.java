package kiln.gpu;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/**
 * Executor sizes for a node type, as spark-defaults settings: the rules the RAPIDS Accelerator's
 * tuning guide and its tools' auto-tuner document, written down here (no code of theirs is used).
 *
 * <p>GPU nodes:
 *
 * <ul>
 *   <li>one executor per GPU (RAPIDS runs one GPU per executor), {@code
 *       spark.executor.resource.gpu.amount=1};
 *   <li>the node's cores shared among its executors, at most {@link #MAX_GPU_EXECUTOR_CORES} each
 *       (more cores than that mostly wait for the GPU); {@code spark.task.resource.gpu.amount} is
 *       {@code 1 / cores}, rounded down so that every core can run a task;
 *   <li>{@code spark.rapids.sql.concurrentGpuTasks}: one task on the GPU per {@link
 *       #GPU_GIB_PER_CONCURRENT_TASK} GiB of GPU memory, from 1 to 4 (the auto-tuner's documented
 *       output for a 16 GB T4 is 2);
 *   <li>pinned host memory {@code spark.rapids.memory.pinnedPool.size}: 4 GiB, or an eighth of the
 *       executor's memory if that is less;
 *   <li>memory: the node's memory less {@link #reservedMib} for the OS and the node's daemons,
 *       shared among the executors; of each share, the overhead is the pinned pool plus 10% of the
 *       heap (the auto-tuner's documented example: 4096m + 10% of 32768m = 7372m).
 * </ul>
 *
 * <p>CPU nodes: executors of {@link #CPU_EXECUTOR_CORES} cores (Kiln's spark-cpu.conf), memory
 * shared the same way with Spark's own overhead (10% of the heap, at least 384 MiB). No RAPIDS or
 * GPU setting is given.
 */
public final class ClusterSizing {
  static final int MAX_GPU_EXECUTOR_CORES = 16;
  static final int GPU_GIB_PER_CONCURRENT_TASK = 8;
  static final int CPU_EXECUTOR_CORES = 4;
  static final long PINNED_MAX_MIB = 4096;
  static final String CATALOG = "kiln/node-types.yaml";

  /** A node type as its provider publishes it; GPU fields are null for CPU-only types. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record NodeType(
      int cores, double memoryGib, Integer gpus, String gpu, Double gpuMemoryGib) {
    public NodeType {
      if (cores < 1 || memoryGib < 2) {
        throw new IllegalStateException(
            "a node needs a core and 2 GiB, got " + cores + ", " + memoryGib);
      }
      if ((gpus == null) != (gpuMemoryGib == null) || (gpus != null && gpus < 1)) {
        throw new IllegalStateException("gpus and gpuMemoryGib go together, gpus at least 1");
      }
    }

    public int gpuCount() {
      return gpus == null ? 0 : gpus;
    }
  }

  record Catalog(Map<String, NodeType> aws) {}

  /** The sized settings, in spark-defaults order, and how each was reached. */
  public record Sizing(
      String nodeType,
      NodeType node,
      Integer nodes,
      Map<String, String> settings,
      List<String> notes) {
    public Sizing {
      requireNonNull(nodeType, "nodeType is null");
      requireNonNull(node, "node is null");
      settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
      notes = List.copyOf(notes);
    }

    /** The settings as spark-defaults lines, with the notes as comments. */
    public String sparkDefaults() {
      StringBuilder out = new StringBuilder();
      out.append("# kiln cluster size --node-type ").append(nodeType);
      if (nodes != null) {
        out.append(" --nodes ").append(nodes);
      }
      out.append('\n');
      notes.forEach(n -> out.append("# ").append(n).append('\n'));
      settings.forEach((k, v) -> out.append(String.format(Locale.ROOT, "%-44s%s%n", k, v)));
      return out.toString();
    }
  }

  private final Map<String, NodeType> types;

  private ClusterSizing(Map<String, NodeType> types) {
    this.types = types;
  }

  /** The committed catalog (this module's {@code kiln/node-types.yaml}). */
  public static ClusterSizing catalog() {
    try (InputStream in = ClusterSizing.class.getClassLoader().getResourceAsStream(CATALOG)) {
      if (in == null) {
        throw new IllegalStateException(CATALOG + " is missing from kiln-gpu: the build is broken");
      }
      Catalog catalog =
          YamlFiles.parse(
              new String(in.readAllBytes(), StandardCharsets.UTF_8), CATALOG, Catalog.class);
      return new ClusterSizing(new TreeMap<>(catalog.aws()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Map<String, NodeType> types() {
    return java.util.Collections.unmodifiableMap(types);
  }

  /**
   * Sizes executors for {@code nodeType}; {@code nodes} (nullable) adds {@code
   * spark.executor.instances}. An unknown type is bad input naming the known ones.
   */
  public Sizing size(String nodeType, Integer nodes) {
    NodeType node = types.get(nodeType);
    if (node == null) {
      throw Errors.badInput(
          "node type '" + nodeType + "' is not in Kiln's catalog (" + CATALOG + ")",
          "use one of: " + String.join(", ", types.keySet()) + "; or add it to the catalog");
    }
    if (nodes != null && nodes < 1) {
      throw Errors.badInput(
          "--nodes must be at least 1, got " + nodes, "give the number of worker nodes");
    }
    return node.gpuCount() > 0 ? gpu(nodeType, node, nodes) : cpu(nodeType, node, nodes);
  }

  /** Memory left for executors on a node: 10% of it, at least 2 GiB, goes to the OS and daemons. */
  static long reservedMib(NodeType node) {
    long total = (long) (node.memoryGib() * 1024);
    return Math.max(2048, total / 10);
  }

  private Sizing gpu(String name, NodeType node, Integer nodes) {
    int executors = node.gpuCount();
    int cores = Math.max(1, Math.min(MAX_GPU_EXECUTOR_CORES, node.cores() / executors));
    long share = ((long) (node.memoryGib() * 1024) - reservedMib(node)) / executors;
    long pinned = Math.min(PINNED_MAX_MIB, share / 8);
    long heap = (long) Math.floor((share - pinned) / 1.1);
    long overhead = share - heap;
    int concurrent =
        (int)
            Math.max(1, Math.min(4, Math.floor(node.gpuMemoryGib() / GPU_GIB_PER_CONCURRENT_TASK)));
    Map<String, String> s = new LinkedHashMap<>();
    s.put("spark.plugins", Rapids.PLUGIN);
    s.put("spark.rapids.sql.enabled", "true");
    s.put("spark.executor.cores", String.valueOf(cores));
    s.put("spark.executor.memory", heap + "m");
    s.put("spark.executor.memoryOverhead", overhead + "m");
    s.put("spark.executor.resource.gpu.amount", "1");
    s.put("spark.task.resource.gpu.amount", taskShare(cores));
    s.put("spark.rapids.sql.concurrentGpuTasks", String.valueOf(concurrent));
    s.put("spark.rapids.memory.pinnedPool.size", pinned + "m");
    s.put("spark.sql.files.maxPartitionBytes", "512m");
    if (nodes != null) {
      s.put("spark.executor.instances", String.valueOf(nodes * executors));
    }
    List<String> notes = new ArrayList<>();
    notes.add(
        String.format(
            Locale.ROOT,
            "%s: %d cores, %s GiB, %d x %s (%s GB): %d executor(s) per node, one per GPU",
            name,
            node.cores(),
            number(node.memoryGib()),
            executors,
            node.gpu(),
            number(node.gpuMemoryGib()),
            executors));
    notes.add(
        "cores per executor: the node's cores per GPU, at most "
            + MAX_GPU_EXECUTOR_CORES
            + "; a task takes 1/"
            + cores
            + " of the GPU so that every core runs one");
    notes.add(
        "concurrentGpuTasks: one per "
            + GPU_GIB_PER_CONCURRENT_TASK
            + " GiB of GPU memory, 1 to 4; pinned pool: 4 GiB or an eighth of the executor's memory");
    notes.add(
        "memory: "
            + reservedMib(node)
            + " MiB of the node left to the OS and daemons; overhead = pinned pool + 10% of the heap");
    return new Sizing(name, node, nodes, s, notes);
  }

  private Sizing cpu(String name, NodeType node, Integer nodes) {
    int cores = Math.min(CPU_EXECUTOR_CORES, node.cores());
    int executors = Math.max(1, node.cores() / cores);
    long share = ((long) (node.memoryGib() * 1024) - reservedMib(node)) / executors;
    // Spark's default overhead: 10% of the heap, at least 384 MiB
    long heap = Math.min((long) Math.floor(share / 1.1), share - 384);
    long overhead = share - heap;
    Map<String, String> s = new LinkedHashMap<>();
    s.put("spark.executor.cores", String.valueOf(cores));
    s.put("spark.executor.memory", heap + "m");
    s.put("spark.executor.memoryOverhead", overhead + "m");
    s.put("spark.task.cpus", "1");
    if (nodes != null) {
      s.put("spark.executor.instances", String.valueOf(nodes * executors));
    }
    List<String> notes = new ArrayList<>();
    notes.add(
        String.format(
            Locale.ROOT,
            "%s: %d cores, %s GiB, no GPU: %d executor(s) of %d cores per node",
            name,
            node.cores(),
            number(node.memoryGib()),
            executors,
            cores));
    notes.add(
        "memory: "
            + reservedMib(node)
            + " MiB of the node left to the OS and daemons; overhead = 10% of the heap, at least"
            + " 384 MiB (Spark's default)");
    return new Sizing(name, node, nodes, s, notes);
  }

  /** {@code 1 / cores}, rounded down at the fourth decimal (rounding up would lose a task). */
  static String taskShare(int cores) {
    if (cores == 1) {
      return "1";
    }
    java.math.BigDecimal share =
        java.math.BigDecimal.ONE.divide(
            java.math.BigDecimal.valueOf(cores), 4, java.math.RoundingMode.DOWN);
    return share.stripTrailingZeros().toPlainString();
  }

  private static String number(double value) {
    return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
  }
}
