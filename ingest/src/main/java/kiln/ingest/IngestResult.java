package kiln.ingest;

import java.time.Duration;
import java.util.Optional;
import kiln.core.DatasetRef;

/**
 * What an ingest did.
 *
 * @param table the table at the version holding the ingested rows
 * @param rows rows written to the table
 * @param quarantined rows written to the quarantine table
 * @param quarantine the quarantine table at its new version, when rows were quarantined
 * @param alreadyIngested true when this load had been committed before (a retry) and nothing was
 *     written
 */
public record IngestResult(
    DatasetRef table,
    long rows,
    long quarantined,
    Optional<DatasetRef> quarantine,
    boolean alreadyIngested,
    String idempotencyKey,
    Duration elapsed) {}
