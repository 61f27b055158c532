package io.pgkeel.agent.pg;

import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.config.Credentials;
import io.pgkeel.config.PgkeelConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local PostgreSQL, driven with its own tools (initdb, pg_ctl, pg_basebackup, pg_rewind, pg_controldata,
 * postgres --single) and observed over JDBC.
 *
 * <p>pgkeel owns {@code postgresql.conf}: initdb's file is kept as {@code postgresql.base.conf} and included,
 * and the managed settings (listen address, port, primary_conninfo, ...) are rewritten before every start and
 * re-point, as Patroni does. Thread-safety: called from the HA loop thread, except {@link #stop} with
 * IMMEDIATE, which the lease fence may call from its own thread (pg_ctl tolerates that).
 */
public final class PostgresController implements LocalPostgres {
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);
    private static final String FOLLOW_MARKER = "# pgkeel: following ";
    /**
     * Present while this data directory may hold WAL that the current leader never saw: it ran as a primary and
     * was then started as a standby without pg_rewind. Such a node rewinds before following anyone.
     */
    static final String DIVERGENCE_MARKER = "pgkeel.rewind-check";
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration CLONE_TIMEOUT = Duration.ofHours(12);

    /** Replaced on SIGHUP (on the loop thread only). */
    private PgkeelConfig config;
    private PgkeelConfig.Postgresql pgc;
    private final Supplier<DynamicConfig> dynamic;
    private final Path dataDir;
    private final Path logFile;
    private final io.pgkeel.common.Clock clock;

    private Connection connection;
    /** postgresql.parameters of the config key as last written to postgresql.conf; null before the first write. */
    private Map<String, String> writtenDynamicParameters;
    /**
     * Connections to the other members' PostgreSQL, kept between cycles so that a switching-over leader asks its
     * candidate without a new connection (and authentication) in the middle of its write downtime. Loop thread only.
     */
    private final Map<String, Connection> peerConnections = new HashMap<>();
    /** pg_rewind just succeeded (possibly with "no rewind required"): the next standby start needs no marker. */
    private boolean rewoundForNextStart;
    private String systemIdentifier;
    private String lastProbeError;

    public PostgresController(PgkeelConfig config, Supplier<DynamicConfig> dynamic, io.pgkeel.common.Clock clock) {
        this.clock = clock;
        this.config = config;
        this.pgc = config.postgresql();
        this.dynamic = dynamic;
        this.dataDir = pgc.dataDir().toAbsolutePath();
        this.logFile = dataDir.resolveSibling(dataDir.getFileName() + ".postmaster.log");
    }

    // ---------------------------------------------------------------- observe

    @Override
    public PgStatus probe() {
        boolean initialized = Files.exists(dataDir.resolve("PG_VERSION"));
        if (!initialized) {
            closeConnection();
            systemIdentifier = null;
            return PgStatus.empty();
        }
        if (!isPostmasterAlive()) {
            closeConnection();
            Map<String, String> control = controlData();
            String state = control.getOrDefault("Database cluster state", "");
            systemIdentifier = control.get("Database system identifier");
            // a fresh pg_basebackup (or pg_rewind) leaves backup_label and a pg_control copied from the source,
            // which says "in production": such a directory recovers from its source and is no former primary
            boolean wasPrimary = !Files.exists(dataDir.resolve("backup_label")) && (state.equals("in production")
                    || state.equals("shut down") || state.equals("shutting down"))
                    || Files.exists(dataDir.resolve(DIVERGENCE_MARKER));
            int tl = parseInt(control.get("Latest checkpoint's TimeLineID"));
            return new PgStatus(true, systemIdentifier, wasPrimary, PgRunState.STOPPED, isStandbyConfigured(), tl, 0, 0,
                    0, null, following(), Set.of(), 0, null, false, writtenDynamicParameters,
                    shutdownCheckpoint(control));
        }
        try {
            return querySql();
        } catch (SQLException e) {
            closeConnection();
            if (!String.valueOf(e.getMessage()).equals(lastProbeError)) {
                lastProbeError = String.valueOf(e.getMessage());
                log.debug("postgres is not accepting connections yet: {}", lastProbeError);
            }
            return new PgStatus(true, systemIdentifier, !isStandbyConfigured(), PgRunState.STARTING, isStandbyConfigured(),
                    0, 0, 0, 0, null, following(), Set.of(), 0, null).withWrittenParameters(writtenDynamicParameters);
        }
    }

    private PgStatus querySql() throws SQLException {
        Connection c = connection();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT pg_is_in_recovery(),
                            CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END,
                            CASE WHEN pg_is_in_recovery() THEN NULL ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,
                            pg_last_wal_receive_lsn()::text,
                            pg_last_wal_replay_lsn()::text,
                            (SELECT status FROM pg_stat_get_wal_receiver()),
                            (SELECT received_tli FROM pg_stat_get_wal_receiver()),
                            (SELECT timeline_id FROM pg_control_checkpoint()),
                            current_setting('server_version_num')::int,
                            pg_postmaster_start_time()::text,
                            (SELECT system_identifier::text FROM pg_control_system()),
                            (SELECT count(*) > 0 FROM pg_settings WHERE pending_restart)""")) {
            rs.next();
            boolean inRecovery = rs.getBoolean(1);
            systemIdentifier = rs.getString(11);
            long receive = lsn(rs.getString(4));
            long replay = lsn(rs.getString(5));
            int timeline;
            long wal;
            String replicationState = null;
            Set<String> slots = Set.of();
            if (inRecovery) {
                int receivedTli = rs.getInt(7);
                timeline = receivedTli > 0 ? receivedTli : rs.getInt(8);
                wal = Math.max(receive, replay);
                replicationState = "streaming".equals(rs.getString(6)) ? "streaming" : "in archive recovery";
            } else {
                timeline = Integer.parseInt(rs.getString(3), 16);
                wal = lsn(rs.getString(2));
            }
            slots = slots(c); // on a standby too: slots kept there hold back its WAL
            boolean mayHaveDiverged = !inRecovery || Files.exists(dataDir.resolve(DIVERGENCE_MARKER));
            return new PgStatus(true, systemIdentifier, mayHaveDiverged, PgRunState.RUNNING, inRecovery, timeline, wal,
                    receive, replay, replicationState, inRecovery ? following() : null, slots, rs.getInt(9),
                    rs.getString(10), rs.getBoolean(12)).withWrittenParameters(writtenDynamicParameters);
        }
    }

    private static Set<String> slots(Connection c) throws SQLException {
        Set<String> slots = new HashSet<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical'")) {
            while (rs.next()) {
                slots.add(rs.getString(1));
            }
        }
        return slots;
    }

    private static long lsn(String text) {
        return text == null ? 0 : Lsn.parse(text);
    }

    private Connection connection() throws SQLException {
        if (connection != null) {
            return connection;
        }
        Properties p = new Properties();
        p.setProperty("user", pgc.superuser().username());
        if (pgc.superuser().password() != null) {
            p.setProperty("password", pgc.superuser().password());
        }
        p.setProperty("connectTimeout", "3");
        p.setProperty("socketTimeout", "10");
        p.setProperty("loginTimeout", "3");
        p.setProperty("ApplicationName", "pgkeel");
        p.setProperty("sslmode", "disable");
        String url = "jdbc:postgresql://" + localHost() + ":" + pgc.port() + "/postgres";
        connection = DriverManager.getConnection(url, p);
        return connection;
    }

    /** The address the agent uses to reach its own PostgreSQL: the first listen address, or loopback for '*'. */
    private String localHost() {
        String first = pgc.listenHosts().split(",")[0].trim();
        return first.equals("*") || first.equals("0.0.0.0") || first.isEmpty() ? "127.0.0.1" : first;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing connection: {}", e.getMessage());
            }
            connection = null;
        }
    }

    private boolean isPostmasterAlive() {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return false;
        }
        try {
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty()) {
                return false;
            }
            long pid = Long.parseLong(lines.get(0).trim());
            return ProcessHandle.of(pid).map(h -> h.isAlive()
                    && h.info().command().map(cmd -> cmd.contains("postgres")).orElse(true)).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private boolean isStandbyConfigured() {
        return Files.exists(dataDir.resolve("standby.signal"));
    }

    /** The member our primary_conninfo points at, from the marker we write into postgresql.conf. */
    private String following() {
        Path conf = dataDir.resolve("postgresql.conf");
        if (!isStandbyConfigured() || !Files.exists(conf)) {
            return null;
        }
        try (Stream<String> lines = Files.lines(conf)) {
            return lines.filter(l -> l.startsWith(FOLLOW_MARKER)).map(l -> l.substring(FOLLOW_MARKER.length()).trim())
                    .filter(s -> !s.isEmpty()).findFirst().orElse(null);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    private Map<String, String> controlData() {
        Map<String, String> out = new HashMap<>();
        List<String> lines = new ArrayList<>();
        ProcessRunner.Result r = ProcessRunner.run(List.of(tool("pg_controldata"), "-D", dataDir.toString()),
                Map.of("LC_ALL", "C"), Duration.ofSeconds(30), lines::add);
        if (r.exitCode() != 0) {
            log.warn("pg_controldata failed ({}): {}", r.exitCode(), r.tail());
            return out;
        }
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return out;
    }

    private static int parseInt(String s) {
        try {
            return s == null ? 0 : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- act

    @Override
    public String bootstrap() {
        createEmptyDataDir();
        Path pwfile = null;
        try {
            List<String> cmd = new ArrayList<>(List.of(tool("initdb"), "-D", dataDir.toString(), "-U",
                    pgc.superuser().username()));
            if (pgc.superuser().password() != null) {
                pwfile = Files.createTempFile(dataDir.getParent(), ".pgkeel-pw", "");
                Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
                Files.writeString(pwfile, pgc.superuser().password() + "\n");
                cmd.add("--pwfile=" + pwfile);
            }
            cmd.addAll(config.initdbArgs());
            log.info("running initdb {}", String.join(" ", config.initdbArgs()));
            check(ProcessRunner.run(cmd, Map.of(), TOOL_TIMEOUT, line -> log.debug("initdb: {}", line)), "initdb");
            Files.move(dataDir.resolve("postgresql.conf"), dataDir.resolve("postgresql.base.conf"));
        } catch (IOException e) {
            throw new PostgresException("initdb: " + e.getMessage(), e);
        } finally {
            deleteQuietly(pwfile);
        }
        writeConfiguration(true, null);
        pgCtl(List.of("start", "-w", "-t", "60", "-l", logFile.toString()), "start new primary");
        try {
            createRoles();
        } catch (SQLException e) {
            throw new PostgresException("creating roles after initdb: " + e.getMessage(), e);
        }
        PgStatus s = probe();
        if (s.systemIdentifier() == null) {
            throw new PostgresException("bootstrapped postgres does not report a system identifier");
        }
        return s.systemIdentifier();
    }

    private void createRoles() throws SQLException {
        Connection c = connection();
        Credentials repl = pgc.replication();
        try (Statement st = c.createStatement()) {
            if (!repl.username().equals(pgc.superuser().username())) {
                st.execute("CREATE ROLE " + ident(repl.username()) + " WITH REPLICATION LOGIN"
                        + (repl.password() == null ? "" : " PASSWORD " + literal(repl.password())));
            }
            if (pgc.rewind().isPresent() && !pgc.rewind().get().username().equals(pgc.superuser().username())) {
                Credentials rw = pgc.rewind().get();
                String role = ident(rw.username());
                st.execute("CREATE ROLE " + role + " WITH LOGIN"
                        + (rw.password() == null ? "" : " PASSWORD " + literal(rw.password())));
                // the functions pg_rewind needs on the source (PostgreSQL 11+ docs, "pg_rewind" notes)
                for (String fn : List.of("pg_catalog.pg_ls_dir(text, boolean, boolean)",
                        "pg_catalog.pg_stat_file(text, boolean)", "pg_catalog.pg_read_binary_file(text)",
                        "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)")) {
                    st.execute("GRANT EXECUTE ON FUNCTION " + fn + " TO " + role);
                }
            }
        }
    }

    @Override
    public void cloneFrom(Member source) {
        URI uri = URI.create(source.connUrl());
        createEmptyDataDir();
        writePgpass();
        log.info("cloning from {} ({}:{}) with pg_basebackup", source.name(), uri.getHost(), uri.getPort());
        long[] lastLog = {0};
        ProcessRunner.Result r = ProcessRunner.run(List.of(tool("pg_basebackup"), "-D", dataDir.toString(),
                        "-h", uri.getHost(), "-p", String.valueOf(uri.getPort()), "-U", pgc.replication().username(),
                        "-X", "stream", "-c", "fast", "-P", "-w"),
                Map.of("PGPASSFILE", pgc.pgpass().toAbsolutePath().toString()), CLONE_TIMEOUT, line -> {
                    long now = clock.nanoTime();
                    if (now - lastLog[0] > 2_000_000_000L || !line.contains("kB")) {
                        lastLog[0] = now;
                        log.info("pg_basebackup: {}", line.trim());
                    }
                });
        if (r.exitCode() != 0) {
            removeDataDirectory();
            throw new PostgresException("pg_basebackup from " + source.name() + " failed (exit " + r.exitCode() + "): "
                    + r.tail());
        }
        systemIdentifier = null;
    }

    @Override
    public void start(boolean asPrimary, Member follow) {
        // a fresh pg_basebackup or pg_rewind leaves backup_label (and a copied "in production" control file):
        // those are consistent with their source and need no check
        boolean justRewound = rewoundForNextStart;
        rewoundForNextStart = false;
        if (!asPrimary && !justRewound && !Files.exists(dataDir.resolve("backup_label"))) {
            String state = controlData().getOrDefault("Database cluster state", "");
            if (state.equals("in production") || state.equals("shut down") || state.equals("shutting down")) {
                createMarker();
            }
        }
        writeConfiguration(asPrimary, follow);
        log.info("starting postgres as {}", asPrimary ? "primary" : follow == null ? "a replica with no primary"
                : "a replica of " + follow.name());
        pgCtl(List.of("start", "-W", "-l", logFile.toString()), "start");
        awaitPidFile();
    }

    /**
     * pg_ctl start -W returns before the postmaster has written postmaster.pid. Until it has, a probe would take the
     * instance for stopped, and the next cycle could act on a data directory that a postmaster is opening. It writes
     * the file first thing, so wait for it (briefly: a postmaster that fails at once never writes it).
     */
    private void awaitPidFile() {
        long deadline = clock.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!isPostmasterAlive()) {
            if (clock.nanoTime() - deadline >= 0) {
                log.warn("postgres wrote no postmaster.pid within 5 s of pg_ctl start; see {}", logFile);
                return;
            }
            clock.sleepNanos(Duration.ofMillis(10).toNanos());
        }
    }

    @Override
    public void stop(StopMode mode) {
        if (!isPostmasterAlive()) {
            closeConnection();
            return;
        }
        if (mode == StopMode.FAST) {
            checkpointIfPrimary();
        }
        String m = mode == StopMode.FAST ? "fast" : "immediate";
        closeConnection();
        ProcessRunner.Result r = ProcessRunner.run(List.of(tool("pg_ctl"), "stop", "-D", dataDir.toString(), "-m", m,
                "-w", "-t", "120"), Map.of(), TOOL_TIMEOUT, line -> log.debug("pg_ctl: {}", line));
        if (r.exitCode() != 0 && isPostmasterAlive()) {
            throw new PostgresException("pg_ctl stop -m " + m + " failed (exit " + r.exitCode() + "): " + r.tail());
        }
        log.info("postgres stopped ({})", m);
    }

    @Override
    public void promote() {
        // pg_promote() over the open connection saves spawning pg_ctl, and it waits until writes are accepted
        boolean promoted = false;
        try (Statement st = connection().createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_promote(true, 60)")) {
            promoted = rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            closeConnection();
            log.warn("pg_promote() failed: {}; using pg_ctl promote", e.getMessage());
        }
        if (!promoted) {
            pgCtl(List.of("promote", "-w", "-t", "60"), "promote");
        }
        deleteQuietly(dataDir.resolve(DIVERGENCE_MARKER));
        // a promoted node keeps standby settings out of its configuration from now on
        writeConfiguration(true, null);
        closeConnection();
        try (Statement st = connection().createStatement()) {
            st.execute("CHECKPOINT");
        } catch (SQLException e) {
            closeConnection();
            log.warn("CHECKPOINT after promotion failed: {}; old primaries wait for the next one before pg_rewind",
                    e.getMessage());
        }
    }

    @Override
    public void follow(Member leader) {
        writeConfiguration(false, leader);
        pgCtl(List.of("reload", "-s"), "reload");
        log.info("primary_conninfo now points at {}", leader == null ? "nobody" : leader.name());
    }

    @Override
    public RewindOutcome rewind(Member source) {
        if (isPostmasterAlive()) {
            throw new PostgresException("refusing to run pg_rewind: a postmaster is running in " + dataDir);
        }
        URI uri = URI.create(source.connUrl());
        Credentials who = pgc.rewind().orElse(pgc.superuser());
        if (!sourceCheckpointShowsItsTimeline(uri, who)) {
            log.info("waiting for {} to checkpoint on its new timeline before pg_rewind", source.name());
            return RewindOutcome.SOURCE_NOT_READY;
        }
        Map<String, String> control = controlData();
        String state = control.getOrDefault("Database cluster state", "");
        if (!state.equals("shut down") && !state.equals("shut down in recovery")) {
            // pg_rewind needs a cleanly shut down target: finish crash recovery in single-user mode first
            log.info("running crash recovery in single-user mode before pg_rewind (cluster state: {})", state);
            writeConfiguration(true, null);
            ProcessRunner.Result r = ProcessRunner.run(List.of(tool("postgres"), "--single", "-D", dataDir.toString(),
                            "-c", "archive_mode=off", "-c", "hot_standby=off", "postgres"),
                    Map.of(), TOOL_TIMEOUT, line -> log.debug("postgres --single: {}", line), Path.of("/dev/null"));
            if (r.exitCode() != 0) {
                log.warn("single-user crash recovery failed (exit {}): {}", r.exitCode(), r.tail());
                return RewindOutcome.FAILED;
            }
        }
        String conninfo = "host=" + uri.getHost() + " port=" + uri.getPort() + " user=" + who.username()
                + " dbname=postgres connect_timeout=5";
        Map<String, String> env = new HashMap<>();
        if (who.password() != null) {
            env.put("PGPASSWORD", who.password());
        }
        log.info("running pg_rewind from {}", source.name());
        ProcessRunner.Result r = ProcessRunner.run(List.of(tool("pg_rewind"), "-D", dataDir.toString(),
                "--source-server=" + conninfo, "--progress"), env, CLONE_TIMEOUT, line -> log.info("pg_rewind: {}", line));
        if (r.exitCode() != 0) {
            log.warn("pg_rewind failed (exit {}): {}", r.exitCode(), r.tail());
            return RewindOutcome.FAILED;
        }
        deleteQuietly(dataDir.resolve(DIVERGENCE_MARKER));
        rewoundForNextStart = true;
        return RewindOutcome.DONE;
    }

    private static Connection connectTo(URI target, Credentials who, int connectTimeoutSeconds, int socketTimeoutSeconds)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", who.username());
        if (who.password() != null) {
            p.setProperty("password", who.password());
        }
        p.setProperty("connectTimeout", String.valueOf(connectTimeoutSeconds));
        p.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        p.setProperty("sslmode", "disable");
        p.setProperty("ApplicationName", "pgkeel");
        return DriverManager.getConnection("jdbc:postgresql://" + target.getHost() + ":" + target.getPort() + "/postgres", p);
    }

    @Override
    public long shutdownCheckpointLsn() {
        if (isPostmasterAlive()) {
            return -1;
        }
        return shutdownCheckpoint(controlData());
    }

    /** The latest checkpoint of a primary shut down cleanly ("shut down"), from pg_controldata's output; else -1. */
    private static long shutdownCheckpoint(Map<String, String> control) {
        if (!"shut down".equals(control.get("Database cluster state"))) {
            return -1;
        }
        try {
            return Lsn.parse(control.getOrDefault("Latest checkpoint location", ""));
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    /**
     * A CHECKPOINT while the primary still takes writes makes the shutdown checkpoint that follows short: writes are
     * refused only for the final, small one (Patroni does the same before a switchover).
     */
    private void checkpointIfPrimary() {
        try (Statement st = connection().createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            if (rs.next() && !rs.getBoolean(1)) {
                st.execute("CHECKPOINT");
            }
        } catch (SQLException e) {
            closeConnection();
            log.debug("CHECKPOINT before stopping failed: {}", e.getMessage());
        }
    }

    @Override
    public java.util.OptionalLong receivedLsnOf(Member peer) {
        if (peer.connUrl() == null || peer.connUrl().isBlank()) {
            return java.util.OptionalLong.empty();
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            Connection c = peerConnections.get(peer.connUrl());
            try {
                if (c == null) {
                    c = connectTo(URI.create(peer.connUrl()), pgc.superuser(), 2, 3);
                    peerConnections.put(peer.connUrl(), c);
                }
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT pg_last_wal_receive_lsn()::text,"
                             + " pg_last_wal_replay_lsn()::text")) {
                    rs.next();
                    long received = Math.max(lsn(rs.getString(1)), lsn(rs.getString(2)));
                    return received > 0 ? java.util.OptionalLong.of(received) : java.util.OptionalLong.empty();
                }
            } catch (SQLException | IllegalArgumentException e) {
                // a kept connection may have gone stale: retry once on a fresh one (a bad conn_url fails twice)
                peerConnections.remove(peer.connUrl());
                closeQuietly(c);
                log.debug("cannot ask {} how far it has received: {}", peer.name(), e.getMessage());
            }
        }
        return java.util.OptionalLong.empty();
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // broken already
            }
        }
    }

    @Override
    public void startAfterHandover(Member newLeader) {
        if (shutdownCheckpointLsn() < 0) {
            throw new PostgresException("refusing to start as a standby without pg_rewind: postgres did not shut down"
                    + " cleanly");
        }
        // the new leader holds all of this node's WAL: like after pg_rewind, no divergence marker is needed
        rewoundForNextStart = true;
        deleteQuietly(dataDir.resolve(DIVERGENCE_MARKER));
        start(false, newLeader);
    }

    /** The source's last checkpoint is on the timeline it writes now (pg_rewind reads its pg_control). */
    private boolean sourceCheckpointShowsItsTimeline(URI source, Credentials who) {
        try (Connection c = connectTo(source, who, 3, 10); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT timeline_id FROM pg_control_checkpoint()),"
                     + " CASE WHEN pg_is_in_recovery() THEN NULL"
                     + " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END")) {
            rs.next();
            int checkpointTimeline = rs.getInt(1);
            int current = rs.getInt(2);
            return rs.wasNull() || checkpointTimeline >= current;
        } catch (SQLException e) {
            log.info("cannot ask {} for its checkpoint timeline: {}", source, e.getMessage());
            return false;
        }
    }

    @Override
    public List<TimelineSwitch> timelineHistory(int timeline) {
        List<TimelineSwitch> out = new ArrayList<>();
        if (timeline <= 1) {
            return out;
        }
        Path file = dataDir.resolve("pg_wal").resolve(String.format("%08X.history", timeline));
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

    @Override
    public void removeDataDirectory() {
        if (isPostmasterAlive()) {
            throw new PostgresException("refusing to remove the data directory " + dataDir + ": a postmaster is running"
                    + " in it");
        }
        closeConnection();
        systemIdentifier = null;
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

    @Override
    public void createSlots(Set<String> slots) {
        try {
            Connection c = connection();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_create_physical_replication_slot(?, true) "
                            + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
                for (String slot : slots) {
                    ps.setString(1, slot);
                    ps.setString(2, slot);
                    ps.executeQuery().close();
                    log.info("created physical replication slot {}", slot);
                }
            }
        } catch (SQLException e) {
            closeConnection();
            throw new PostgresException("creating replication slots " + slots + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Set<String> dropUnusedSlots(Set<String> slots) {
        Set<String> dropped = new HashSet<>();
        Connection c;
        try {
            c = connection();
        } catch (SQLException e) {
            closeConnection();
            throw new PostgresException("dropping replication slots " + slots + ": " + e.getMessage(), e);
        }
        for (String slot : slots) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) "
                    + "FROM pg_replication_slots WHERE slot_name = ? AND slot_type = 'physical' AND NOT active")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        dropped.add(slot);
                    }
                }
            } catch (SQLException e) {
                // became active between the check and the drop: somebody streams from it again, so it stays
                log.debug("replication slot {} not dropped: {}", slot, e.getMessage());
            }
        }
        return dropped;
    }

    // ---------------------------------------------------------------- configuration files

    /**
     * SIGHUP: takes the re-read local configuration (parameters, pg_hba, credentials) and, when PostgreSQL runs,
     * rewrites its configuration for the role it has now (keeping its current upstream) and reloads it.
     * Data directory and ports are read at start only: the caller warns when those change.
     */
    public void reload(PgkeelConfig newConfig) {
        this.config = newConfig;
        this.pgc = newConfig.postgresql();
        if (isPostmasterAlive()) {
            rewriteInPlaceAndReload(dynamic.get().pgParameters());
        }
    }

    @Override
    public void applyParameters(Map<String, String> parameters) {
        rewriteInPlaceAndReload(parameters);
    }

    /** Rewrites the configuration for the role PostgreSQL has now, keeping its upstream, and reloads it. */
    private void rewriteInPlaceAndReload(Map<String, String> configKeyParameters) {
        boolean standby = isStandbyConfigured();
        Map<String, String> upstream = standby ? currentUpstreamSettings() : Map.of();
        writeConfiguration(!standby, upstream, following(), configKeyParameters);
        pgCtl(List.of("reload", "-s"), "reload");
        log.info("reloaded the PostgreSQL configuration");
    }

    /** primary_conninfo and primary_slot_name as last written, so a reload does not change whom a standby follows. */
    private Map<String, String> currentUpstreamSettings() {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(dataDir.resolve("postgresql.conf"))) {
                for (String key : List.of("primary_conninfo", "primary_slot_name")) {
                    if (line.startsWith(key + " = '") && line.endsWith("'")) {
                        String quoted = line.substring(key.length() + 4, line.length() - 1);
                        out.put(key, quoted.replace("''", "'").replace("\\\\", "\\"));
                    }
                }
            }
        } catch (IOException e) {
            throw new PostgresException("reading postgresql.conf: " + e.getMessage(), e);
        }
        return out;
    }

    /** Writes postgresql.conf, pg_hba.conf, the pgpass file and standby.signal for the role. */
    void writeConfiguration(boolean asPrimary, Member follow) {
        Map<String, String> upstream = new LinkedHashMap<>();
        if (!asPrimary && follow != null) {
            URI uri = URI.create(follow.connUrl());
            upstream.put("primary_conninfo", "host=" + uri.getHost() + " port=" + uri.getPort() + " user="
                    + pgc.replication().username() + " passfile=" + pgc.pgpass().toAbsolutePath()
                    + " application_name=" + config.name() + " sslmode=prefer connect_timeout=3");
            if (dynamic.get().useSlots()) {
                upstream.put("primary_slot_name", Member.slotName(config.name()));
            }
        }
        writeConfiguration(asPrimary, upstream, follow == null ? null : follow.name(), dynamic.get().pgParameters());
    }

    private void writeConfiguration(boolean asPrimary, Map<String, String> upstream, String followName,
                                    Map<String, String> configKeyParameters) {
        DynamicConfig dyn = dynamic.get();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("wal_level", "replica");
        settings.put("hot_standby", "on");
        settings.put("max_wal_senders", "10");
        settings.put("max_replication_slots", "10");
        settings.put("wal_keep_size", "128MB");
        // a standby refused by a new primary (its slot is being created) retries after 1 s, not PostgreSQL's 5 s
        settings.put("wal_retrieve_retry_interval", "1s");
        settings.put("unix_socket_directories", defaultSocketDirectory());
        boolean rewind = pgc.usePgRewind().orElse(dyn.usePgRewind());
        if (rewind) {
            settings.put("wal_log_hints", "on");
        }
        settings.putAll(configKeyParameters);
        writtenDynamicParameters = configKeyParameters;
        settings.putAll(pgc.parameters());
        settings.put("listen_addresses", pgc.listenHosts());
        settings.put("port", String.valueOf(pgc.port()));
        settings.put("cluster_name", config.scope());
        settings.put("recovery_target_timeline", "latest");
        settings.put("primary_conninfo", asPrimary ? "" : upstream.getOrDefault("primary_conninfo", ""));
        settings.put("primary_slot_name", asPrimary ? "" : upstream.getOrDefault("primary_slot_name", ""));
        StringBuilder conf = new StringBuilder();
        conf.append("# Written by pgkeel before every start: edit postgresql.parameters in the YAML file or the\n")
                .append("# config key in etcd instead (changes here are overwritten).\n");
        if (Files.exists(dataDir.resolve("postgresql.base.conf"))) {
            conf.append("include 'postgresql.base.conf'\n");
        }
        settings.forEach((k, v) -> conf.append(k).append(" = ").append(literal(v)).append('\n'));
        if (!asPrimary && followName != null) {
            conf.append(FOLLOW_MARKER).append(followName).append('\n');
        }
        try {
            writeAtomically(dataDir.resolve("postgresql.conf"), conf.toString());
            if (!pgc.pgHba().isEmpty()) {
                writeAtomically(dataDir.resolve("pg_hba.conf"), String.join("\n", pgc.pgHba()) + "\n");
            }
            Path signal = dataDir.resolve("standby.signal");
            if (asPrimary) {
                Files.deleteIfExists(signal);
            } else if (!Files.exists(signal)) {
                Files.createFile(signal);
            }
            Files.deleteIfExists(dataDir.resolve("recovery.signal"));
        } catch (IOException e) {
            throw new PostgresException("writing configuration into " + dataDir + ": " + e.getMessage(), e);
        }
        writePgpass();
    }

    private String defaultSocketDirectory() {
        Path debian = Path.of("/var/run/postgresql");
        if (Files.isDirectory(debian) && Files.isWritable(debian)) {
            return debian.toString();
        }
        return dataDir.getParent().toString();
    }

    private void writePgpass() {
        StringBuilder sb = new StringBuilder();
        for (Credentials c : List.of(pgc.replication(), pgc.superuser())) {
            if (c.password() != null) {
                sb.append("*:*:*:").append(escapePgpass(c.username())).append(':').append(escapePgpass(c.password()))
                        .append('\n');
            }
        }
        try {
            Path file = pgc.pgpass().toAbsolutePath();
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, sb.toString());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new PostgresException("writing pgpass file " + pgc.pgpass() + ": " + e.getMessage(), e);
        }
    }

    private static String escapePgpass(String s) {
        return s.replace("\\", "\\\\").replace(":", "\\:");
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".pgkeel-tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void createEmptyDataDir() {
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
        cmd.add(tool("pg_ctl"));
        cmd.add(args.get(0));
        cmd.add("-D");
        cmd.add(dataDir.toString());
        cmd.addAll(args.subList(1, args.size()));
        check(ProcessRunner.run(cmd, Map.of(), TOOL_TIMEOUT, line -> log.debug("pg_ctl: {}", line)), "pg_ctl " + what);
    }

    private void check(ProcessRunner.Result r, String what) {
        if (r.exitCode() != 0) {
            throw new PostgresException(what + " failed (exit " + r.exitCode() + "): " + r.tail()
                    + (Files.exists(logFile) ? " (see " + logFile + ")" : ""));
        }
    }

    /** pg_ctl as configured at start ({@code postgresql.bin_dir}), for the fence guard. */
    public String pgCtl() {
        return tool("pg_ctl");
    }

    private String tool(String name) {
        Path bin = pgc.binDir();
        return bin == null || bin.toString().isEmpty() ? name : bin.resolve(name).toString();
    }

    private void createMarker() {
        try {
            if (!Files.exists(dataDir.resolve(DIVERGENCE_MARKER))) {
                Files.createFile(dataDir.resolve(DIVERGENCE_MARKER));
            }
        } catch (IOException e) {
            throw new PostgresException("writing " + DIVERGENCE_MARKER + ": " + e.getMessage(), e);
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

    static String literal(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    static String ident(String v) {
        return "\"" + v.replace("\"", "\"\"") + "\"";
    }
}
