package kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.tracking.TrackingException;
import kiln.core.tracking.internal.RestClient;
import kiln.cost.AlertRules;
import kiln.cost.Budgets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiln monitor --rules FILE}: the budgets' alert tiers applied to the latest runs' MLflow
 * metrics, for a scheduler to branch on (the JSON's tier and action, and the exit code).
 */
@Command(
    name = "monitor",
    mixinStandardHelpOptions = true,
    description = {
      "Put each job's latest MLflow run in an alert tier by thresholds on its metrics.",
      "Rules cover any metric (error rate, latency, drift verdicts, performance, cost); tiers are info (log),",
      "warning (notify) and critical (page). A job without a run, or a run without the metric, is a warning.",
      "--json prints the worst tier and its action first, then every rule's alert."
    },
    footer = {
      "",
      "Exit codes: 0 below --fail-on (default critical), 1 a rule at --fail-on or worse, 2 bad usage or",
      "input (a bad rules file), 3 an environment or internal failure (the tracking server unreachable)."
    })
final class MonitorCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin WorkdirOptions workdirOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--rules",
      required = true,
      paramLabel = "FILE",
      description =
          "Rules (YAML): rules: [{job: NAME, metric: KEY, info|warning|critical: N, below: false}].")
  Path rules;

  @Option(
      names = "--tracking-uri",
      paramLabel = "URI",
      description =
          "The server to read (default: the settings' tracking.uri, then $MLFLOW_TRACKING_URI, then the"
              + " work directory's runs).")
  String trackingUri;

  @Option(
      names = "--fail-on",
      defaultValue = "critical",
      paramLabel = "TIER",
      description = "Exit 1 from this tier on: critical (default), warning or info.")
  Budgets.Tier failOn;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    if (failOn == Budgets.Tier.OK) {
      throw Errors.badInput(
          "--fail-on ok would fail every check", "give --fail-on critical, warning or info");
    }
    AlertRules file = AlertRules.read(rules);
    KilnSettings settings = workdirOptions.settings(trackingUri);
    Map<String, AlertRules.LatestRun> latest = new LinkedHashMap<>();
    try (Reporting reporting = Reporting.open(settings, console)) {
      String uri = reporting.tracking().uri();
      Map<String, String> env = System.getenv();
      RestClient rest =
          new RestClient(
              URI.create(uri),
              RestClient.authorization(
                  env.get("MLFLOW_TRACKING_USERNAME"),
                  env.get("MLFLOW_TRACKING_PASSWORD"),
                  env.get("MLFLOW_TRACKING_TOKEN")),
              3,
              Duration.ofMillis(500),
              console::step);
      String experiment = experimentId(rest, settings.experiment());
      if (experiment != null) {
        for (String job : file.jobs()) {
          AlertRules.LatestRun run = latestRun(rest, experiment, job);
          if (run != null) {
            latest.put(job, run);
          }
        }
      }
    }
    AlertRules.Summary summary = file.evaluate(latest);
    for (AlertRules.Alert a : summary.alerts()) {
      console.result(
          String.format(
              Locale.ROOT,
              "%-8s %s %s = %s (%s; run %s); action: %s",
              a.tier(),
              a.job(),
              a.metric(),
              a.value() == null ? "-" : String.valueOf(a.value()),
              a.why(),
              a.runId() == null ? "-" : a.runId(),
              a.action()));
    }
    console.result("Worst tier: " + summary.tier() + " (action: " + summary.action() + ")");
    json.print(spec, summary);
    List<AlertRules.Alert> failed =
        summary.alerts().stream().filter(a -> a.tier().compareTo(failOn) >= 0).toList();
    if (!failed.isEmpty()) {
      throw Errors.checkFailed(
          failed.size()
              + " rule(s) at "
              + failOn
              + " or worse: "
              + failed.stream()
                  .map(a -> a.job() + " " + a.metric() + " " + a.tier())
                  .collect(Collectors.joining(", ")),
          "see the runs in MLflow (tags.kiln.job) for what changed");
    }
    return 0;
  }

  /** The experiment's id; null when it does not exist yet (no job ever ran). */
  private static String experimentId(RestClient rest, String name) {
    try {
      return rest.get("experiments/get-by-name", Map.of("experiment_name", name))
          .path("experiment")
          .path("experiment_id")
          .asText();
    } catch (TrackingException e) {
      if (!e.unreachable() && e.getMessage().contains("RESOURCE_DOES_NOT_EXIST")) {
        return null;
      }
      throw e;
    }
  }

  /** The job's most recently started run and its metrics' latest values; null when none. */
  private static AlertRules.LatestRun latestRun(RestClient rest, String experiment, String job) {
    Map<String, Object> query = new LinkedHashMap<>();
    query.put("experiment_ids", List.of(experiment));
    query.put("filter", "tags.`kiln.job` = '" + job.replace("'", "\\'") + "'");
    query.put("max_results", 1);
    query.put("order_by", List.of("attributes.start_time DESC"));
    JsonNode runs = rest.post("runs/search", query).path("runs");
    if (!runs.isArray() || runs.isEmpty()) {
      return null;
    }
    JsonNode run = runs.get(0);
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (JsonNode m : run.path("data").path("metrics")) {
      metrics.put(m.path("key").asText(), m.path("value").asDouble());
    }
    return new AlertRules.LatestRun(run.path("info").path("run_id").asText(), metrics);
  }
}
