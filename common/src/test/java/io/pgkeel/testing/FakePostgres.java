package io.pgkeel.testing;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.common.pg.PostmasterStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory PostgreSQL with just enough of a WAL and timeline model to simulate streaming, promotion,
 * divergence and pg_rewind. Instances that may replicate from each other share one {@link Network}.
 *
 * <p>WAL: a primary's position grows on {@link #write}. A standby streams from the member it follows when that
 * member is a running primary (or streams itself) and the standby has not diverged from it: its position is not
 * past the point where the source's history left the standby's timeline. Synchronized.
 */
public final class FakePostgres implements LocalPostgres {

    /** The "machines" of a simulated cluster: who can stream from whom. */
    public static final class Network {
        private final Map<String, FakePostgres> byName = new ConcurrentHashMap<>();
        private long nextSysid = 7_000_000_000_000_000_000L;

        public FakePostgres node(String name) {
            return byName.computeIfAbsent(name, n -> new FakePostgres(n, this));
        }

        /** Moves WAL from each source to the standbys that can stream from it. */
        public void replicate() {
            for (int round = 0; round < byName.size(); round++) {
                byName.values().forEach(FakePostgres::streamOnce);
            }
        }

        FakePostgres byConnUrl(String connUrl) {
            return byName.values().stream().filter(p -> p.connUrl().equals(connUrl)).findFirst().orElse(null);
        }

        synchronized String newSysid() {
            return Long.toString(nextSysid++);
        }
    }

    private final String name;
    private final Network network;
    private boolean initialized;
    private String sysid;
    private PgRunState state = PgRunState.STOPPED;
    private boolean standby;
    private boolean lastRunAsPrimary;
    private boolean cleanlyStopped;
    /** Timeline switch points: element i is the LSN where timeline i+2 began. */
    private List<Long> switches = new ArrayList<>();
    private long wal;
    private String following;
    private final Set<String> slots = new HashSet<>();
    /** The config key's parameters in its (imagined) postgresql.conf. */
    private Map<String, String> parameters = Map.of();
    /** The current agent process wrote that file (the real controller knows only what it wrote itself). */
    private boolean writtenByThisAgent;
    private int promotions;
    private int clones;
    /** The next pg_rewind fails (a broken source connection, say), whatever the histories. */
    private boolean failNextRewind;
    private int rewinds;
    /** synchronous_standby_names in its (imagined) postgresql.conf: kept across restarts, like the real file. */
    private String synchronousStandbyNames = "";
    private boolean syncManaged;

    private FakePostgres(String name, Network network) {
        this.name = name;
        this.network = network;
    }

    public String connUrl() {
        return "postgres://" + name + ":5432/postgres";
    }

    public synchronized int timeline() {
        return switches.size() + 1;
    }

    public synchronized long wal() {
        return wal;
    }

    public synchronized boolean isWritablePrimary() {
        return state == PgRunState.RUNNING && !standby;
    }

    public synchronized boolean isStreamingFrom(String leader) {
        FakePostgres src = network.byName.get(leader);
        return state == PgRunState.RUNNING && standby && leader.equals(following) && src != null && canStreamFrom(src);
    }

    public synchronized int promotions() {
        return promotions;
    }

    /** How often this node was filled by pg_basebackup. */
    public synchronized int clones() {
        return clones;
    }

    /** Makes the next pg_rewind fail, as a real one fails on a broken connection or a missing WAL segment. */
    public synchronized void failNextRewind() {
        failNextRewind = true;
    }

    public synchronized int rewinds() {
        return rewinds;
    }

    /** A client commits {@code bytes} of WAL; false when this node does not take writes. */
    public synchronized boolean write(long bytes) {
        if (!isWritablePrimary()) {
            return false;
        }
        wal += bytes;
        return true;
    }

    /** The postmaster dies (kill -9): no clean shutdown. */
    public synchronized void crash() {
        if (state != PgRunState.STOPPED) {
            if (!standby) {
                lastRunAsPrimary = true;
            }
            state = PgRunState.STOPPED;
            cleanlyStopped = false;
        }
    }

    @Override
    public synchronized PostmasterStatus postmaster() {
        return switch (state) {
            case STOPPED -> PostmasterStatus.ABSENT;
            case STARTING -> PostmasterStatus.STARTING;
            case RUNNING -> standby ? PostmasterStatus.STANDBY : PostmasterStatus.READY;
        };
    }

