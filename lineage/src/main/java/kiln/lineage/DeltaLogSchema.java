package kiln.lineage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * A Delta table's schema at a version, read straight from the commit files of its transaction log
 * (the newest {@code metaData} action at or before the version): a few small reads instead of the
 * Spark jobs Delta runs to rebuild a snapshot, which cost a job with lineage several per cent of a
 * short run. Empty when the commits at hand do not say (a checkpoint replaced them): then Spark
 * reads it.
 */
final class DeltaLogSchema {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How many commits back to look for the schema before leaving it to Spark. */
  private static final int MAX_COMMITS = 100;

  private DeltaLogSchema() {}

  static Optional<StructType> at(SparkSession spark, String table, long version) {
    try {
      Path log = new Path(table, "_delta_log");
      FileSystem fs = log.getFileSystem(spark.sessionState().newHadoopConf());
      for (long v = version; v >= 0 && v > version - MAX_COMMITS; v--) {
        Path commit = new Path(log, String.format("%020d.json", v));
        if (!fs.exists(commit)) {
          return Optional.empty();
        }
        Optional<StructType> schema = schema(fs, commit);
        if (schema.isPresent()) {
          return schema;
        }
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      // unreadable or unexpected: Spark's own reading decides
      return Optional.empty();
    }
  }

  private static Optional<StructType> schema(FileSystem fs, Path commit) throws IOException {
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(fs.open(commit), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (!line.contains("\"metaData\"")) {
          continue;
        }
        JsonNode schemaString = JSON.readTree(line).path("metaData").path("schemaString");
        if (schemaString.isTextual()
            && DataType.fromJson(schemaString.asText()) instanceof StructType struct) {
          return Optional.of(struct);
        }
      }
    }
    return Optional.empty();
  }
}
