package kiln.lineage;

/** Where OpenLineage events go. Never throws: lineage must not fail the job it describes. */
public interface Transport {
  /** Sends one event, a JSON object on one line. */
  void emit(String event);
}
