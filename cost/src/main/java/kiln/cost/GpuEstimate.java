package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;

/**
 * An ESTIMATE, not a measurement: what jobs run on CPUs would have cost on the {@code gpu} profile.
 * Per job: the share {@code coverage} of its work that RAPIDS would run on the GPU (the operator
 * share {@code kiln gpu check} measures, taken as the share of time) runs {@code speedup} times
 * faster and the rest as fast, so the run takes {@code ratio = (1 - coverage) + coverage / speedup}
 * of its CPU time (Amdahl's law); the same executors run that long (CPU and memory cost × ratio)
 * and each also holds one GPU per {@code coresPerGpu} cores for that time (GPU-hours = CPU
 * core-hours × ratio / coresPerGpu, priced at the catalog's {@code gpuType}). Tokens cost the same.
 * A pure function of the cost table's lines.
 *
 * @param assumptions what the estimate assumes, said with every estimate
 * @param jobs per job that ran on CPU and has a coverage figure, the costliest first
 * @param notMeasured jobs that ran on CPU but have no coverage figure (no estimate for them)
 */
public record GpuEstimate(Assumptions assumptions, List<Job> jobs, List<String> notMeasured) {

  /** The label every estimate carries. */
  public static final String LABEL =
      "ESTIMATE (not measured on a GPU): RAPIDS explain-only coverage and an assumed speed-up";

  /**
   * @param speedup how many times faster the GPU runs the GPU-eligible share, > 0
   * @param gpuType the GPU model priced from the catalog
   * @param coresPerGpu executor cores per GPU (the gpu profile gives one GPU per executor, so its
   *     spark.executor.cores), >= 1
   * @param source where the speed-up comes from, said with the estimate
   */
  public record Assumptions(double speedup, String gpuType, int coresPerGpu, String source) {
    public Assumptions {
      if (!(speedup > 0) || Double.isInfinite(speedup)) {
        throw Errors.badInput(
            "a GPU speed-up of " + speedup + ": it must be a positive number",
            "give the times faster the GPU runs the eligible work, e.g. --gpu-speedup 2");
      }
      if (coresPerGpu < 1) {
        throw Errors.badInput(
            "cores per GPU " + coresPerGpu + ": it must be at least 1",
            "give the executor cores that share one GPU, e.g. --cores-per-gpu 8");
      }
      requireNonNull(gpuType, "gpuType is null");
      requireNonNull(source, "source is null");
    }
  }

  /**
   * One job's runs summed: what they cost on CPU, and the estimate on the gpu profile.
   *
   * @param coverage the GPU-eligible share assumed (kiln gpu check's operator share)
   * @param ratio the GPU run's time over the CPU run's
   * @param gpuHours the GPU-hours the estimate prices
   */
  public record Job(
      String job,
      long runs,
      double coverage,
      double ratio,
      double cpuCost,
      double estimatedCpu,
      double estimatedMemory,
      double estimatedGpu,
      double estimatedTokens,
      double estimatedTotal,
      double gpuHours) {
    /** The estimate over the CPU cost: below 1 the GPU is estimated cheaper. */
    @com.fasterxml.jackson.annotation.JsonProperty("costRatio")
    public double costRatio() {
      return cpuCost == 0 ? 0 : estimatedTotal / cpuCost;
    }
  }

  public GpuEstimate {
    requireNonNull(assumptions, "assumptions is null");
    jobs = List.copyOf(jobs);
    notMeasured = List.copyOf(notMeasured);
  }

  @com.fasterxml.jackson.annotation.JsonProperty("label")
  public String label() {
    return LABEL;
  }

