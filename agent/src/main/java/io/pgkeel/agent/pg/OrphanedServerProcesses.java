package io.pgkeel.agent.pg;

import io.pgkeel.common.Clock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
     * The PIDs under {@code procRoot} (a {@code /proc}) running the {@code postgres} binary with {@code dataDir} as
     * their working directory (the postmaster changes to it, its children inherit it), this process excluded. Call
     * only while no postmaster runs in {@code dataDir}: a live one's children match too. Processes whose links cannot
     * be read (another user's, or gone) are skipped.
     */
    static List<Long> find(Path procRoot, Path dataDir) {
        Path data;
        try {
            data = dataDir.toRealPath();
        } catch (IOException e) {
            return List.of();
        }
        long self = ProcessHandle.current().pid();
        List<Long> out = new ArrayList<>();
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
                        out.add(Long.parseLong(name));
                    }
                } catch (IOException | UnsupportedOperationException | SecurityException e) {
                    // not ours to read, or it exited meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            return out;
        }
        return out;
    }

    /**
     * Kills (SIGKILL) every process {@link #find} names in {@code dataDir} and waits up to 2 s for each to go.
     * Call only while no postmaster runs there.
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
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                    && clock.nanoTime() - deadline < 0) {
                clock.sleepNanos(Duration.ofMillis(10).toNanos());
            }
        }
        return pids.size();
    }
}
