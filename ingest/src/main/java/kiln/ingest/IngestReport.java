package kiln.ingest;

import java.util.LinkedHashMap;
import java.util.Map;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;

/** What an ingest tells MLflow: its settings, counts and the table versions it wrote. */
public final class IngestReport {
  private IngestReport() {}

  public static Map<String, String> params(IngestSpec spec) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("source", spec.source());
    params.put("format", spec.format().toString());
    params.put("table", spec.table());
    params.put("mode", spec.mode().toString());
    params.put(
        "schema",
        spec.schema() == null
            ? "inferred"
            : "declared (" + spec.schema().columns().size() + " columns)");
    if (spec.where() != null) {
      params.put("where", spec.where());
    }
    spec.options().forEach((k, v) -> params.put("option." + k, v));
    return params;
  }

  /**
   * What a run says before it loads: its settings as params, its source files as an input (so a
   * FAIL event names them too).
   */
  public static void started(TrackedRun run, IngestSpec spec) {
    run.logParams(params(spec));
    run.logSourceFiles(spec.source(), spec.format().toString());
  }

  public static void report(TrackedRun run, IngestSpec spec, IngestResult result) {
    run.logMetrics(
        Map.of(
            "rows",
            (double) result.rows(),
            "quarantined_rows",
            (double) result.quarantined(),
            TrackedRun.ELAPSED_SECONDS,
            result.elapsed().toMillis() / 1000.0));
    run.setTags(
        Map.of(
            "kiln.idempotency_key", result.idempotencyKey(),
            "kiln.already_ingested", String.valueOf(result.alreadyIngested()),
            "kiln.output", result.table().toString()));
    run.logInput(result.table(), "output");
    result.quarantine().ifPresent(q -> run.logInput(q, "quarantine"));
    run.logText(
        "{\"source\": \""
            + spec.source().replace("\"", "\\\"")
            + "\", \"digest\": \""
            + MlflowTracking.digest(result.idempotencyKey())
            + "\"}\n",
        "ingest/source.json");
  }
}
