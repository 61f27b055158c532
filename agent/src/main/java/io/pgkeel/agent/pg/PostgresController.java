package io.pgkeel.agent.pg;

import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.common.pg.PostmasterStatus;
import io.pgkeel.config.PgkeelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The local PostgreSQL, driven with its own tools (initdb, pg_ctl, pg_basebackup, pg_rewind, pg_controldata,
 * postgres --single) and observed over JDBC. It composes the parts that do the work: {@link Probe} observes,
 * {@link ProcessControl} acts, {@link ConfigFiles} (with the pure {@link ConfigText}) writes the configuration,
 * {@link PeerSql} asks the other members, {@link Slots} keeps the replication slots, all sharing one
 * {@link LocalConnection} and {@link DataDirectory}.
 *
 * <p>pgkeel owns {@code postgresql.conf}: initdb's file is kept as {@code postgresql.base.conf} and included,
 * and the managed settings (listen address, port, primary_conninfo, ...) are rewritten before every start and
 * re-point, as Patroni does. Thread-safety: called from the HA loop thread, except {@link #stop} with
 * IMMEDIATE, which the lease fence may call from its own thread (pg_ctl tolerates that).
 */
public final class PostgresController implements LocalPostgres {
    /** Replaced on SIGHUP (on the loop thread only). */
    private PgkeelConfig config;
    private final DataDirectory dir;
    private final ConfigFiles files;
    private final Probe probe;
    private final PeerSql peers;
    private final Slots slots;
    private final ProcessControl control;

    /**
     * @param config  the local configuration; its data directory (and the postmaster log beside it) stay as given
     * @param dynamic the config key as last read from the DCS (use_slots, use_pg_rewind, postgresql.parameters)
     * @param clock   the only time source (pg_basebackup's progress log, the wait for postmaster.pid)
     */
    public PostgresController(PgkeelConfig config, Supplier<DynamicConfig> dynamic, Clock clock) {
        this.config = config;
        Path dataDir = config.postgresql().dataDir().toAbsolutePath();
        this.dir = new DataDirectory(dataDir, dataDir.resolveSibling(dataDir.getFileName() + ".postmaster.log"),
                () -> this.config.postgresql().binDir());
        this.files = new ConfigFiles(dir, () -> this.config, dynamic);
        // PEM client keys converted for the JDBC driver, beside the data directory like the postmaster log
        ClientKeys keys = new ClientKeys(dataDir.resolveSibling(dataDir.getFileName() + ".client-keys"));
        this.peers = new PeerSql(keys);
        LocalConnection local = new LocalConnection(() -> this.config.postgresql(), files::unixSocketDirectories,
                keys);
        this.probe = new Probe(dir, local, files::writtenParameters, () -> files.synchronousStandbyNames() != null);
        this.slots = new Slots(local);
        this.control = new ProcessControl(dir, files, local, peers, () -> this.config, clock, () -> {
            probe.forgetSystemIdentifier();
            files.dataDirectoryReplaced();
        });
    }

    @Override
    public PgStatus probe() {
        return probe.probe();
    }

    @Override
    public PostmasterStatus postmaster() {
        return dir.postmasterStatus();
    }

    @Override
    public String bootstrap() {
        control.bootstrap();
        PgStatus s = probe.probe();
        if (s.systemIdentifier() == null) {
            throw new PostgresException("bootstrapped postgres does not report a system identifier");
        }
        return s.systemIdentifier();
    }

    @Override
    public void cloneFrom(Member source) {
        control.cloneFrom(source);
    }

    @Override
    public void start(boolean asPrimary, Member follow) {
        control.start(asPrimary, follow);
    }

    @Override
    public void stop(StopMode mode) {
        control.stop(mode);
    }

    @Override
    public void promote() {
        control.promote();
    }

    @Override
    public void follow(Member leader) {
        control.follow(leader);
    }

    @Override
    public RewindOutcome rewind(Member source) {
        return control.rewind(source);
    }

    @Override
    public List<TimelineSwitch> timelineHistory(int timeline) {
        return control.timelineHistory(timeline);
    }

    @Override
    public OptionalLong receivedLsnOf(Member peer) {
        return peers.receivedLsnOf(peer, config.postgresql().superuser());
    }

    @Override
    public OptionalLong receivedLsnOnTimeline(Member peer, int timeline) {
        return peers.receivedLsnOnTimeline(peer, config.postgresql().superuser(), timeline);
    }

    @Override
    public void startAfterRewind(Member source) {
        control.startAfterRewind(source);
    }

    @Override
    public void startAfterHandover(Member newLeader) {
        control.startAfterHandover(newLeader);
    }

    @Override
    public void removeDataDirectory() {
        control.removeDataDirectory();
    }

    @Override
    public void createSlots(Set<String> slots) {
        this.slots.create(slots);
    }

    @Override
    public Set<String> dropUnusedSlots(Set<String> slots) {
        return this.slots.dropUnused(slots);
    }

    /**
     * SIGHUP: takes the re-read local configuration (parameters, pg_hba, credentials). It changes nothing on disk:
     * the probe then reports postgresql.conf as not written with the configuration in force, and the HA loop decides
     * to rewrite and reload it ({@code ApplyParameters}) as soon as nothing is more urgent. Data directory and ports
     * are read at start only: the caller warns when those change.
     */
    public void reload(PgkeelConfig newConfig) {
        this.config = newConfig;
        files.forgetWritten();
    }

    @Override
    public void applyParameters(Map<String, String> parameters) {
        control.rewriteAndReload(parameters);
    }

    /**
     * Manages synchronous_standby_names for synchronous mode (Patroni's {@code SyncHandler.set_synchronous_standby_names}
     * and {@code ConfigHandler.set_synchronous_standby_names}). The rule:
     * <ul>
     *   <li>A non-null value is the agent's own: it is written into postgresql.conf over any configured
     *       {@code postgresql.parameters} value (config key or local), by this call and by every later write of the
     *       file (ApplyParameters, start, restart, promote, re-point, a role change), marked as written by this
     *       member. A running PostgreSQL is reloaded, and the call returns once a new statement on the local
     *       connection shows the value (at most 1 s; Patroni sleeps 0.1 s). On a standby the value takes effect at
     *       its promotion.</li>
     *   <li>Null: no longer managed. The configured value, or none (PostgreSQL's default, no synchronous standby),
     *       is written and applies again.</li>
     *   <li>An agent that starts reads the managed value back from the data directory's postgresql.conf, if this
     *       member's agent wrote one: a primary restarted by the new agent process waits for no fewer standbys than
     *       before, whatever the sync key promised. An agent that starts on a file without this member's mark (sync
     *       mode was off, or the file was copied from another member by pg_basebackup or pg_rewind) manages nothing,
     *       and the configured value applies. A data directory removed or cloned anew forgets the value.</li>
     * </ul>
     * Patroni keeps the value in memory only: its restarted agent writes the configured value (none in synchronous
     * mode, or '*' when strict) until its first cycle as leader sets it again. {@link #probe()} reports whether the
     * value is managed ({@code PgSync.managed}), so a policy can hand a leftover one back with null.
     *
     * @param value a synchronous_standby_names PostgreSQL reads ({@code FIRST 1 (a)}, {@code ANY 2 (a,b,c)},
     *              {@code *}, {@code ''}), or null
     * @throws io.pgkeel.common.pg.PostgresException when the value is unreadable (nothing changed), the file cannot
     *              be written or the reload fails (the previous value stays managed), or PostgreSQL does not show
     *              the value within 1 s (the file holds it; the message says when postgresql.auto.conf overrides it)
     */
    @Override
    public void setSynchronousStandbyNames(String value) {
        control.setSynchronousStandbyNames(value);
    }

    /** pg_ctl as configured at start ({@code postgresql.bin_dir}), for the fence guard. */
    public String pgCtl() {
        return dir.tool("pg_ctl");
    }
}
