package kiln.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import kiln.core.Errors;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.gpu.JobCoverage;
import kiln.gpu.Operator;
import kiln.gpu.PlanCoverage;
import kiln.gpu.Rapids;
import kiln.gpu.SparkConfigCheck;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "gpu",
    mixinStandardHelpOptions = true,
    description = "GPU readiness, checked on a machine without a GPU.",
    subcommands = GpuCommand.Check.class)
final class GpuCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Run Kiln's jobs on a small generated flights sample with the RAPIDS Accelerator in"
            + " explain-only mode (no GPU needed) and report, job by job and operator by operator,"
            + " what would run on the GPU and why not, with a coverage figure.",
        "With --spark-defaults, first check a spark-defaults file's keys and values against Spark's"
            + " and RAPIDS' own registries (exit 2 naming each bad key)."
      })
  static final class Check implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin WorkdirOptions workdirOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--job",
        paramLabel = "JOB",
        split = ",",
        description =
            "ingest, contracts, features, train, score, drift or llm-preprocessing; may repeat (default: all).")
    List<String> jobs;

    @Option(
        names = "--spark-defaults",
        paramLabel = "FILE",
        description = "A spark-defaults file to check (e.g. cluster-config/spark-gpu.conf).")
    Path sparkDefaults;

    /** What --json prints. */
    record Checked(
        double coverage, long operators, long onGpu, List<JobReport> jobs, Path sparkDefaults) {}

    record JobReport(
        String job,
        double coverage,
        long operators,
        long onGpu,
        List<PlanReport> plans,
        List<String> notes) {}

    record PlanReport(String name, double coverage, List<Operator> operators) {}

    @Override
    public Integer call() {
      List<String> chosen = jobs == null || jobs.isEmpty() ? GpuCheck.JOBS : jobs;
      for (String job : chosen) {
        if (!GpuCheck.JOBS.contains(job)) {
          throw Errors.badInput(
              "--job " + job + " is not a job the GPU check runs",
              "use one of " + String.join(", ", GpuCheck.JOBS));
        }
      }
      Rapids.requireOnClasspath();
      Console console = json.console(spec);
      if (sparkDefaults != null) {
        checkSparkDefaults(console);
      }
      workdirOptions.settings(null); // reads and validates --settings
      Path scratch = scratch();
      List<JobCoverage> results;
      SparkSession spark = null;
      try {
        spark = session();
        results = new GpuCheck(spark, scratch, console::step).run(chosen);
      } finally {
        if (spark != null) {
          spark.stop();
        }
        delete(scratch);
      }
      console.result(text(results));
      json.print(spec, checked(results));
      return 0;
    }

    private void checkSparkDefaults(Console console) {
      Map<String, String> settings = SparkConfigCheck.read(sparkDefaults);
      List<SparkConfigCheck.Problem> problems = SparkConfigCheck.load().check(settings);
      if (!problems.isEmpty()) {
        StringBuilder message =
            new StringBuilder(sparkDefaults + " has " + problems.size() + " bad setting(s):");
        problems.forEach(
            p ->
                message
                    .append("\n  ")
                    .append(p.key())
                    .append(" ")
                    .append(p.value())
                    .append(": ")
                    .append(p.problem()));
        throw Errors.badInput(
            message.toString(), "correct the keys and values named, then run the check again");
      }
      console.step(
          sparkDefaults
              + ": all "
              + settings.size()
              + " settings are known to Spark or RAPIDS and their values parse");
    }

    /**
     * A local session with the RAPIDS plugin in explain-only mode; RAPIDS loads its shims through
     * the context class loader.
     */
    private static SparkSession session() {
      if (SparkSession.getActiveSession().isDefined()
          || SparkSession.getDefaultSession().isDefined()) {
        throw Errors.environment(
            "kiln gpu check needs its own Spark session (the RAPIDS plugin loads when a session"
                + " starts), and one is running already",
            "run kiln gpu check from the command line, not inside a running Spark application");
      }
      Thread thread = Thread.currentThread();
      if (!(thread.getContextClassLoader()
          instanceof org.apache.spark.util.MutableURLClassLoader)) {
        thread.setContextClassLoader(
            new org.apache.spark.util.MutableURLClassLoader(
                new URL[0], thread.getContextClassLoader()));
      }
      Map<String, String> conf = new LinkedHashMap<>(Rapids.explainOnlyConf());
      conf.put("spark.sql.shuffle.partitions", "2");
      return SparkSessions.create(new SparkSettings(SparkProfile.LOCAL, "local[2]", false, conf));
    }

    private static Path scratch() {
      try {
        return Files.createTempDirectory("kiln-gpu-check");
      } catch (IOException e) {
        throw Errors.environment(
            "cannot create a temporary directory: " + e.getMessage(),
            "free disk space or set java.io.tmpdir",
            e);
      }
    }

    private static void delete(Path directory) {
      try (Stream<Path> walk = Files.walk(directory)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    static Checked checked(List<JobCoverage> results) {
      List<JobReport> jobs = new ArrayList<>();
      long operators = 0;
      long onGpu = 0;
      for (JobCoverage job : results) {
        List<PlanReport> plans =
            job.plans().stream()
                .map(p -> new PlanReport(p.name(), p.coverage(), p.operators()))
                .toList();
        jobs.add(
            new JobReport(
                job.job(), job.coverage(), job.operators(), job.onGpu(), plans, job.notes()));
        operators += job.operators();
        onGpu += job.onGpu();
      }
      return new Checked(
          operators == 0 ? 1.0 : (double) onGpu / operators, operators, onGpu, jobs, null);
    }

    static String text(List<JobCoverage> results) {
      StringBuilder out = new StringBuilder();
      long operators = 0;
      long onGpu = 0;
      for (JobCoverage job : results) {
        operators += job.operators();
        onGpu += job.onGpu();
        out.append(
            String.format(
                Locale.ROOT,
                "%s: %d of %d operators would run on the GPU (%.1f%%)%n",
                job.job(),
                job.onGpu(),
                job.operators(),
                100 * job.coverage()));
        for (PlanCoverage plan : job.plans()) {
          out.append(
              String.format(Locale.ROOT, "  %-60s %5.1f%%%n", plan.name(), 100 * plan.coverage()));
          for (Operator fallback : plan.fallbacks()) {
            out.append("    CPU ").append(fallback.name());
            if (!fallback.reasons().isEmpty()) {
              out.append(": ").append(String.join("; ", fallback.reasons()));
            }
            out.append('\n');
          }
        }
        job.notes().forEach(n -> out.append("  note: ").append(n).append('\n'));
      }
      out.append(
          String.format(
              Locale.ROOT,
              "All jobs: %d of %d operators would run on the GPU (%.1f%%), as the RAPIDS Accelerator %s"
                  + " judges them in explain-only mode",
              onGpu,
              operators,
              operators == 0 ? 100.0 : 100.0 * onGpu / operators,
              "25.04.0"));
      return out.toString();
    }
  }
}