    @Override
    public synchronized PgStatus probe() {
        if (!initialized) {
            return PgStatus.empty();
        }
        boolean running = state == PgRunState.RUNNING;
        String replState = running && standby ? (following != null && isStreamingSource() ? "streaming"
                : "in archive recovery") : null;
        return new PgStatus(true, sysid, lastRunAsPrimary || running && !standby, state, standby, timeline(), wal, wal,
                wal, replState, standby ? following : null, running ? slots : Set.of(), 150000,
                running ? "2026-01-01 00:00:00+00" : null, false, writtenByThisAgent ? parameters : null,
                shutdownCheckpointLsn()).withSync(running && !standby
                        ? new io.pgkeel.common.pg.PgSync(synchronousStandbyNames, syncManaged, walSenders())
                        : io.pgkeel.common.pg.PgSync.NONE);
    }

    @Override
    public synchronized void setSynchronousStandbyNames(String value) {
        syncManaged = value != null;
        synchronousStandbyNames = value != null ? value : parameters.getOrDefault("synchronous_standby_names", "");
    }

    /** synchronous_standby_names as this node's configuration holds it now. */
    public synchronized String synchronousStandbyNames() {
        return synchronousStandbyNames;
    }

    /**
     * pg_stat_replication of this primary: the running standbys that follow it and can stream from it, with
     * PostgreSQL's sync_state for the current synchronous_standby_names (FIRST: the first {@code num} listed that
     * stream are "sync", the other listed "potential"; ANY: every listed one "quorum").
     */
    private List<io.pgkeel.common.pg.PgSync.WalSender> walSenders() {
        io.pgkeel.common.pg.SyncStandbyNames ssn;
        try {
            ssn = io.pgkeel.common.pg.SyncStandbyNames.parse(synchronousStandbyNames);
        } catch (IllegalArgumentException e) {
            ssn = io.pgkeel.common.pg.SyncStandbyNames.NONE;
        }
        List<FakePostgres> streaming = new ArrayList<>();
        for (FakePostgres other : network.byName.values()) {
            if (other != this) {
                synchronized (other) {
                    if (other.state == PgRunState.RUNNING && other.standby && name.equals(other.following)
                            && other.canStreamFrom(this)) {
                        streaming.add(other);
                    }
                }
            }
        }
        streaming.sort(java.util.Comparator.comparing(o -> o.name));
        List<String> listed = ssn.names().stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
        java.util.Set<String> firstSync = new HashSet<>();
        if (!ssn.any()) {
            for (String n : listed) {
                boolean connected = n.equals("*") ? !streaming.isEmpty()
                        : streaming.stream().anyMatch(o -> o.name.equalsIgnoreCase(n));
                if (connected && firstSync.size() < ssn.num()) {
                    firstSync.add(n);
                }
            }
        }
        List<io.pgkeel.common.pg.PgSync.WalSender> out = new ArrayList<>();
        for (FakePostgres o : streaming) {
            String lower = o.name.toLowerCase(java.util.Locale.ROOT);
            boolean isListed = listed.contains(lower) || listed.contains("*");
            String syncState = !isListed ? "async" : ssn.any() ? "quorum"
                    : firstSync.contains(lower) || firstSync.contains("*") ? "sync" : "potential";
            long flushed;
            synchronized (o) {
                flushed = o.wal;
            }
            out.add(new io.pgkeel.common.pg.PgSync.WalSender(o.name, "streaming", syncState, flushed));
        }
        return out;
    }

    @Override
    public synchronized void applyParameters(Map<String, String> parameters) {
        if (state != PgRunState.RUNNING) {
            throw new PostgresException("cannot reload: postgres is not running");
        }
        this.parameters = Map.copyOf(parameters);
        writtenByThisAgent = true;
    }

    /**
     * A new agent process takes over this PostgreSQL: like the real controller, it has not written postgresql.conf
     * yet, so the probe reports no written parameters until it starts PostgreSQL or applies them.
     */
    public synchronized void agentStarted() {
        writtenByThisAgent = false;
    }

    /** The config key's parameters last applied at runtime (none until then). */
    public synchronized Map<String, String> parameters() {
        return parameters;
    }

