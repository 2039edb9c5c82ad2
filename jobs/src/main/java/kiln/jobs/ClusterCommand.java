package kiln.jobs;

import java.util.List;
import java.util.concurrent.Callable;
import kiln.core.Errors;
import kiln.gpu.ClusterSizing;
import kiln.gpu.Rapids;
import kiln.gpu.SparkConfigCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = "Cluster configurations for Kiln's jobs.",
    subcommands = ClusterCommand.Size.class)
final class ClusterCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "size",
      mixinStandardHelpOptions = true,
      description = {
        "Size executors (cores, memory, overhead, GPUs, concurrent GPU tasks, the task's GPU"
            + " share) for a node type of Kiln's catalog, as the RAPIDS Accelerator's tools do, and"
            + " print them as spark-defaults lines (checked against Spark's and RAPIDS' own"
            + " configuration registries)."
      })
  static final class Size implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin WorkdirOptions workdirOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--node-type",
        required = true,
        paramLabel = "TYPE",
        description = "A node type of the catalog, e.g. g4dn.2xlarge, g5.12xlarge, m5.4xlarge.")
    String nodeType;

    @Option(
        names = "--nodes",
        paramLabel = "N",
        description = "Worker nodes: adds spark.executor.instances.")
    Integer nodes;

    @Override
    public Integer call() {
      workdirOptions.settings(null); // reads and validates --settings
      ClusterSizing.Sizing sizing = ClusterSizing.catalog().size(nodeType, nodes);
      // every key and value checked against the registries, as cluster-config's test checks its
      // files; RAPIDS' registry is read when its jar is on the classpath (bin/kiln puts it there)
      if (Rapids.onClasspath()) {
        List<SparkConfigCheck.Problem> problems = SparkConfigCheck.load().check(sizing.settings());
        if (!problems.isEmpty()) {
          throw Errors.environment(
              "the sizing of " + nodeType + " gave settings Spark or RAPIDS refuse: " + problems,
              "report this as a Kiln bug");
        }
      }
      json.console(spec).result(sizing.sparkDefaults().stripTrailing());
      json.print(spec, sizing);
      return 0;
    }
  }
}
