package io.pgkeel.agent.pg;

import io.pgkeel.common.Clock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processes of an earlier server still running in a data directory whose postmaster is gone. A backend that got
 * SIGQUIT (an immediate shutdown) can hang in its exit path (quickdie taking a libc lock the signal interrupted), and
 * PostgreSQL's postmaster SIGKILLs such children after 5 s (postmaster.c, SIGKILL_CHILDREN_AFTER_SECS); when the
 * postmaster itself was killed meanwhile, nobody does, and the process keeps the old shared memory block attached:
 * every later start and single-user crash recovery fails with "pre-existing shared memory block ... is still in use"
 * until it is gone, "Terminate any old server processes associated with data directory" as PostgreSQL's hint says.
 * The chaos bench found one (kill -9 of a primary's agent and postmaster as its fence guard stopped it; the member
 * never came back). Patroni's {@code PostmasterProcess.signal_kill} kills a postmaster's children with it, but leaves
 * orphans of a postmaster that died on its own. Killing them loses nothing: they belong to a server that is down, and
 * crash recovery replays WAL as after any crash. Linux only ({@code /proc}); elsewhere nothing is found.
 */
final class OrphanedServerProcesses {
    private static final Logger log = LoggerFactory.getLogger(OrphanedServerProcesses.class);
    private static final Path PROC = Path.of("/proc");

    private OrphanedServerProcesses() {}

    /**
     * The orphans under {@code procRoot} (a {@code /proc}) among the processes running the {@code postgres} binary with
     * {@code dataDir} as their working directory (the postmaster changes to it, its children inherit it), this process
     * excluded: those whose parent is not one of them and that have no child among them. A live postmaster has
     * children there (its startup process, checkpointer, ...) and its children have it as parent, so neither is
     * named even when postmaster.pid is missing or being rewritten (review19); a backend whose postmaster died has been
     * handed to PID 1 and forks nothing. Processes whose links cannot be read (another user's, or gone) are skipped.
     */
    static List<Long> find(Path procRoot, Path dataDir) {
        Path data;
        try {
            data = dataDir.toRealPath();
        } catch (IOException e) {
            return List.of();
        }
        long self = ProcessHandle.current().pid();
        Map<Long, Long> parents = new HashMap<>(); // the matching processes, with their parent PIDs
        try (Stream<Path> entries = Files.list(procRoot)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) {
                    continue;
                }
                try {
                    Path exe = Files.readSymbolicLink(p.resolve("exe"));
                    String binary = exe.getFileName() == null ? "" : exe.getFileName().toString();
                    // a binary replaced by a package upgrade reads as "postgres (deleted)"
                    if ((binary.equals("postgres") || binary.equals("postgres (deleted)"))
                            && Files.readSymbolicLink(p.resolve("cwd")).equals(data)) {
                        long pid = Long.parseLong(name);
                        parentOf(Files.readString(p.resolve("stat"))).ifPresent(pp -> parents.put(pid, pp));
                    }
                } catch (IOException | UnsupportedOperationException | SecurityException e) {
                    // not ours to read, or it exited meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            // /proc missing or unreadable: nothing to go by
        }
        List<Long> out = new ArrayList<>();
        parents.forEach((pid, parent) -> {
            if (!parents.containsKey(parent) && !parents.containsValue(pid)) {
                out.add(pid);
            }
        });
        out.sort(null);
        return out;
    }

    /** The parent PID: /proc/PID/stat's fourth field, after the command name in parentheses (which may hold spaces). */
    static Optional<Long> parentOf(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return Optional.empty();
        }
        String[] fields = stat.substring(close + 1).trim().split("\\s+");
        try {
            return fields.length >= 2 ? Optional.of(Long.parseLong(fields[1])) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Kills (SIGKILL) every process {@link #find} names in {@code dataDir} and waits up to 2 s for them to go.
     * Called only while postmaster.pid names no live postmaster there.
     *
     * @param clock for the wait
     * @return how many were killed
     */
    static int kill(Path dataDir, Clock clock) {
        List<Long> pids = find(PROC, dataDir);
        for (long pid : pids) {
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty()) {
                continue;
            }
            String what = h.get().info().commandLine().orElse("postgres");
            log.warn("killing process {} ({}) of an earlier server in {}: its postmaster is gone, and while it runs"
                    + " it holds that server's shared memory block, so PostgreSQL cannot start there", pid, what,
                    dataDir);
            h.get().destroyForcibly();
        }
        long deadline = clock.nanoTime() + Duration.ofSeconds(2).toNanos();
        for (long pid : pids) {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                if (clock.nanoTime() - deadline >= 0) {
                    log.warn("process {} in {} is still there 2 s after SIGKILL; the start may fail", pid, dataDir);
                    break;
                }
                clock.sleepNanos(Duration.ofMillis(10).toNanos());
            }
        }
        return pids.size();
    }
}