    private boolean isStreamingSource() {
        FakePostgres src = following == null ? null : network.byName.get(following);
        return src != null && canStreamFrom(src);
    }

    @Override
    public synchronized String bootstrap() {
        if (initialized) {
            throw new PostgresException("data directory of " + name + " is not empty");
        }
        initialized = true;
        sysid = network.newSysid();
        wal = 100;
        switches = new ArrayList<>();
        standby = false;
        lastRunAsPrimary = true;
        state = PgRunState.RUNNING;
        writtenByThisAgent = true;
        return sysid;
    }

    @Override
    public void cloneFrom(Member source) {
        FakePostgres src = network.byConnUrl(source.connUrl());
        if (src == null) {
            throw new PostgresException("pg_basebackup: cannot reach " + source.name());
        }
        long srcWal;
        List<Long> srcSwitches;
        String srcSysid;
        synchronized (src) {
            if (src.state != PgRunState.RUNNING) {
                throw new PostgresException("pg_basebackup: " + source.name() + " is not running");
            }
            srcWal = src.wal;
            srcSwitches = new ArrayList<>(src.switches);
            srcSysid = src.sysid;
        }
        synchronized (this) {
            if (initialized) {
                throw new PostgresException("data directory of " + name + " is not empty");
            }
            initialized = true;
            sysid = srcSysid;
            wal = srcWal;
            switches = srcSwitches;
            lastRunAsPrimary = false;
            standby = true;
            clones++;
        }
    }

    @Override
    public synchronized void start(boolean asPrimary, Member follow) {
        if (!initialized) {
            throw new PostgresException("no data directory");
        }
        if (state != PgRunState.STOPPED) {
            throw new PostgresException("postgres is already running");
        }
        if (!asPrimary && lastRunAsPrimary) {
            // started as a standby without pg_rewind: it may hold WAL nobody else has (the real marker file)
            lastRunAsPrimary = true;
        }
        standby = !asPrimary;
        following = asPrimary || follow == null ? null : follow.name();
        state = PgRunState.RUNNING;
        cleanlyStopped = false;
        writtenByThisAgent = true; // a start writes postgresql.conf
    }

    @Override
    public synchronized void stop(StopMode mode) {
        boolean wasRunningPrimary = state == PgRunState.RUNNING && !standby;
        if (mode == StopMode.FAST && wasRunningPrimary) {
            // like the walsenders at a clean shutdown: send everything, the shutdown checkpoint included
            for (FakePostgres other : network.byName.values()) {
                if (other != this) {
                    synchronized (other) {
                        if (other.state == PgRunState.RUNNING && other.standby && name.equals(other.following)
                                && other.canStreamFrom(this)) {
                            other.wal = wal;
                            other.switches = new ArrayList<>(switches);
                        }
                    }
                }
            }
        }
        boolean wasRunning = state != PgRunState.STOPPED;
        crash();
        if (wasRunning) {
            cleanlyStopped = mode == StopMode.FAST;
        }
    }

    /** Where a cleanly stopped primary's shutdown checkpoint is (its WAL end here); -1 otherwise. */
    private synchronized long shutdownCheckpointLsn() {
        return state == PgRunState.STOPPED && initialized && cleanlyStopped ? wal : -1;
    }

    @Override
    public java.util.OptionalLong receivedLsnOf(Member peer) {
        FakePostgres p = network.byConnUrl(peer.connUrl());
        if (p == null) {
            return java.util.OptionalLong.empty();
        }
        synchronized (p) {
            return p.state == PgRunState.RUNNING ? java.util.OptionalLong.of(p.wal) : java.util.OptionalLong.empty();
        }
    }

    @Override
    public synchronized void startAfterRewind(Member source) {
        start(false, source);
    }

    @Override
    public synchronized void startAfterHandover(Member newLeader) {
        if (!cleanlyStopped) {
            throw new PostgresException("startAfterHandover needs a clean shutdown");
        }
        lastRunAsPrimary = false;
        start(false, newLeader);
    }

    @Override
    public synchronized void promote() {
        if (state != PgRunState.RUNNING || !standby) {
            throw new PostgresException("cannot promote: not a running standby");
        }
        switches.add(wal);
        standby = false;
        following = null;
        lastRunAsPrimary = true;
        promotions++;
    }