  /**
   * The estimate for the CPU runs among {@code lines} (a run with a GPU cost, or of unknown cost,
   * is left out) whose job has a figure in {@code coverage} (job name to a share in [0, 1]).
   */
  public static GpuEstimate of(
      List<CostLine> lines,
      Map<String, Double> coverage,
      Assumptions assumptions,
      PriceCatalog catalog) {
    requireNonNull(lines, "lines is null");
    requireNonNull(coverage, "coverage is null");
    requireNonNull(catalog, "catalog is null");
    coverage.forEach(
        (job, share) -> {
          if (share == null || !(share >= 0 && share <= 1)) {
            throw Errors.badInput(
                "the GPU coverage of " + job + " is " + share + ": a share is between 0 and 1",
                "give the coverage figures kiln gpu check --json prints");
          }
        });
    Double gpuHour = catalog.gpuHour().get(assumptions.gpuType());
    if (gpuHour == null) {
      throw Errors.badInput(
          "GPU type "
              + assumptions.gpuType()
              + " is not in price catalog "
              + catalog.version()
              + "; it prices "
              + String.join(", ", catalog.gpuHour().keySet()),
          "give one of those with --gpu-type, or add it to the catalog's gpuHour");
    }
    Map<String, double[]> sums = new TreeMap<>(); // runs, cpu, memory, tokens, total
    java.util.Set<String> notMeasured = new java.util.TreeSet<>();
    for (CostLine l : CostLine.withoutNested(lines)) {
      boolean cpuRun = l.total() != null && l.gpu() != null && l.gpu() == 0 && l.storage() == 0;
      if (!cpuRun) {
        continue;
      }
      if (!coverage.containsKey(l.job())) {
        notMeasured.add(l.job());
        continue;
      }
      double[] s = sums.computeIfAbsent(l.job(), k -> new double[5]);
      s[0]++;
      s[1] += l.cpu() == null ? 0 : l.cpu();
      s[2] += l.memory() == null ? 0 : l.memory();
      s[3] += l.tokens() == null ? 0 : l.tokens();
      s[4] += l.total();
    }
    List<Job> jobs = new ArrayList<>();
    for (Map.Entry<String, double[]> e : sums.entrySet()) {
      double f = coverage.get(e.getKey());
      double[] s = e.getValue();
      double ratio = (1 - f) + f / assumptions.speedup();
      double cpu = s[1] * ratio;
      double memory = s[2] * ratio;
      // the CPU cost is core-hours × coreHour (× the spot factor, which the GPU run shares)
      double coreHours = catalog.coreHour() == 0 ? 0 : s[1] / catalog.coreHour();
      double gpuHours = coreHours * ratio / assumptions.coresPerGpu();
      double gpu = gpuHours * gpuHour;
      jobs.add(
          new Job(
              e.getKey(),
              (long) s[0],
              f,
              ratio,
              s[4],
              cpu,
              memory,
              gpu,
              s[3],
              cpu + memory + gpu + s[3],
              gpuHours));
    }
    jobs.sort(java.util.Comparator.comparingDouble(Job::cpuCost).reversed());
    return new GpuEstimate(assumptions, jobs, new ArrayList<>(notMeasured));
  }

  /** The estimate as text: the label and assumptions first, then one line per job. */
  public String text(String currency) {
    StringBuilder out = new StringBuilder();
    out.append(LABEL).append('\n');
    out.append(
        String.format(
            java.util.Locale.ROOT,
            "  assumed: the GPU-eligible share runs %.2fx faster (%s); one %s per %d executor"
                + " cores; time share = operator share%n",
            assumptions.speedup(),
            assumptions.source(),
            assumptions.gpuType(),
            assumptions.coresPerGpu()));
    out.append(
        String.format(
            java.util.Locale.ROOT,
            "  %-12s %5s %9s %10s %14s %14s %8s%n",
            "job",
            "runs",
            "coverage",
            "time",
            "CPU cost",
            "GPU estimate",
            "ratio"));
    for (Job j : jobs) {
      out.append(
          String.format(
              java.util.Locale.ROOT,
              "  %-12s %5d %8.1f%% %9.2fx %10.6f %s %10.6f %s %7.2fx%n",
              j.job(),
              j.runs(),
              100 * j.coverage(),
              j.ratio(),
              j.cpuCost(),
              currency,
              j.estimatedTotal(),
              currency,
              j.costRatio()));
    }
    if (!notMeasured.isEmpty()) {
      out.append("  no coverage measured (no estimate): ")
          .append(String.join(", ", notMeasured))
          .append('\n');
    }
    return out.toString();
  }
}
