package io.pgkeel.agent.pg;

import io.pgkeel.common.Clock;
import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres.RewindOutcome;
import io.pgkeel.common.pg.LocalPostgres.StopMode;
import io.pgkeel.common.pg.LocalPostgres.TimelineSwitch;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.common.pg.PostmasterStatus;
import io.pgkeel.common.pg.SyncStandbyNames;
import io.pgkeel.config.Credentials;
import io.pgkeel.config.PgkeelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local PostgreSQL's processes and data directory, driven with its own tools: initdb, pg_ctl (start, stop,
 * promote, reload), pg_basebackup, postgres --single and pg_rewind. Each tool runs for at most 120 s
 * (pg_basebackup and pg_rewind 12 h); a failure is a {@link PostgresException} that ends with the tool's last output
 * lines. Loop thread only, except {@link #stop} with
 * IMMEDIATE, which the lease fence may call from its own thread (pg_ctl tolerates that).
 */
final class ProcessControl {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration CLONE_TIMEOUT = Duration.ofHours(12);

    private final DataDirectory dir;
    private final ConfigFiles files;
    private final LocalConnection local;
    private final PeerSql peers;
    private final Supplier<PgkeelConfig> config;
    private final Clock clock;
    private final Runnable dataDirectoryReplaced;

    /**
     * @param config                the configuration as of now (replaced on SIGHUP)
     * @param dataDirectoryReplaced called when the data directory is removed or cloned anew
     */
    ProcessControl(DataDirectory dir, ConfigFiles files, LocalConnection local, PeerSql peers,
                   Supplier<PgkeelConfig> config, Clock clock, Runnable dataDirectoryReplaced) {
        this.dir = dir;
        this.files = files;
        this.local = local;
        this.peers = peers;
        this.config = config;
        this.clock = clock;
        this.dataDirectoryReplaced = dataDirectoryReplaced;
    }

    private PgkeelConfig.Postgresql pgc() {
        return config.get().postgresql();
    }

    /**
     * initdb into the empty (or missing) data directory with the configured superuser and {@code initdb} options,
     * keeps initdb's postgresql.conf as postgresql.base.conf, writes the primary's configuration, starts it (waiting
     * up to 60 s) and creates the replication and rewind roles.
     *
     * @throws PostgresException when the directory is not empty or any step fails
     */
    void bootstrap() {
        createEmptyDataDir();
        PgkeelConfig cfg = config.get();
        PgkeelConfig.Postgresql pgc = cfg.postgresql();
        Path pwfile = null;
        try {
            List<String> cmd = new ArrayList<>(List.of(dir.tool("initdb"), "-D", dir.path().toString(), "-U",
                    pgc.superuser().username()));
            if (pgc.superuser().password() != null) {
                pwfile = Files.createTempFile(dir.path().getParent(), ".pgkeel-pw", "");
                Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
                Files.writeString(pwfile, pgc.superuser().password() + "\n");
                cmd.add("--pwfile=" + pwfile);
            }
            cmd.addAll(cfg.initdbArgs());
            log.info("running initdb {}", String.join(" ", cfg.initdbArgs()));
            check(ProcessRunner.run(cmd, Map.of(), TOOL_TIMEOUT, line -> log.debug("initdb: {}", line)), "initdb");
            Files.move(dir.resolve("postgresql.conf"), dir.resolve("postgresql.base.conf"));
        } catch (IOException e) {
            throw new PostgresException("initdb: " + e.getMessage(), e);
        } finally {
            deleteQuietly(pwfile);
        }
        files.write(true, null);
        pgCtl(List.of("start", "-w", "-t", "60", "-l", dir.logFile().toString()), "start new primary");
        try {
            createRoles();
        } catch (SQLException e) {
            throw new PostgresException("creating roles after initdb: " + e.getMessage(), e);
        }
    }

    /**
     * A string constant in SQL, as an escape string ({@code E'...'}: {@code \} and {@code '} escaped), so it reads the
     * same whatever {@code standard_conforming_strings} says. postgresql.conf's quoting ({@link ConfigText#literal})
     * is not SQL's: with standard_conforming_strings on (the default), a backslash in a password would be doubled.
     */
    static String sqlLiteral(String v) {
        return "E'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** A quoted SQL identifier: {@code "} doubled. */
    static String sqlIdentifier(String v) {
        return "\"" + v.replace("\"", "\"\"") + "\"";
    }

    private void createRoles() throws SQLException {
        Connection c = local.get();
        PgkeelConfig.Postgresql pgc = pgc();
        Credentials repl = pgc.replication();
        try (Statement st = c.createStatement()) {
            if (!repl.username().equals(pgc.superuser().username())) {
                st.execute("CREATE ROLE " + sqlIdentifier(repl.username()) + " WITH REPLICATION LOGIN"
                        + (repl.password() == null ? "" : " PASSWORD " + sqlLiteral(repl.password())));
            }
            if (pgc.rewind().isPresent() && !pgc.rewind().get().username().equals(pgc.superuser().username())) {
                Credentials rw = pgc.rewind().get();
                String role = sqlIdentifier(rw.username());
                st.execute("CREATE ROLE " + role + " WITH LOGIN"
                        + (rw.password() == null ? "" : " PASSWORD " + sqlLiteral(rw.password())));
                // the functions pg_rewind needs on the source (PostgreSQL 11+ docs, "pg_rewind" notes)
                for (String fn : List.of("pg_catalog.pg_ls_dir(text, boolean, boolean)",
                        "pg_catalog.pg_stat_file(text, boolean)", "pg_catalog.pg_read_binary_file(text)",
                        "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)")) {
                    st.execute("GRANT EXECUTE ON FUNCTION " + fn + " TO " + role);
                }
            }
        }
    }

    /**
     * Fills the empty data directory with pg_basebackup from {@code source} (WAL streamed alongside, fast
     * checkpoint), logging its progress at most every 2 s. A failed copy is removed again.
     *
     * @throws PostgresException when the directory is not empty or pg_basebackup fails
     */
    void cloneFrom(Member source) {
        ConnUrl from = ConnUrl.parse(source.connUrl());
        PgkeelConfig.Postgresql pgc = pgc();
        createEmptyDataDir();
        files.writePgpass();
        log.info("cloning from {} ({}) with pg_basebackup", source.name(), source.connUrl());
        long[] lastLog = {0};
        // the replication role's connection options apply as they do to primary_conninfo (Patroni's basebackup
        // connects with the same replication connection parameters)
        Map<String, String> conninfo = toolConninfo(from, pgc.replication(), majorVersionOfTools());
        Map<String, String> env = new HashMap<>();
        env.put("PGPASSFILE", pgc.pgpass().toAbsolutePath().toString());
        Path service = secretsOffTheCommandLine(conninfo, env);
        ProcessRunner.Result r;
        try {
            r = ProcessRunner.run(List.of(dir.tool("pg_basebackup"), "-D", dir.path().toString(),
                            "-d", ConfigText.conninfo(conninfo), "-X", "stream", "-c", "fast", "-P", "-w"),
                    env, CLONE_TIMEOUT, line -> {
                        long now = clock.nanoTime();
                        if (now - lastLog[0] > 2_000_000_000L || !line.contains("kB")) {
                            lastLog[0] = now;
                            log.info("pg_basebackup: {}", line.trim());
                        }
                    });
        } finally {
            deleteQuietly(service);
        }
        if (r.exitCode() != 0) {
            removeDataDirectory();
            throw new PostgresException("pg_basebackup from " + source.name() + " failed (exit " + r.exitCode() + "): "
                    + r.tail());
        }
        dataDirectoryReplaced.run();
    }

    /**
     * Writes the configuration for the role and starts the postmaster (pg_ctl start -W), waiting at most 5 s for its
     * postmaster.pid. A standby start of a directory that last ran as a primary, not just rewound or cloned, leaves
     * {@link DataDirectory#DIVERGENCE_MARKER} first.
     *
     * @throws PostgresException when pg_ctl fails
     */
    void start(boolean asPrimary, Member follow) {
        start(asPrimary, follow, false);
    }

    /**
     * Starts as a standby of {@code source} right after pg_rewind from it succeeded (also with "no rewind required"):
     * its WAL is consistent with the source's, so no divergence marker.
     *
     * @throws PostgresException when pg_ctl fails
     */
    void startAfterRewind(Member source) {
        start(false, source, true);
    }

    /** @param consistentWithUpstream just rewound from, or handed over to, {@code follow}: no divergence marker */
    private void start(boolean asPrimary, Member follow, boolean consistentWithUpstream) {
        // a fresh pg_basebackup or pg_rewind leaves backup_label (and a copied "in production" control file):
        // those are consistent with their source and need no check
        if (!asPrimary && !consistentWithUpstream && !dir.exists("backup_label")) {
            if (dir.controlData().ranAsPrimary()) {
                createMarker();
            }
        }
        files.write(asPrimary, follow);
        killOrphanedServerProcesses();
        log.info("starting postgres as {}", asPrimary ? "primary" : follow == null ? "a replica with no primary"
                : "a replica of " + follow.name());
        pgCtl(List.of("start", "-W", "-l", dir.logFile().toString()), "start");
        awaitPidFile();
    }

    /**
     * pg_ctl start -W returns before the postmaster has written postmaster.pid. Until it has, a probe would take the
     * instance for stopped, and the next cycle could act on a data directory that a postmaster is opening. It writes
     * the file first thing, so wait for it (briefly: a postmaster that fails at once never writes it).
     */
    private void awaitPidFile() {
        long deadline = clock.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!dir.postmasterAlive()) {
            if (clock.nanoTime() - deadline >= 0) {
                log.warn("postgres wrote no postmaster.pid within 5 s of pg_ctl start; see {}", dir.logFile());
                return;
            }
            clock.sleepNanos(Duration.ofMillis(10).toNanos());
        }
    }

    /**
     * Before a start: with no postmaster in the directory, processes of an earlier server still running there would
     * make it fail ({@link OrphanedServerProcesses}); they are killed.
     */
    private void killOrphanedServerProcesses() {
        if (!dir.postmasterAlive()) {
            OrphanedServerProcesses.kill(dir.path(), clock);
        }
    }

    /**
     * PostgreSQL refused to run because processes of an earlier server in the directory still run: the shared memory
     * block is still in use, or the lock file names a live postmaster (miscinit.c CreateLockFile, sysv_shmem.c).
     */
    static boolean oldServerStillThere(String output) {
        return output.contains("pre-existing shared memory block") || output.contains("Is another postmaster")
                || output.contains("Is another postgres");
    }

    /**
     * pg_ctl stop -m fast or immediate, waiting up to 120 s; a fast stop of a primary checkpoints first. With
     * synchronous replication on and Patroni's {@code primary_stop_timeout} set, a fast stop that takes longer (a
     * WAL sender waiting for a standby that does not answer, say) is cut short by an immediate one, as Patroni kills
     * the postmaster then. Nothing happens when no postmaster runs.
     *
     * @throws PostgresException when pg_ctl fails and the postmaster still runs
     */
    void stop(StopMode mode) {
        if (!dir.postmasterAlive()) {
            local.close();
            return;
        }
        if (mode == StopMode.FAST) {
            checkpointIfPrimary();
        }
        DynamicConfig dyn = files.dynamicConfig();
        int bound = mode == StopMode.FAST && dyn.sync().mode().isOn() && dyn.primaryStopTimeout() > 0
                ? dyn.primaryStopTimeout() : 0;
        String m = mode == StopMode.FAST ? "fast" : "immediate";
        local.close();
        ProcessRunner.Result r = pgCtlStop(m, bound > 0 ? bound : 120);
        if (r.exitCode() != 0 && dir.postmasterAlive() && bound > 0) {
            log.warn("postgres did not stop within primary_stop_timeout ({} s): stopping it immediately", bound);
            m = "immediate";
            r = pgCtlStop(m, 120);
        }
        if (r.exitCode() != 0 && dir.postmasterAlive()) {
            throw new PostgresException("pg_ctl stop -m " + m + " failed (exit " + r.exitCode() + "): " + r.tail());
        }
        log.info("postgres stopped ({})", m);
    }

    private ProcessRunner.Result pgCtlStop(String mode, int timeoutSeconds) {
        return ProcessRunner.run(List.of(dir.tool("pg_ctl"), "stop", "-D", dir.path().toString(), "-m", mode, "-w",
                "-t", Integer.toString(timeoutSeconds)), Map.of(), TOOL_TIMEOUT, line -> log.debug("pg_ctl: {}", line));
    }

    /**
     * A CHECKPOINT while the primary still takes writes makes the shutdown checkpoint that follows short: writes are
     * refused only for the final, small one (Patroni does the same before a switchover).
     */
    private void checkpointIfPrimary() {
        try (Statement st = local.get().createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            if (rs.next() && !rs.getBoolean(1)) {
                st.execute("CHECKPOINT");
            }
        } catch (SQLException e) {
            local.close();
            log.debug("CHECKPOINT before stopping failed: {}", e.getMessage());
        }
    }

    /**
     * pg_promote(wait, 60 s), or pg_ctl promote when that fails; then the primary's configuration and a CHECKPOINT,
     * so that its pg_control names the new timeline for pg_rewind on the old primary.
     *
     * @throws PostgresException when pg_ctl promote fails too
     */
    void promote() {
        // pg_promote() over the open connection saves spawning pg_ctl, and it waits until writes are accepted
        boolean promoted = false;
        try (Statement st = local.get().createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_promote(true, 60)")) {
            promoted = rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            local.close();
            log.warn("pg_promote() failed: {}; using pg_ctl promote", e.getMessage());
        }
        if (!promoted) {
            pgCtl(List.of("promote", "-w", "-t", "60"), "promote");
        }
        deleteQuietly(dir.resolve(DataDirectory.DIVERGENCE_MARKER));
        // a promoted node keeps standby settings out of its configuration from now on
        files.write(true, null);
        local.close();
        try (Statement st = local.get().createStatement()) {
            st.execute("CHECKPOINT");
        } catch (SQLException e) {
            local.close();
            log.warn("CHECKPOINT after promotion failed: {}; old primaries wait for the next one before pg_rewind",
                    e.getMessage());
        }
    }

    /**
     * Points the running standby at {@code leader} (null: nobody) and reloads.
     *
     * @throws PostgresException when the files cannot be written or pg_ctl reload fails
     */
    void follow(Member leader) {
        files.write(false, leader);
        pgCtl(List.of("reload", "-s"), "reload");
        log.info("primary_conninfo now points at {}", leader == null ? "nobody" : leader.name());
    }

    /**
     * Rewrites the configuration for the role PostgreSQL has now, keeping its upstream, with
     * {@code configKeyParameters} as the config key's parameters, and reloads it.
     *
     * @throws PostgresException when the files cannot be written or pg_ctl reload fails
     */
    void rewriteAndReload(Map<String, String> configKeyParameters) {
        files.rewriteForCurrentRole(configKeyParameters);
        try {
            pgCtl(List.of("reload", "-s"), "reload");
        } catch (PostgresException e) {
            files.forgetWritten(); // written but not in force: the next steady cycle tries again
            throw e;
        }
        log.info("reloaded the PostgreSQL configuration");
    }

    /**
     * Makes {@code value} the agent's own synchronous_standby_names ({@link ConfigFiles#manageSynchronousStandbyNames};
     * null: no longer managed), writes it into postgresql.conf for the role PostgreSQL has now, reloads a running
     * PostgreSQL and waits up to 1 s until a new statement on the local connection shows it (for null: the value the
     * configuration files give now, as pg_file_settings reads them). Patroni's {@code set_synchronous_standby_names}
     * waits a fixed 0.1 s instead. A value already managed and shown is left alone (no rewrite, no reload).
     *
     * @throws PostgresException when {@code value} is not a synchronous_standby_names PostgreSQL reads (nothing is
     *                           changed), the files cannot be written or the reload fails (the value managed before
     *                           stays), or PostgreSQL does not show the value within 1 s (the file holds it)
     */
    void setSynchronousStandbyNames(String value) {
        if (value != null) {
            try {
                SyncStandbyNames.parse(value);
            } catch (IllegalArgumentException e) {
                throw new PostgresException(e.getMessage(), e);
            }
        }
        String before = files.synchronousStandbyNames();
        if (before == null && value == null) {
            return; // not managed: the files hold the configured value already (every promotion with sync off)
        }
        boolean serving = dir.postmasterStatus() == PostmasterStatus.READY
                || dir.postmasterStatus() == PostmasterStatus.STANDBY;
        if (Objects.equals(before, value) && serving && shownSynchronousStandbyNames(value).confirmed()) {
            return;
        }
        files.manageSynchronousStandbyNames(value);
        if (!dir.exists("postgresql.conf")) {
            return; // nothing written yet: the first configuration written (bootstrap, start) holds it
        }
        try {
            files.rewriteForCurrentRole();
            if (dir.postmasterAlive()) {
                pgCtl(List.of("reload", "-s"), "reload");
            }
        } catch (PostgresException e) {
            files.manageSynchronousStandbyNames(before);
            files.forgetWritten(); // the files may hold either value: the next steady cycle writes them anew
            throw e;
        }
        log.info("synchronous_standby_names {}", value == null ? "no longer managed: the configured value applies"
                : "= '" + value + "'");
        if (serving) {
            awaitSynchronousStandbyNames(value);
        }
    }

    private static final Duration SYNC_SHOWN_TIMEOUT = Duration.ofSeconds(1);

    /**
     * A backend applies a reload when it next reads a command, after the postmaster has passed the signal on: poll,
     * each time with a new statement, until one shows the value.
     */
    private void awaitSynchronousStandbyNames(String value) {
        long deadline = clock.nanoTime() + SYNC_SHOWN_TIMEOUT.toNanos();
        while (true) {
            Shown shown = shownSynchronousStandbyNames(value);
            if (shown.confirmed()) {
                return;
            }
            if (clock.nanoTime() - deadline >= 0) {
                String expected = value != null ? "'" + value + "'" : "the configured value";
                String override = value != null && autoConfSetsSynchronousStandbyNames()
                        ? "; postgresql.auto.conf (ALTER SYSTEM) sets it, and overrides postgresql.conf" : "";
                throw new PostgresException("synchronous_standby_names: wrote " + expected + " and reloaded, but"
                        + " PostgreSQL still shows " + shown.describe() + " after " + SYNC_SHOWN_TIMEOUT.toMillis()
                        + " ms" + override);
            }
            clock.sleepNanos(Duration.ofMillis(10).toNanos());
        }
    }

    /** What a new statement shows, and whether it is what was written; {@code error} when it could not ask. */
    private record Shown(String value, boolean confirmed, String error) {
        String describe() {
            return error != null ? "nothing (" + error + ")" : "'" + value + "'";
        }
    }

    /**
     * @param value the managed value expected; null: the value the configuration files give (pg_file_settings reads
     *              them at query time; the last line without an error wins, else the built-in default)
     */
    private Shown shownSynchronousStandbyNames(String value) {
        String sql = value != null ? "SELECT current_setting('synchronous_standby_names'), NULL" : """
                SELECT current_setting('synchronous_standby_names'),
                       coalesce((SELECT setting FROM pg_file_settings
                                  WHERE lower(name) = 'synchronous_standby_names' AND error IS NULL
                                  ORDER BY seqno DESC LIMIT 1),
                                (SELECT boot_val FROM pg_settings WHERE name = 'synchronous_standby_names'))""";
        try (Statement st = local.get().createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            String shown = rs.getString(1);
            return new Shown(shown, shown.equals(value != null ? value : rs.getString(2)), null);
        } catch (SQLException e) {
            local.close();
            return new Shown(null, false, e.getMessage());
        }
    }

    private boolean autoConfSetsSynchronousStandbyNames() {
        try {
            return Files.readAllLines(dir.resolve("postgresql.auto.conf")).stream()
                    .anyMatch(l -> l.trim().toLowerCase(Locale.ROOT).startsWith("synchronous_standby_names"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Crash recovery in single-user mode when the stopped directory did not shut down cleanly, then pg_rewind from
     * {@code source} as the rewind role (the superuser without one). Nothing is changed while the source's
     * checkpoint does not show its current timeline yet.
     *
     * @throws PostgresException when a postmaster runs in the directory
     */
    RewindOutcome rewind(Member source) {
        if (dir.postmasterAlive()) {
            throw new PostgresException("refusing to run pg_rewind: a postmaster is running in " + dir.path());
        }
        ConnUrl from = ConnUrl.parse(source.connUrl());
        PgkeelConfig.Postgresql pgc = pgc();
        Credentials who = pgc.rewind().orElse(pgc.superuser());
        if (!peers.checkpointShowsItsTimeline(from, who)) {
            log.info("waiting for {} to checkpoint on its new timeline before pg_rewind", source.name());
            return RewindOutcome.SOURCE_NOT_READY;
        }
        String state = dir.controlData().state();
        if (!state.equals("shut down") && !state.equals("shut down in recovery")) {
            // pg_rewind needs a cleanly shut down target: finish crash recovery in single-user mode first
            log.info("running crash recovery in single-user mode before pg_rewind (cluster state: {})", state);
            files.write(true, null);
            killOrphanedServerProcesses();
            ProcessRunner.Result r = ProcessRunner.run(List.of(dir.tool("postgres"), "--single", "-D",
                            dir.path().toString(), "-c", "archive_mode=off", "-c", "hot_standby=off", "postgres"),
                    Map.of(), TOOL_TIMEOUT, line -> log.debug("postgres --single: {}", line), Path.of("/dev/null"));
            if (r.exitCode() != 0 && oldServerStillThere(r.tail())) {
                // a killed postmaster's backends outlive it for a moment: not a failed rewind, only too soon
                log.info("single-user crash recovery must wait for the old server's processes to exit: {}", r.tail());
                return RewindOutcome.TARGET_BUSY;
            }
            if (r.exitCode() != 0) {
                log.warn("single-user crash recovery failed (exit {}): {}", r.exitCode(), r.tail());
                return RewindOutcome.FAILED;
            }
        }
        Map<String, String> kw = toolConninfo(from, who, dir.majorVersion());
        kw.put("dbname", "postgres");
        kw.put("connect_timeout", "5");
        Map<String, String> env = new HashMap<>();
        if (who.password() != null) {
            env.put("PGPASSWORD", who.password());
        }
        Path service = secretsOffTheCommandLine(kw, env);
        String conninfo = ConfigText.conninfo(kw);
        log.info("running pg_rewind from {}", source.name());
        ProcessRunner.Result r;
        try {
            r = ProcessRunner.run(List.of(dir.tool("pg_rewind"), "-D", dir.path().toString(),
                    "--source-server=" + conninfo, "--progress"), env, CLONE_TIMEOUT,
                    line -> log.info("pg_rewind: {}", line));
        } finally {
            deleteQuietly(service);
        }
        if (r.exitCode() != 0) {
            log.warn("pg_rewind failed (exit {}): {}", r.exitCode(), r.tail());
            return RewindOutcome.FAILED;
        }
        deleteQuietly(dir.resolve(DataDirectory.DIVERGENCE_MARKER));
        return RewindOutcome.DONE;
    }

    /**
     * libpq keywords for a tool (pg_basebackup, pg_rewind) to reach {@code from} as {@code who}, with the role's
     * connection options as PostgreSQL {@code major}'s libpq knows them; a mutable map, for the caller's additions.
     */
    private static Map<String, String> toolConninfo(ConnUrl from, Credentials who, int major) {
        Map<String, String> kw = new LinkedHashMap<>();
        kw.put("host", from.host());
        kw.put("port", String.valueOf(from.port()));
        kw.put("user", who.username());
        kw.putAll(ConfigText.libpqOptions(who, major));
        return kw;
    }

    /**
     * Moves {@code sslpassword} out of {@code conninfo} (a tool's command line, which every local user reads in
     * {@code ps}) into a libpq service file of mode 0600, named in {@code env} ({@code PGSERVICEFILE},
     * {@code PGSERVICE}; a process's environment is readable by its own user only). libpq takes the service's
     * keywords where the connection string has none. Passwords already travel by PGPASSWORD or the passfile.
     *
     * @return the service file to delete after the run, or null when there was nothing to move
     */
    static Path secretsOffTheCommandLine(Map<String, String> conninfo, Map<String, String> env) {
        String secret = conninfo.remove("sslpassword");
        if (secret == null) {
            return null;
        }
        try {
            Path file = Files.createTempFile("pgkeel-service-", ".conf"); // rw------- on POSIX
            Files.writeString(file, "[pgkeel]\nsslpassword=" + secret + "\n");
            env.put("PGSERVICEFILE", file.toString());
            env.put("PGSERVICE", "pgkeel");
            return file;
        } catch (IOException e) {
            throw new PostgresException("cannot write a private libpq service file for sslpassword: " + e.getMessage(),
                    e);
        }
    }

    /** The shutdown checkpoint's LSN of this stopped, cleanly shut down primary; -1 otherwise. */
    long shutdownCheckpointLsn() {
        if (dir.postmasterAlive()) {
            return -1;
        }
        return dir.controlData().shutdownCheckpoint();
    }

    /**
     * Starts this cleanly stopped former primary as a standby of {@code newLeader}, which holds all of its WAL, with
     * no divergence marker.
     *
     * @throws PostgresException when it did not shut down cleanly, or the start fails
     */
    void startAfterHandover(Member newLeader) {
        if (shutdownCheckpointLsn() < 0) {
            throw new PostgresException("refusing to start as a standby without pg_rewind: postgres did not shut down"
                    + " cleanly");
        }
        // the new leader holds all of this node's WAL: like after pg_rewind, no divergence marker is needed
        deleteQuietly(dir.resolve(DataDirectory.DIVERGENCE_MARKER));
        start(false, newLeader, true);
    }

    /**
     * The switches recorded in {@code pg_wal/<timeline as 8 hex digits>.history}, oldest first; empty for timeline 1.
     *
     * @throws PostgresException when the file cannot be read or parsed
     */
    List<TimelineSwitch> timelineHistory(int timeline) {
        List<TimelineSwitch> out = new ArrayList<>();
        if (timeline <= 1) {
            return out;
        }
        Path file = dir.resolve("pg_wal").resolve(String.format("%08X.history", timeline));
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+", 3);
                if (f.length >= 2 && f[0].matches("\\d+")) {
                    out.add(new TimelineSwitch(Integer.parseInt(f[0]), Lsn.parse(f[1]), f.length > 2 ? f[2] : ""));
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new PostgresException("reading " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Deletes the data directory and everything in it.
     *
     * @throws PostgresException when a postmaster runs in it, or a file cannot be deleted
     */
    void removeDataDirectory() {
        Path dataDir = dir.path();
        if (dir.postmasterAlive()) {
            throw new PostgresException("refusing to remove the data directory " + dataDir + ": a postmaster is running"
                    + " in it");
        }
        local.close();
        dataDirectoryReplaced.run();
        if (!Files.exists(dataDir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dataDir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new PostgresException("removing data directory " + dataDir + ": " + e.getMessage(), e);
        }
        log.info("removed data directory {}", dataDir);
    }

    /**
     * The major version of the PostgreSQL tools, before a data directory exists: the bin_dir's parent is named by it
     * on Debian ({@code /usr/lib/postgresql/15/bin}); 0 when it is not, and every connection option is passed.
     */
    private int majorVersionOfTools() {
        Path bin = pgc().binDir();
        Path parent = bin == null ? null : bin.toAbsolutePath().getParent();
        String name = parent == null || parent.getFileName() == null ? "" : parent.getFileName().toString();
        return name.matches("\\d{2}") ? Integer.parseInt(name) : 0;
    }

    private void createEmptyDataDir() {
        Path dataDir = dir.path();
        try {
            if (Files.exists(dataDir)) {
                try (Stream<Path> s = Files.list(dataDir)) {
                    if (s.findAny().isPresent()) {
                        throw new PostgresException("data directory " + dataDir + " is not empty");
                    }
                }
            } else {
                Files.createDirectories(dataDir);
            }
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new PostgresException("preparing data directory " + dataDir + ": " + e.getMessage(), e);
        }
    }

    private void pgCtl(List<String> args, String what) {
        List<String> cmd = new ArrayList<>();
        cmd.add(dir.tool("pg_ctl"));
        cmd.add(args.get(0));
        cmd.add("-D");
        cmd.add(dir.path().toString());
        cmd.addAll(args.subList(1, args.size()));
        check(ProcessRunner.run(cmd, Map.of(), TOOL_TIMEOUT, line -> log.debug("pg_ctl: {}", line)), "pg_ctl " + what);
    }

    private void check(ProcessRunner.Result r, String what) {
        if (r.exitCode() != 0) {
            throw new PostgresException(what + " failed (exit " + r.exitCode() + "): " + r.tail()
                    + (Files.exists(dir.logFile()) ? " (see " + dir.logFile() + ")" : ""));
        }
    }

    private void createMarker() {
        try {
            if (!dir.exists(DataDirectory.DIVERGENCE_MARKER)) {
                Files.createFile(dir.resolve(DataDirectory.DIVERGENCE_MARKER));
            }
        } catch (IOException e) {
            throw new PostgresException("writing " + DataDirectory.DIVERGENCE_MARKER + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                log.debug("could not delete {}: {}", p, e.getMessage());
            }
        }
    }
}
