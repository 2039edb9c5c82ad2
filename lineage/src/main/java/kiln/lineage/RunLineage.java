package kiln.lineage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import kiln.core.CodeVersion;
import kiln.core.DatasetRef;

/**
 * The ML triad of one run, built in this one place for every job: the code version, every Delta
 * table the run read or wrote with its version, the job config's SHA-256, and for a model the
 * weights' SHA-256. The run's MLflow tags and its registered model versions' tags are both {@link
 * #tags()}.
 */
public final class RunLineage {
  /** Tag keys. Input and output tables are {@code kiln.input.ROLE} and {@code kiln.output.ROLE}. */
  public static final String CODE_VERSION = "kiln.code_version";

  public static final String GIT_COMMIT = "kiln.git_commit";
  public static final String JAR_SHA256 = "kiln.jar_sha256";
  public static final String KILN_VERSION = "kiln.version";
  public static final String CONFIG_SHA256 = "kiln.config_sha256";
  public static final String CONFIG_FILE = "kiln.config_file";
  public static final String MODEL_SHA256 = "kiln.model_sha256";
  public static final String INPUT_PREFIX = "kiln.input.";
  public static final String OUTPUT_PREFIX = "kiln.output.";

  /** The artifact directory a run's job config is uploaded to. */
  public static final String CONFIG_ARTIFACT_DIRECTORY = "config";

  /**
   * Roles of the tables a job writes; every other role (input, reference, training, test, ...) is
   * read.
   */
  static final Set<String> OUTPUT_ROLES = Set.of("output", "quarantine");

  /** A table the run read or wrote, at the version it saw. */
  public record Table(DatasetRef table, String role, boolean output) {
    public Table {
      Objects.requireNonNull(table, "table is null");
      Objects.requireNonNull(role, "role is null");
    }
  }

  private final CodeVersion code;
  private final Path config;
  private final String configSha256;
  private final List<Table> tables = new ArrayList<>();
  private String modelSha256;

  public RunLineage(CodeVersion code, Path config) {
    this.code = Objects.requireNonNull(code, "code is null");
    this.config = config;
    this.configSha256 = config == null ? null : CodeVersion.sha256(config);
  }

  public CodeVersion code() {
    return code;
  }

  public java.util.Optional<Path> config() {
    return java.util.Optional.ofNullable(config);
  }

  /**
   * Records a table the run read or wrote ({@code role} {@code output} or {@code quarantine});
   * returns its tag.
   */
  public synchronized Map<String, String> add(DatasetRef pinned, String role) {
    Objects.requireNonNull(pinned, "pinned is null");
    String key = role == null || role.isBlank() ? "input" : role;
    boolean output = OUTPUT_ROLES.contains(key);
    Table table = new Table(pinned, key, output);
    if (!tables.contains(table)) {
      tables.add(table);
    }
    return Map.of(tagKey(table), pinned.toString());
  }

  public synchronized void modelSha256(String sha256) {
    this.modelSha256 = sha256;
  }

  public synchronized List<Table> tables() {
    return List.copyOf(tables);
  }

  /** The triad as tags: on the run from its start, and on every model version it registers. */
  public synchronized Map<String, String> tags() {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(CODE_VERSION, code.describe());
    if (code.gitCommit() != null) {
      tags.put(GIT_COMMIT, code.gitCommit());
    }
    if (code.jarSha256() != null) {
      tags.put(JAR_SHA256, code.jarSha256());
    }
    tags.put(KILN_VERSION, code.kilnVersion());
    if (config != null) {
      tags.put(CONFIG_FILE, config.getFileName().toString());
      tags.put(CONFIG_SHA256, configSha256);
    }
    for (Table table : tables) {
      tags.put(tagKey(table), table.table().toString());
    }
    if (modelSha256 != null) {
      tags.put(MODEL_SHA256, modelSha256);
    }
    return tags;
  }

  /**
   * The first table in a role is {@code kiln.input.ROLE}; the next ones {@code kiln.input.ROLE.2},
   * ...
   */
  private String tagKey(Table table) {
    String base = (table.output() ? OUTPUT_PREFIX : INPUT_PREFIX) + table.role();
    int index = 0;
    for (Table other : tables) {
      if (other.role().equals(table.role())) {
        index++;
        if (other.equals(table)) {
          break;
        }
      }
    }
    return index <= 1 ? base : base + "." + index;
  }
}
