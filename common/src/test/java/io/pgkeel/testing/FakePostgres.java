package io.pgkeel.testing;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PgSync;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.common.pg.PostmasterStatus;
import io.pgkeel.common.pg.SyncStandbyNames;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory PostgreSQL with just enough of a WAL and timeline model to simulate streaming, promotion,
 * divergence, pg_rewind and synchronous commit. Instances that may replicate from each other share one
 * {@link Network}.
 *
 * <p>WAL: a primary's position grows on {@link #write} and {@link #commit}. A standby streams from the member it
 * follows when that member is a running primary (or streams itself) and the standby has not diverged from it: its
 * position is not past the point where the source's history left the standby's timeline. By default a standby gets
 * everything at each {@link Network#replicate}; {@link Network#limitShipping} makes it get a random, bounded amount
 * instead, and {@link Network#freezeShipping} none (a stopped walsender), so standbys trail at different positions.
 *
 * <p>Commits: a {@link Commit} waits, as a backend in PostgreSQL's SyncRepWaitForLSN does, until the
 * synchronous_standby_names in force is met by the flush positions of the standbys streaming from this primary
 * (FIRST n: the n highest-priority ones; ANY n: any n; {@code *} matches every standby; the strict placeholder none;
 * empty: at once). A primary that stops or dies fails its waiting commits: the client gets an error.
 *
 * <p>Every timeline switch gets a network-wide unique branch id beside its LSN, so that two promotions of the same
 * parent at the same LSN (equal "timeline 2"s of different content) never pass for one history. Synchronized.
 */
public final class FakePostgres implements LocalPostgres {

    /** The "machines" of a simulated cluster: who can stream from whom, and how fast WAL travels. */
    public static final class Network {
        private final Map<String, FakePostgres> byName = new ConcurrentHashMap<>();
        private long nextSysid = 7_000_000_000_000_000_000L;
        private long nextBranch = 1;
        private long nextCommit = 1;
        private java.util.Random shippingRandom;
        private long maxBytesPerStep = Long.MAX_VALUE;
        private final Set<String> frozen = new HashSet<>();
        private boolean acknowledgeWithoutWaiting;

        public FakePostgres node(String name) {
            return byName.computeIfAbsent(name, n -> new FakePostgres(n, this));
        }

        /**
         * WAL shipping delay: at each {@link #replicate} a standby receives between 0 and {@code maxBytesPerStep}
         * bytes (drawn from {@code random}) instead of everything. A clean shutdown still sends everything.
         */
        public synchronized void limitShipping(java.util.Random random, long maxBytesPerStep) {
            this.shippingRandom = random;
            this.maxBytesPerStep = maxBytesPerStep;
        }

        /** The walsender to {@code standby} stops sending (SIGSTOP): it stays connected with its old flush position. */
        public synchronized void freezeShipping(String standby) {
            frozen.add(standby);
        }

        public synchronized void thawShipping(String standby) {
            frozen.remove(standby);
        }

        public synchronized boolean isShippingFrozen(String standby) {
            return frozen.contains(standby);
        }

        /**
         * A broken PostgreSQL for the checker's own test: commits are acknowledged at once, whatever
         * synchronous_standby_names says (as {@code synchronous_commit = local} would).
         */
        public synchronized void acknowledgeWithoutWaiting(boolean on) {
            acknowledgeWithoutWaiting = on;
        }

        synchronized boolean acknowledgesWithoutWaiting() {
            return acknowledgeWithoutWaiting;
        }

        /** Moves WAL from each source to the standbys that can stream from it, then releases satisfied commits. */
        public void replicate() {
            List<FakePostgres> nodes = new ArrayList<>(byName.values());
            nodes.sort(java.util.Comparator.comparing(p -> p.name));
            Map<String, Long> budget = new java.util.HashMap<>();
            synchronized (this) {
                for (FakePostgres p : nodes) {
                    long b = frozen.contains(p.name) ? 0 : shippingRandom == null ? Long.MAX_VALUE
                            : (long) (shippingRandom.nextDouble() * (maxBytesPerStep + 1));
                    budget.put(p.name, b);
                }
            }
            for (int round = 0; round < nodes.size(); round++) {
                for (FakePostgres p : nodes) {
                    long got = p.streamOnce(budget.get(p.name));
                    budget.put(p.name, budget.get(p.name) - got);
                }
            }
            nodes.forEach(FakePostgres::releaseWaiters);
        }

        FakePostgres byConnUrl(String connUrl) {
            return byName.values().stream().filter(p -> p.connUrl().equals(connUrl)).findFirst().orElse(null);
        }

        synchronized String newSysid() {
            return Long.toString(nextSysid++);
        }

        synchronized long newBranch() {
            return nextBranch++;
        }

        synchronized long newCommitId() {
            return nextCommit++;
        }
    }

    /**
     * A client's COMMIT on a primary: its end LSN on the primary's history. It waits until the primary's
     * synchronous_standby_names is met, then is acknowledged; if the primary stops first, it fails.
     */
    public static final class Commit {
        /** What the client has been told. */
        public enum State { WAITING, ACKNOWLEDGED, FAILED }

        private final long id;
        private final String primary;
        private final long lsn;
        private final List<Long> switches;
        private final List<Long> branches;
        private volatile State state = State.WAITING;

        Commit(long id, String primary, long lsn, List<Long> switches, List<Long> branches) {
            this.id = id;
            this.primary = primary;
            this.lsn = lsn;
            this.switches = List.copyOf(switches);
            this.branches = List.copyOf(branches);
        }

        public State state() {
            return state;
        }

        public String primary() {
            return primary;
        }

        public long lsn() {
            return lsn;
        }

        public int timeline() {
            return switches.size() + 1;
        }

        /**
         * {@code node}'s WAL holds this commit: its history shares the commit's timelines up to the commit's own
         * (same switch points and branches), and it has WAL on the commit's timeline up to the commit's LSN (it
         * reached it before it left that timeline, if it did).
         */
        public boolean isIn(FakePostgres node) {
            synchronized (node) {
                if (!node.initialized || node.switches.size() < switches.size()) {
                    return false;
                }
                for (int i = 0; i < switches.size(); i++) {
                    if (!node.switches.get(i).equals(switches.get(i)) || !node.branches.get(i).equals(branches.get(i))) {
                        return false;
                    }
                }
                long endOnMyTimeline = node.switches.size() > switches.size() ? node.switches.get(switches.size())
                        : Long.MAX_VALUE;
                return Math.min(node.wal, endOnMyTimeline) >= lsn;
            }
        }

        /**
         * This commit is in every node that holds {@code later}: {@code later}'s history extends this one's and
         * passed this LSN on this timeline.
         */
        public boolean isImpliedBy(Commit later) {
            if (later.switches.size() < switches.size()) {
                return false;
            }
            for (int i = 0; i < switches.size(); i++) {
                if (!later.switches.get(i).equals(switches.get(i)) || !later.branches.get(i).equals(branches.get(i))) {
                    return false;
                }
            }
            long end = later.switches.size() > switches.size() ? later.switches.get(switches.size()) : later.lsn;
            return Math.min(later.lsn, end) >= lsn;
        }

        @Override
        public String toString() {
            return "commit#" + id + " lsn " + lsn + " tl" + timeline() + " (switches " + switches + ", branches "
                    + branches + ") on " + primary + " " + state;
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
    /** Element i is the unique branch id of timeline i+2 (see the class comment). */
    private List<Long> branches = new ArrayList<>();
    private long wal;
    /** Commits waiting for synchronous standbys, oldest first. */
    private final List<Commit> waiting = new ArrayList<>();
    /** Counts postmaster starts: a standby's walsender connection lives within one start of both ends. */
    private long runEpoch;
    /**
     * The connection (source name, source's and own run epochs) on which this standby has caught up once: its
     * walsender is in state "streaming" from then on, "catchup" before (PostgreSQL counts only the former as
     * synchronous candidates).
     */
    private FakePostgres caughtUpFrom;
    private long caughtUpSourceEpoch;
    private long caughtUpOwnEpoch;
    private String following;
    private final Set<String> slots = new HashSet<>();
    /** The config key's parameters in its (imagined) postgresql.conf. */
    private Map<String, String> parameters = Map.of();
    /** The current agent process wrote that file (the real controller knows only what it wrote itself). */
    private boolean writtenByThisAgent;
    private int promotions;
    /** {@link #crashAtNextPromote}: 0 no, 1 before the timeline switch, 2 after it. */
    private int crashAtPromote;
    private int clones;
    /** {@link #hangStartsUntil}: null when starts do not hang. */
    private FakeClock hangClock;
    private long hangStartsUntilNanos;
    private Runnable whileStartHangs;
    private int startsHung;
    /** {@link #lateStarts}: null when a started postmaster is up at once. */
    private FakeClock lateClock;
    private long lateNanos;
    /** A start made whose postmaster has not written postmaster.pid yet: when it will, and as what. */
    private Long lateUpAt;
    private boolean lateAsPrimary;
    private Member lateFollow;
    /** {@link #slowFastStops}: null when a fast stop is instant. */
    private FakeClock slowStopClock;
    private long slowStopNanos;
    private Runnable whileStopping;
    /** The next pg_rewind fails (a broken source connection, say), whatever the histories. */
    private boolean failNextRewind;
    private int rewinds;
    /** synchronous_standby_names in its (imagined) postgresql.conf: kept across restarts, like the real file. */
    private String synchronousStandbyNames = "";
    private boolean syncManaged;
    /** The last value parsed, and its text: commits look at it at every step. */
    private String parsedSsnText;
    private SyncStandbyNames parsedSsn;

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
        settleLateStart();
        return state == PgRunState.RUNNING && !standby;
    }

    public synchronized boolean isStreamingFrom(String leader) {
        FakePostgres src = network.byName.get(leader);
        return state == PgRunState.RUNNING && standby && leader.equals(following) && src != null && canStreamFrom(src);
    }

    /** Role and timeline in a few words, for event logs: "primary ssn='b' tl2", "standby <- a tl2", "stopped tl1". */
    public synchronized String role() {
        String role = !initialized ? "no data" : state != PgRunState.RUNNING ? state.name().toLowerCase(java.util.Locale.ROOT)
                : standby ? "standby <- " + following : "primary ssn='" + synchronousStandbyNames + "'";
        return role + " tl" + timeline();
    }

    /** This node's timeline switches, "lsn#branch" each, oldest first. */
    public synchronized List<String> switchPoints() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < switches.size(); i++) {
            out.add(switches.get(i) + "#" + branches.get(i));
        }
        return out;
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

    /**
     * A client commits {@code bytes} of WAL and waits for the synchronous standbys, if synchronous_standby_names
     * names any; null when this node does not take writes. Poll {@link Commit#state()}: it changes at
     * {@link Network#replicate}, at a new synchronous_standby_names, or when this postmaster stops.
     */
    public synchronized Commit commit(long bytes) {
        if (!isWritablePrimary()) {
            return null;
        }
        wal += bytes;
        Commit c = new Commit(network.newCommitId(), name, wal, switches, branches);
        waiting.add(c);
        releaseWaiters();
        return c;
    }

    /** How many commits wait for synchronous standbys here. */
    public synchronized int waitingCommits() {
        return waiting.size();
    }

    /** Acknowledges the waiting commits that synchronous_standby_names in force allows, as the walsenders do. */
    synchronized void releaseWaiters() {
        if (waiting.isEmpty() || !isWritablePrimary()) {
            return;
        }
        long released = network.acknowledgesWithoutWaiting() ? Long.MAX_VALUE : syncReleasedLsn();
        while (!waiting.isEmpty() && waiting.get(0).lsn <= released) {
            waiting.remove(0).state = Commit.State.ACKNOWLEDGED;
        }
    }

    /**
     * Up to where commits may return under synchronous_standby_names in force (PostgreSQL's SyncRepGetSyncRecPtr):
     * empty: everything; FIRST n: the least flush position of the n highest-priority streaming candidates, nothing
     * if fewer than n stream; ANY n: the n-th highest flush position among the streaming candidates.
     */
    private long syncReleasedLsn() {
        SyncStandbyNames ssn = parsedSyncStandbyNames();
        if (ssn.num() <= 0 || ssn.names().isEmpty()) {
            return Long.MAX_VALUE;
        }
        List<Map.Entry<FakePostgres, Long>> chosen = syncCandidates(ssn);
        if (chosen.size() < ssn.num()) {
            return -1;
        }
        List<Long> flushes = chosen.stream().map(Map.Entry::getValue).sorted(java.util.Comparator.reverseOrder())
                .toList();
        return flushes.get(ssn.num() - 1);
    }

    private SyncStandbyNames parsedSyncStandbyNames() {
        if (parsedSsn == null || !parsedSsnText.equals(synchronousStandbyNames)) {
            SyncStandbyNames parsed;
            try {
                parsed = SyncStandbyNames.parse(synchronousStandbyNames);
            } catch (IllegalArgumentException e) {
                parsed = SyncStandbyNames.NONE;
            }
            parsedSsnText = synchronousStandbyNames;
            parsedSsn = parsed;
        }
        return parsedSsn;
    }

    /**
     * The standbys whose flush positions count, with them: ANY: every streaming standby the value lists (or all,
     * with *); FIRST: the n highest-priority ones (priority: the first list entry that matches; ties by name).
     */
    private List<Map.Entry<FakePostgres, Long>> syncCandidates(SyncStandbyNames ssn) {
        List<String> listed = ssn.names().stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
        List<Map.Entry<FakePostgres, Long>> ranked = new ArrayList<>();
        Map<FakePostgres, Integer> priority = new java.util.HashMap<>();
        for (FakePostgres o : connectedStandbys()) {
            synchronized (o) {
                if (!o.caughtUpWith(this)) {
                    continue;
                }
                int prio = -1;
                for (int i = 0; i < listed.size() && prio < 0; i++) {
                    if (listed.get(i).equals("*") || listed.get(i).equals(o.name.toLowerCase(java.util.Locale.ROOT))) {
                        prio = i;
                    }
                }
                if (prio >= 0) {
                    priority.put(o, prio);
                    ranked.add(Map.entry(o, o.wal));
                }
            }
        }
        if (ssn.any()) {
            return ranked;
        }
        ranked.sort(java.util.Comparator.<Map.Entry<FakePostgres, Long>>comparingInt(e -> priority.get(e.getKey()))
                .thenComparing(e -> e.getKey().name));
        return ranked.subList(0, Math.min(ranked.size(), ssn.num()));
    }

    /** The running standbys that follow this node and can stream from it (its walsenders), by name. */
    private List<FakePostgres> connectedStandbys() {
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
        return streaming;
    }

    private boolean caughtUpWith(FakePostgres src) {
        return caughtUpFrom == src && caughtUpSourceEpoch == src.runEpoch && caughtUpOwnEpoch == runEpoch;
    }

    /** The postmaster dies (kill -9): no clean shutdown. */
    public synchronized void crash() {
        if (state != PgRunState.STOPPED) {
            if (!standby) {
                lastRunAsPrimary = true;
            }
            state = PgRunState.STOPPED;
            cleanlyStopped = false;
            caughtUpFrom = null;
            // the backends waiting for synchronous standbys are terminated: their clients get an error
            waiting.forEach(c -> c.state = Commit.State.FAILED);
            waiting.clear();
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
        settleLateStart();
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
                        ? new PgSync(synchronousStandbyNames, syncManaged, walSenders())
                        : PgSync.NONE);
    }

    @Override
    public synchronized void setSynchronousStandbyNames(String value) {
        syncManaged = value != null;
        synchronousStandbyNames = value != null ? value : parameters.getOrDefault("synchronous_standby_names", "");
        // on reload, waiting backends are checked against the new value (an empty one releases them all)
        releaseWaiters();
    }

    /** synchronous_standby_names as this node's configuration holds it now. */
    public synchronized String synchronousStandbyNames() {
        return synchronousStandbyNames;
    }

    /**
     * pg_stat_replication of this primary: the running standbys that follow it and can stream from it, in state
     * "catchup" until they have caught up once on this connection, then "streaming", with PostgreSQL's sync_state
     * for the synchronous_standby_names in force (FIRST: the standbys commits wait for are "sync", the other listed
     * ones "potential"; ANY: every listed streaming one "quorum"; not listed: "async").
     */
    private List<PgSync.WalSender> walSenders() {
        SyncStandbyNames ssn = parsedSyncStandbyNames();
        List<String> listed = ssn.names().stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
        Set<FakePostgres> chosen = new HashSet<>();
        if (ssn.num() > 0) {
            syncCandidates(ssn).forEach(e -> chosen.add(e.getKey()));
        }
        List<PgSync.WalSender> out = new ArrayList<>();
        for (FakePostgres o : connectedStandbys()) {
            synchronized (o) {
                boolean streaming = o.caughtUpWith(this);
                boolean isListed = listed.contains(o.name.toLowerCase(java.util.Locale.ROOT)) || listed.contains("*");
                String syncState = !isListed || !streaming ? "async" : ssn.any() ? "quorum"
                        : chosen.contains(o) ? "sync" : "potential";
                out.add(new PgSync.WalSender(o.name, streaming ? "streaming" : "catchup", syncState, o.wal));
            }
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
        branches = new ArrayList<>();
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
        List<Long> srcBranches;
        String srcSysid;
        synchronized (src) {
            if (src.state != PgRunState.RUNNING) {
                throw new PostgresException("pg_basebackup: " + source.name() + " is not running");
            }
            srcWal = src.wal;
            srcSwitches = new ArrayList<>(src.switches);
            srcBranches = new ArrayList<>(src.branches);
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
            branches = srcBranches;
            lastRunAsPrimary = false;
            standby = true;
            clones++;
        }
    }

    /**
     * Until {@code untilNanos} on {@code clock}, every start hangs for the whole wait it is given and leaves postgres
     * stopped: a postmaster that does not come up and whose failure the caller cannot see. {@code whileHanging} runs
     * every 10 ms of the wait, as the agent's other threads (its lease fence) and etcd's lease expiry do meanwhile.
     */
    public synchronized void hangStartsUntil(FakeClock clock, long untilNanos, Runnable whileHanging) {
        this.hangClock = clock;
        this.hangStartsUntilNanos = untilNanos;
        this.whileStartHangs = whileHanging;
    }

    /**
     * From now on a started postmaster writes postmaster.pid (and runs) only {@code nanos} after pg_ctl started it: the
     * start holds its caller for that long at most (its wait), and a start whose wait is shorter returns with postgres
     * still stopped as far as anyone can see; the postmaster comes up later all the same, as a real one does.
     */
    public synchronized void lateStarts(FakeClock clock, long nanos) {
        this.lateClock = clock;
        this.lateNanos = nanos;
    }

    /**
     * From now on a fast stop of a running PostgreSQL takes {@code nanos} (its shutdown checkpoint), running
     * {@code whileStopping} every 10 ms meanwhile (the agent's fence thread, etcd's lease expiry).
     */
    public synchronized void slowFastStops(FakeClock clock, long nanos, Runnable whileStopping) {
        this.slowStopClock = clock;
        this.slowStopNanos = nanos;
        this.whileStopping = whileStopping;
    }

    /** A late start's postmaster comes up once its time has come. */
    private void settleLateStart() {
        if (lateUpAt != null && lateClock.nanoTime() - lateUpAt >= 0) {
            lateUpAt = null;
            boolean asPrimary = lateAsPrimary;
            Member follow = lateFollow;
            lateFollow = null;
            if (state == PgRunState.STOPPED) {
                startNow(asPrimary, follow);
            }
        }
    }

    /** @param wait how long a start that hangs ({@link #hangStartsUntil}) holds the caller; a start here is instant */
    @Override
    public synchronized void start(boolean asPrimary, Member follow, java.time.Duration wait) {
        if (!initialized) {
            throw new PostgresException("no data directory");
        }
        settleLateStart();
        if (state != PgRunState.STOPPED || lateUpAt != null) {
            throw new PostgresException("postgres is already running");
        }
        if (lateClock != null) {
            lateUpAt = lateClock.nanoTime() + lateNanos;
            lateAsPrimary = asPrimary;
            lateFollow = follow;
            lateClock.advanceTo(lateClock.nanoTime() + Math.min(wait.toNanos(), lateNanos));
            settleLateStart();
            return;
        }
        if (hangClock != null && hangClock.nanoTime() - hangStartsUntilNanos < 0) {
            startsHung++;
            long end = hangClock.nanoTime() + wait.toNanos();
            while (hangClock.nanoTime() - end < 0) {
                hangClock.advanceTo(Math.min(end, hangClock.nanoTime() + 10_000_000L));
                whileStartHangs.run();
            }
            return;
        }
        startNow(asPrimary, follow);
    }

    private void startNow(boolean asPrimary, Member follow) {
        if (!asPrimary && lastRunAsPrimary) {
            // started as a standby without pg_rewind: it may hold WAL nobody else has (the real marker file)
            lastRunAsPrimary = true;
        }
        standby = !asPrimary;
        following = asPrimary || follow == null ? null : follow.name();
        state = PgRunState.RUNNING;
        cleanlyStopped = false;
        runEpoch++;
        caughtUpFrom = null;
        writtenByThisAgent = true; // a start writes postgresql.conf
    }

    @Override
    public synchronized void stop(StopMode mode) {
        settleLateStart();
        if (mode == StopMode.FAST && slowStopClock != null && state != PgRunState.STOPPED) {
            long end = slowStopClock.nanoTime() + slowStopNanos;
            while (slowStopClock.nanoTime() - end < 0 && state != PgRunState.STOPPED) {
                slowStopClock.advanceTo(Math.min(end, slowStopClock.nanoTime() + 10_000_000L));
                whileStopping.run();
            }
        }
        boolean wasRunningPrimary = state == PgRunState.RUNNING && !standby;
        if (mode == StopMode.FAST && wasRunningPrimary) {
            // like the walsenders at a clean shutdown: send everything, the shutdown checkpoint included; a frozen
            // walsender sends nothing (the real shutdown would hang on it until the agent's stop escalates)
            for (FakePostgres other : network.byName.values()) {
                if (other != this && !network.isShippingFrozen(other.name)) {
                    synchronized (other) {
                        if (other.state == PgRunState.RUNNING && other.standby && name.equals(other.following)
                                && other.canStreamFrom(this)) {
                            other.wal = wal;
                            other.switches = new ArrayList<>(switches);
                            other.branches = new ArrayList<>(branches);
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

    /**
     * Like the real one, a standby's position only; stricter than comparing timeline numbers: only when its history
     * is this node's (same switches and branches).
     */
    @Override
    public java.util.OptionalLong receivedLsnOnTimeline(Member peer, int timeline) {
        FakePostgres p = network.byConnUrl(peer.connUrl());
        if (p == null || p == this) {
            return java.util.OptionalLong.empty();
        }
        List<Long> mySwitches;
        List<Long> myBranches;
        synchronized (this) {
            mySwitches = new ArrayList<>(switches);
            myBranches = new ArrayList<>(branches);
        }
        synchronized (p) {
            boolean sameHistory = p.switches.equals(mySwitches) && p.branches.equals(myBranches);
            return p.state == PgRunState.RUNNING && p.standby && sameHistory && p.wal > 0
                    ? java.util.OptionalLong.of(p.wal) : java.util.OptionalLong.empty();
        }
    }

    /** How many starts hung ({@link #hangStartsUntil}). */
    public synchronized int startsHung() {
        return startsHung;
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

    /**
     * The postmaster dies during the next promotion: before the new timeline is chosen ({@code afterSwitch} false,
     * still a standby on disk) or right after (a primary on the new timeline that never took a write). Either way
     * {@link #promote} fails as pg_ctl's connection would.
     */
    public synchronized void crashAtNextPromote(boolean afterSwitch) {
        crashAtPromote = afterSwitch ? 2 : 1;
    }

    @Override
    public synchronized void promote() {
        if (state != PgRunState.RUNNING || !standby) {
            throw new PostgresException("cannot promote: not a running standby");
        }
        int crashing = crashAtPromote;
        crashAtPromote = 0;
        if (crashing == 1) {
            crash();
            throw new PostgresException("server closed the connection unexpectedly during promote");
        }
        switches.add(wal);
        branches.add(network.newBranch());
        standby = false;
        following = null;
        lastRunAsPrimary = true;
        promotions++;
        if (crashing == 2) {
            crash();
            throw new PostgresException("server closed the connection unexpectedly after promote");
        }
    }

    @Override
    public synchronized void follow(Member leader) {
        if (state != PgRunState.RUNNING || !standby) {
            throw new PostgresException("cannot follow: not a running standby");
        }
        String before = following;
        following = leader == null ? null : leader.name();
        if (!java.util.Objects.equals(before, following)) {
            caughtUpFrom = null;
        }
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
                // the histories agree up to the first switch point they do not share
                long divergence = Long.MAX_VALUE;
                int common = 0;
                while (common < switches.size() && common < src.switches.size() && sameSwitch(common, src)) {
                    common++;
                }
                if (common < switches.size()) {
                    divergence = switches.get(common);
                }
                if (common < src.switches.size()) {
                    divergence = Math.min(divergence, src.switches.get(common));
                }
                if (wal > divergence) {
                    // pg_rewind copies the source's changed blocks, its WAL since the divergence and its pg_control:
                    // the target then holds the source's history up to where the source is now
                    wal = src.wal;
                    switches = new ArrayList<>(src.switches);
                    branches = new ArrayList<>(src.branches);
                } else {
                    // "no rewind required" (nothing of ours is off the source's history, even if this node is
                    // ahead on the same timeline): keep our WAL and the history it actually has
                    switches = new ArrayList<>(switches.subList(0, common));
                    branches = new ArrayList<>(branches.subList(0, common));
                }
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
        branches = new ArrayList<>();
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
            if (i >= src.switches.size() || !sameSwitch(i, src)) {
                return false;
            }
        }
        return wal <= src.endOfTimelineInHistory(timeline());
    }

    /** Switch {@code i} of this history is the one of {@code src}'s: same LSN, same branch. */
    private boolean sameSwitch(int i, FakePostgres src) {
        return switches.get(i).equals(src.switches.get(i)) && branches.get(i).equals(src.branches.get(i));
    }

    private boolean sysidMatches(FakePostgres src) {
        return sysid != null && sysid.equals(src.sysid);
    }

    /**
     * Receives up to {@code budget} bytes from the source this standby follows, taking the source's timeline
     * switches it passes; returns how many bytes it got.
     */
    private long streamOnce(long budget) {
        FakePostgres src;
        synchronized (this) {
            if (state != PgRunState.RUNNING || !standby || following == null) {
                return 0;
            }
            src = network.byName.get(following);
        }
        if (src == null) {
            return 0;
        }
        synchronized (src) {
            synchronized (this) {
                if (!canStreamFrom(src) || src.wal < wal) {
                    return 0;
                }
                long before = wal;
                wal = budget >= src.wal - wal ? src.wal : wal + budget;
                while (switches.size() < src.switches.size() && src.switches.get(switches.size()) <= wal) {
                    branches.add(src.branches.get(switches.size()));
                    switches.add(src.switches.get(switches.size()));
                }
                if (wal == src.wal && !caughtUpWith(src)) {
                    caughtUpFrom = src;
                    caughtUpSourceEpoch = src.runEpoch;
                    caughtUpOwnEpoch = runEpoch;
                }
                return wal - before;
            }
        }
    }

    @Override
    public String toString() {
        return name + "[" + state + (standby ? " standby" : " primary") + " tl" + timeline() + " wal " + wal
                + (following != null ? " <- " + following : "") + "]";
    }
}
