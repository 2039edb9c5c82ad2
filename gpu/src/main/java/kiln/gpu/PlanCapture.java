package kiln.gpu;

import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/**
 * Collects the RAPIDS Accelerator's explanation of every query planned while it listens. In
 * explain-only mode RAPIDS judges each physical plan as it is executed and logs, node by node, what
 * would run on the GPU and why not; this reads that log rather than re-planning, so it sees the
 * queries a job really runs (Deequ's and Delta's included). Queries over Delta's own transaction
 * log (its actions as JVM objects) are left out: they read the log's state on the driver, not the
 * job's rows. One capture at a time per JVM.
 */
public final class PlanCapture implements AutoCloseable {
  static final String LOGGER = "com.nvidia.spark.rapids.GpuOverrides";

  /**
   * Delta's queries over its transaction log: its actions, the files' statistics it skips by, and
   * the snapshot's state it aggregates after a commit (an RDD of the log's actions: the alias
   * {@code numOfProtocol} is Delta's Snapshot.computedState's own).
   */
  private static final List<String> DELTA_LOG_STATE =
      List.of(
          "org.apache.spark.sql.delta.actions.",
          "org.apache.spark.sql.delta.stats.",
          "StructField(numRecords,",
          " AS numOfProtocol#");

  private final Logger logger;
  private final Level previousLevel;
  private final boolean previousAdditive;
  private final AbstractAppender appender;
  private final List<String> blocks = new ArrayList<>();

  private PlanCapture() {
    logger = (Logger) LogManager.getLogger(LOGGER);
    previousLevel = logger.getLevel();
    previousAdditive = logger.isAdditive();
    appender =
        new AbstractAppender("kiln-gpu-plans", null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            String message = event.getMessage().getFormattedMessage();
            synchronized (blocks) {
              blocks.add(message);
            }
          }
        };
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.WARN);
    // the explanations are long: into the report, not onto the console
    logger.setAdditive(false);
  }

  /** Starts listening; close to stop. */
  public static PlanCapture start() {
    return new PlanCapture();
  }

  /**
   * Runs {@code work} and returns the plans it ran, named {@code name} (numbered when there are
   * several).
   */
  public List<PlanCoverage> run(String name, Runnable work) {
    synchronized (blocks) {
      blocks.clear();
    }
    Operator failed = null;
    try {
      work.run();
    } catch (RuntimeException e) {
      failed = planningFailure(e).orElseThrow(() -> e);
    }
    List<String> taken;
    synchronized (blocks) {
      taken = new ArrayList<>(blocks);
      blocks.clear();
    }
    List<List<Operator>> plans = new ArrayList<>();
    for (String block : taken) {
      if (DELTA_LOG_STATE.stream().anyMatch(block::contains)) {
        continue;
      }
      List<Operator> operators = ExplainParser.parse(block);
      if (!operators.isEmpty()) {
        plans.add(operators);
      }
    }
    List<PlanCoverage> named = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      String label = plans.size() == 1 ? name : name + " (" + (i + 1) + "/" + plans.size() + ")";
      named.add(new PlanCoverage(label, plans.get(i)));
    }
    if (failed != null) {
      named.add(new PlanCoverage(name + " (RAPIDS could not plan it)", List.of(failed)));
    }
    return named;
  }

  /**
   * A query that RAPIDS itself failed to plan (it throws instead of falling back unless {@code
   * spark.rapids.sql.suppressPlanningFailure} is set): reported as an operator that stays on the
   * CPU, with RAPIDS' message. Any other failure is the job's and is rethrown.
   */
  static java.util.Optional<Operator> planningFailure(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      for (StackTraceElement frame : t.getStackTrace()) {
        if (frame.getClassName().startsWith("com.nvidia.spark.rapids.")) {
          String message = String.valueOf(t.getMessage()).lines().findFirst().orElse("");
          return java.util.Optional.of(
              new Operator(
                  "QueryPlanning",
                  false,
                  List.of(
                      "RAPIDS failed to plan the query ("
                          + t.getClass().getSimpleName()
                          + ": "
                          + (message.length() > 300 ? message.substring(0, 300) + "..." : message)
                          + "); with spark.rapids.sql.suppressPlanningFailure=true (the gpu"
                          + " profile's setting) it runs on the CPU")));
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return java.util.Optional.empty();
  }

  @Override
  public void close() {
    logger.removeAppender(appender);
    logger.setLevel(previousLevel);
    logger.setAdditive(previousAdditive);
    appender.stop();
  }
}
