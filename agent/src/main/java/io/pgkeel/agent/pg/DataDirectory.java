package io.pgkeel.agent.pg;

import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.common.pg.PostmasterStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local data directory and the PostgreSQL binaries that serve it, as far as they can be read without changing
 * anything: whether a postmaster runs in it, the signal and marker files, what pgkeel last wrote into
 * postgresql.conf, and pg_controldata. Any thread.
 */
final class DataDirectory {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);
    /**
     * Present while this data directory may hold WAL that the current leader never saw: it ran as a primary and
     * was then started as a standby without pg_rewind. Such a node rewinds before following anyone.
     */
    static final String DIVERGENCE_MARKER = "pgkeel.rewind-check";

    private static final Path PROC = Path.of("/proc");

    private final Path dir;
    private final Path logFile;
    private final Supplier<Path> binDir;

    /**
     * @param dir     the data directory, absolute
     * @param logFile where pg_ctl sends the postmaster's output
     * @param binDir  {@code postgresql.bin_dir} as configured now; null or empty: the tools are on the PATH
     */
    DataDirectory(Path dir, Path logFile, Supplier<Path> binDir) {
        this.dir = dir;
        this.logFile = logFile;
        this.binDir = binDir;
    }

    Path path() {
        return dir;
    }

    Path resolve(String file) {
        return dir.resolve(file);
    }

    Path logFile() {
        return logFile;
    }

    /** The command for a PostgreSQL tool ({@code pg_ctl}, {@code initdb}, ...): in bin_dir, else on the PATH. */
    String tool(String name) {
        Path bin = binDir.get();
        return bin == null || bin.toString().isEmpty() ? name : bin.resolve(name).toString();
    }

    /** PG_VERSION exists: initdb or a clone has filled the directory. */
    boolean isInitialized() {
        return Files.exists(dir.resolve("PG_VERSION"));
    }

    /**
     * The major version in PG_VERSION (12, 13, ...; 9.6 reads as 9); 0 when the directory holds no cluster or the
     * file cannot be read.
     */
    int majorVersion() {
        try {
            String v = Files.readString(dir.resolve("PG_VERSION")).trim();
            int dot = v.indexOf('.');
            return Integer.parseInt(dot < 0 ? v : v.substring(0, dot));
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    boolean exists(String file) {
        return Files.exists(dir.resolve(file));
    }

    /** The names of the files in pg_wal (a link to elsewhere is followed); empty when it cannot be read. */
    List<String> walFileNames() {
        try (Stream<Path> files = Files.list(dir.resolve("pg_wal"))) {
            return files.map(f -> f.getFileName().toString()).toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    /** postmaster.pid names a live process that looks like a postgres (a stale file after a crash does not count). */
    boolean postmasterAlive() {
        return postmasterStatus() != PostmasterStatus.ABSENT;
    }

    /**
     * What the postmaster says of itself in postmaster.pid, if its PID is a live postgres, with standby.signal telling
     * a standby from a primary. Any thread, no SQL.
     */
    PostmasterStatus postmasterStatus() {
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.resolve("postmaster.pid"));
        } catch (IOException e) {
            lines = null; // no file (no postmaster), or one being replaced: nothing to go by
        }
        return statusOf(lines, DataDirectory::isPostgres, standbyConfigured());
    }

    /**
     * @param pidFile      postmaster.pid's lines, null when there is none
     * @param isPostmaster whether a PID is a live postgres process
     * @param standby      standby.signal exists: PostgreSQL stays in recovery (it removes the file when it leaves)
     */
    static PostmasterStatus statusOf(List<String> pidFile, LongPredicate isPostmaster, boolean standby) {
        if (pidFile == null || pidFile.isEmpty()) {
            return PostmasterStatus.ABSENT;
        }
        long pid;
        try {
            pid = Long.parseLong(pidFile.get(0).trim());
        } catch (NumberFormatException e) {
            return PostmasterStatus.ABSENT;
        }
        if (!isPostmaster.test(pid)) {
            return PostmasterStatus.ABSENT;
        }
        // line 8, LOCK_FILE_LINE_PM_STATUS (pidfile.h): "ready" accepting connections, a hot standby too;
        // "standby" up but refusing connections (hot_standby off); until it is written, not serving yet
        String status = pidFile.size() >= 8 ? pidFile.get(7).trim() : "";
        return switch (status) {
            case "ready" -> standby ? PostmasterStatus.STANDBY : PostmasterStatus.READY;
            case "stopping" -> PostmasterStatus.STOPPING;
            default -> PostmasterStatus.STARTING;
        };
    }

    /**
     * A process, not a zombie, named postgres. A postmaster killed with -9 stays a zombie until its parent (init,
     * once pg_ctl has gone) reaps it, which can take a second: Linux's /proc says so, ProcessHandle does not.
     */
    private static boolean isPostgres(long pid) {
        if (Files.isDirectory(PROC)) {
            String stat;
            try {
                stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            } catch (IOException e) {
                return false;
            }
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open || close + 2 >= stat.length()) {
                return false;
            }
            char state = stat.charAt(close + 2);
            return state != 'Z' && state != 'X' && stat.substring(open + 1, close).contains("postgres");
        }
        return ProcessHandle.of(pid).map(h -> h.isAlive()
                && h.info().command().map(cmd -> cmd.contains("postgres")).orElse(true)).orElse(false);
    }

    boolean standbyConfigured() {
        return Files.exists(dir.resolve("standby.signal"));
    }

    /** The member our primary_conninfo points at, from the marker we write into postgresql.conf; null if none. */
    String following() {
        Path conf = dir.resolve("postgresql.conf");
        if (!standbyConfigured() || !Files.exists(conf)) {
            return null;
        }
        try (Stream<String> lines = Files.lines(conf)) {
            return ConfigText.followedMember(lines);
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
    }

    /**
     * primary_conninfo and primary_slot_name as last written, so a reload does not change whom a standby follows.
     *
     * @throws PostgresException when postgresql.conf cannot be read
     */
    ConfigText.Standby standbySettings() {
        try {
            return ConfigText.standbyOf(Files.readAllLines(dir.resolve("postgresql.conf")));
        } catch (IOException e) {
            throw new PostgresException("reading postgresql.conf: " + e.getMessage(), e);
        }
    }

    /** pg_controldata's fields (30 s at most); {@link ControlData#NONE} and a warning when it fails. */
    ControlData controlData() {
        List<String> lines = new ArrayList<>();
        ProcessRunner.Result r = ProcessRunner.run(List.of(tool("pg_controldata"), "-D", dir.toString()),
                Map.of("LC_ALL", "C"), Duration.ofSeconds(30), lines::add);
        if (r.exitCode() != 0) {
            log.warn("pg_controldata failed ({}): {}", r.exitCode(), r.tail());
            return ControlData.NONE;
        }
        return ControlData.parse(lines);
    }
}
