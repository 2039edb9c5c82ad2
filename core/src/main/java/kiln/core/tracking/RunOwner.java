package kiln.core.tracking;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The driver process that owns a run: its host, pid and process start time, recorded as tags when
 * the run starts. A driver killed with SIGKILL (a scheduler's timeout, the OOM killer) cannot end
 * its run, which MLflow then shows RUNNING forever; with these tags a later command tells such a
 * run from one still going. On the same host the process is looked up (a pid alone is not enough:
 * pids are reused, so its start time must match too); elsewhere only the run's heartbeat tag, which
 * a live driver refreshes every minute, can tell.
 */
public record RunOwner(String host, long pid, long startedMillis) {
  public static final String HOST_TAG = "kiln.driver.host";
  public static final String PID_TAG = "kiln.driver.pid";
  public static final String STARTED_TAG = "kiln.driver.started";

  /** Epoch milliseconds of the driver's last sign of life, refreshed while the run goes on. */
  public static final String HEARTBEAT_TAG = "kiln.driver.heartbeat";

  /** Why a run was marked KILLED by another command. */
  public static final String KILLED_REASON_TAG = "kiln.killedReason";

  public RunOwner {
    requireNonNull(host, "host is null");
  }

  /** This JVM. */
  public static RunOwner current() {
    ProcessHandle self = ProcessHandle.current();
    return new RunOwner(hostName(), self.pid(), startMillis(self).orElse(0L));
  }

  static String hostName() {
    // the kernel's name first: no DNS lookup (which can hang seconds on a badly configured host)
    try {
      String kernel =
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname"))
              .strip();
      if (!kernel.isEmpty()) {
        return kernel;
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: ask the resolver
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? "localhost" : env;
    }
  }

  private static Optional<Long> startMillis(ProcessHandle process) {
    return process.info().startInstant().map(Instant::toEpochMilli);
  }

  public Map<String, String> tags() {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(HOST_TAG, host);
    tags.put(PID_TAG, String.valueOf(pid));
    tags.put(STARTED_TAG, String.valueOf(startedMillis));
    return tags;
  }

  /** The owner a run's tags name; empty for runs that did not record one (older Kiln, others). */
  public static Optional<RunOwner> of(Map<String, String> tags) {
    try {
      String host = tags.get(HOST_TAG);
      String pid = tags.get(PID_TAG);
      String started = tags.get(STARTED_TAG);
      if (host == null || pid == null || started == null) {
        return Optional.empty();
      }
      return Optional.of(new RunOwner(host, Long.parseLong(pid), Long.parseLong(started)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether this owner is certainly gone, and why; empty while it may be alive. On this host: no
   * process has its pid, or the one that has it started at another moment (the pid was reused). On
   * another host: no heartbeat for longer than {@code staleAfter}.
   */
  public Optional<String> gone(Map<String, String> tags, Duration staleAfter, long nowMillis) {
    if (host.equals(hostName())) {
      Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
      if (process.isEmpty()) {
        return Optional.of("its driver (pid " + pid + " on " + host + ") is no longer running");
      }
      Optional<Long> started = startMillis(process.get());
      // /proc gives start times in clock ticks: the same process reads within a second of itself
      if (started.isPresent()
          && startedMillis > 0
          && Math.abs(started.get() - startedMillis) > 1000) {
        return Optional.of(
            "its driver (pid "
                + pid
                + " on "
                + host
                + ", started "
                + Instant.ofEpochMilli(startedMillis)
                + ") is no longer running; pid "
                + pid
                + " is another process now");
      }
      return Optional.empty();
    }
    long last = lastSignOfLife(tags);
    if (nowMillis - last > staleAfter.toMillis()) {
      return Optional.of(
          "its driver (pid "
              + pid
              + " on "
              + host
              + ") sent no heartbeat since "
              + Instant.ofEpochMilli(last)
              + ", more than "
              + staleAfter.toMinutes()
              + " minutes");
    }
    return Optional.empty();
  }

  /** The run's last heartbeat, or its driver's start when it sent none. */
  public long lastSignOfLife(Map<String, String> tags) {
    try {
      String heartbeat = tags.get(HEARTBEAT_TAG);
      return heartbeat == null ? startedMillis : Math.max(startedMillis, Long.parseLong(heartbeat));
    } catch (NumberFormatException e) {
      return startedMillis;
    }
  }
}