    @Override
    public synchronized void follow(Member leader) {
        if (state != PgRunState.RUNNING || !standby) {
            throw new PostgresException("cannot follow: not a running standby");
        }
        following = leader == null ? null : leader.name();
    }

    @Override
    public RewindOutcome rewind(Member source) {
        FakePostgres src = network.byConnUrl(source.connUrl());
        if (src == null || src.state != PgRunState.RUNNING) {
            return RewindOutcome.SOURCE_NOT_READY;
        }
        synchronized (src) {
            synchronized (this) {
                if (state != PgRunState.STOPPED) {
                    throw new PostgresException("pg_rewind: target must be shut down");
                }
                if (failNextRewind) {
                    failNextRewind = false;
                    return RewindOutcome.FAILED;
                }
                // the histories agree up to the first switch point they do not share: cut back to there
                long divergence = Long.MAX_VALUE;
                int common = 0;
                while (common < switches.size() && common < src.switches.size()
                        && switches.get(common).equals(src.switches.get(common))) {
                    common++;
                }
                if (common < switches.size()) {
                    divergence = switches.get(common);
                }
                if (common < src.switches.size()) {
                    divergence = Math.min(divergence, src.switches.get(common));
                }
                // same history (even if this node is ahead): like pg_rewind, "no rewind required"
                wal = Math.min(wal, divergence);
                switches = new ArrayList<>(src.switches);
                lastRunAsPrimary = false;
                rewinds++;
                return RewindOutcome.DONE;
            }
        }
    }

    @Override
    public synchronized List<TimelineSwitch> timelineHistory(int timeline) {
        List<TimelineSwitch> out = new ArrayList<>();
        for (int i = 0; i < Math.min(timeline - 1, switches.size()); i++) {
            out.add(new TimelineSwitch(i + 1, switches.get(i), "no recovery target specified"));
        }
        return out;
    }

    @Override
    public synchronized void removeDataDirectory() {
        if (state != PgRunState.STOPPED) {
            throw new PostgresException("cannot remove the data directory of a running postgres");
        }
        initialized = false;
        sysid = null;
        wal = 0;
        switches = new ArrayList<>();
        lastRunAsPrimary = false;
        following = null;
    }

    @Override
    public synchronized void createSlots(Set<String> names) {
        if (!isWritablePrimary()) {
            throw new PostgresException("cannot create slots on a standby");
        }
        slots.addAll(names);
    }

    @Override
    public synchronized Set<String> dropUnusedSlots(Set<String> names) {
        if (state != PgRunState.RUNNING) {
            throw new PostgresException("postgres is not running");
        }
        Set<String> dropped = new HashSet<>(names);
        dropped.retainAll(slots);
        slots.removeAll(dropped);
        return dropped;
    }

    /** Where, in this node's history, timeline {@code tl} ended (Long.MAX_VALUE if it is still current). */
    private synchronized long endOfTimelineInHistory(int tl) {
        return tl - 1 < switches.size() ? switches.get(tl - 1) : Long.MAX_VALUE;
    }

    private boolean canStreamFrom(FakePostgres src) {
        if (src == this || src.state != PgRunState.RUNNING || !sysidMatches(src)) {
            return false;
        }
        // the source's history must contain our timeline, and we must not be past where it left it
        if (timeline() > src.timeline()) {
            return false;
        }
        for (int i = 0; i < switches.size(); i++) {
            if (i >= src.switches.size() || !switches.get(i).equals(src.switches.get(i))) {
                return false;
            }
        }
        return wal <= src.endOfTimelineInHistory(timeline());
    }

    private boolean sysidMatches(FakePostgres src) {
        return sysid != null && sysid.equals(src.sysid);
    }

    private void streamOnce() {
        FakePostgres src;
        synchronized (this) {
            if (state != PgRunState.RUNNING || !standby || following == null) {
                return;
            }
            src = network.byName.get(following);
        }
        if (src == null) {
            return;
        }
        synchronized (src) {
            synchronized (this) {
                if (canStreamFrom(src) && src.wal >= wal) {
                    wal = src.wal;
                    switches = new ArrayList<>(src.switches);
                }
            }
        }
    }

    @Override
    public String toString() {
        return name + "[" + state + (standby ? " standby" : " primary") + " tl" + timeline() + " wal " + wal
                + (following != null ? " <- " + following : "") + "]";
    }
}
