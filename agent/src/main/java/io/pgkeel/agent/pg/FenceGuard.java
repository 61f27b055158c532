package io.pgkeel.agent.pg;

import io.pgkeel.common.Clock;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease fence's backstop outside the JVM: a small bash process, the agent's child, that stops PostgreSQL
 * ({@code pg_ctl stop -m immediate}) when the agent can no longer do it itself while this node is a primary:
 * <ul>
 *   <li>the agent dies (kill -9, OOM kill, a JVM crash): the guard's stdin reaches end of file at once;</li>
 *   <li>the agent hangs (SIGSTOP, a stalled JVM): no word arrives before the lease deadline.</li>
 * </ul>
 * While armed the guard is told the fence deadline as "arm SECONDS" (seconds from now, plus a short grace so the
 * agent's own fence, which also logs and runs callbacks, normally acts first); "disarm" when this node is not a
 * primary (or in pause), where the agent's death stops nothing; "exit" on a clean stop.
 *
 * <p>The guard is fed by its own thread, so a guard that does not read can never block the HA loop, and the seconds
 * are computed just before each write, so a late write never extends the deadline.
 *
 * <p>After it fired on silence the guard goes on, disarmed until told again: the agent was only late (an etcd outage
 * ends in the same cycle as the lease), and may start and promote PostgreSQL again within seconds, which its death
 * must still stop. Its stop does not wait ({@code -W}): waiting for postmaster.pid to go (up to 30 s) held the guard
 * when the agent had started a new postmaster meanwhile, and the agent, whose writes still succeeded, never started
 * another guard; a kill -9 of the agent then stopped nothing (chaos seed 302, fault 226: two writers for 5.7 s).
 */
public final class FenceGuard implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FenceGuard.class);
    private static final long DISARMED = Long.MIN_VALUE;
    /** After the agent's own fence; the fence margin is at least 1 s, so this still acts well before the lease ends. */
    public static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** bash: its {@code read -t} takes fractions of a second and tells a timeout (status > 128) from end of file. */
    static final String SCRIPT = """
            trap '' INT HUP
            armed=
            while :; do
              if [ -n "$armed" ]; then
                IFS= read -r -t "$armed" line; rc=$?
                if [ $rc -ne 0 ]; then
                  if [ $rc -gt 128 ]; then why="no word from the agent by the lease deadline"; else why="the agent is gone"; fi
                  echo "pgkeel fence guard: $why while primary: stopping postgres now (pg_ctl stop -m immediate)" >&2
                  "$1" stop -D "$2" -m immediate -W >&2
                  [ $rc -gt 128 ] || exit 0
                  armed=
                  continue
                fi
              else
                IFS= read -r line || exit 0
              fi
              case "$line" in
                "arm "*) armed=${line#arm } ;;
                disarm) armed= ;;
                exit) exit 0 ;;
              esac
            done
            """;

    private final String pgCtl;
    private final java.nio.file.Path dataDir;
    private final Clock clock;
    private final long graceNanos;
    private final Thread feeder;
    private final Object lock = new Object();
    private long deadline = DISARMED; // guarded by lock
    private boolean pending; // guarded by lock: a state the guard has not been told yet
    private boolean closing; // guarded by lock
    private volatile Process guard; // written by the feeder thread only
    private OutputStream toGuard; // feeder thread only
    private Long failingSince; // feeder thread only: when the current streak of failures began

    /**
     * @param graceNanos how long after the fence deadline the guard acts; must be well under the fence margin, so the
     *                   guard still acts before the lease can have expired
     */
    public FenceGuard(String pgCtl, java.nio.file.Path dataDir, Clock clock, long graceNanos) {
        this.pgCtl = pgCtl;
        this.dataDir = dataDir;
        this.clock = clock;
        this.graceNanos = graceNanos;
        this.feeder = new Thread(this::feed, "fence-guard");
        this.feeder.setDaemon(true);
        this.feeder.setPriority(Thread.MAX_PRIORITY);
    }

    public void start() {
        feeder.start();
    }

    /** The fence's deadline (on {@code clock.nanoTime()}), or empty when disarmed. Never blocks. */
    public void update(OptionalLong deadlineNanos) {
        synchronized (lock) {
            deadline = deadlineNanos.isPresent() ? deadlineNanos.getAsLong() : DISARMED;
            pending = true;
            lock.notifyAll();
        }
    }

    private void feed() {
        while (true) {
            long d;
            synchronized (lock) {
                while (!pending && !closing) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closing && !pending) {
                    break;
                }
                d = deadline;
                pending = false;
            }
            String line = d == DISARMED ? "disarm"
                    : "arm " + seconds(Math.max(1_000_000L, d + graceNanos - clock.nanoTime()));
            if (!send(line)) {
                synchronized (lock) {
                    pending = true; // tell a new guard
                }
                clock.sleepNanos(TimeUnit.SECONDS.toNanos(1));
            }
        }
        send("exit");
        closeGuard();
    }

    /** The guard's command; the script travels in the environment, so that ps shows one readable line. */
    static ProcessBuilder processBuilder(String pgCtl, java.nio.file.Path dataDir) {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "eval \"$PGKEEL_FENCE_GUARD\"", "pgkeel-fence-guard",
                pgCtl, dataDir.toString());
        pb.environment().put("PGKEEL_FENCE_GUARD", SCRIPT);
        return pb;
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e9);
    }

    private boolean send(String line) {
        try {
            if (guard == null || !guard.isAlive()) {
                closeGuard();
                guard = processBuilder(pgCtl, dataDir).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                toGuard = guard.getOutputStream();
                log.debug("fence guard started (pid {})", guard.pid());
            }
            toGuard.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            toGuard.flush();
            if (failingSince != null) {
                log.info("fence guard: running again after {} s", (clock.nanoTime() - failingSince) / 1_000_000_000L);
                failingSince = null;
            }
            return true;
        } catch (IOException e) {
            // once per streak of failures (a missing bash would otherwise log every second)
            long now = clock.nanoTime();
            if (failingSince == null) {
                failingSince = now;
                log.error("fence guard: could not start it or tell it '{}': {}; retrying every second. Until it"
                        + " runs, a primary whose agent dies keeps running postgres", line, e.getMessage());
            }
            closeGuard();
            return false;
        }
    }

    private void closeGuard() {
        if (toGuard != null) {
            try {
                toGuard.close();
            } catch (IOException ignored) {
                // it is gone already
            }
            toGuard = null;
        }
        guard = null;
    }

    /** Tells the guard the last state, then to exit; waits briefly for it. */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        try {
            feeder.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The running guard's PID, for tests. */
    OptionalLong pid() {
        Process p = guard;
        return p != null && p.isAlive() ? OptionalLong.of(p.pid()) : OptionalLong.empty();
    }
}
