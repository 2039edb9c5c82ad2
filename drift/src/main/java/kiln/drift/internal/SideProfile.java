package kiln.drift.internal;

import java.util.Map;

/**
 * One side's profile with the Spark types of all its columns (profiled or not).
 *
 * @param reused true when the profile came from the profile table instead of a scan
 */
public record SideProfile(TableProfile profile, Map<String, String> types, boolean reused) {
  public SideProfile {
    types = Map.copyOf(types);
  }
}
