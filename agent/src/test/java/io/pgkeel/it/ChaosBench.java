package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The chaos suite on real processes (bench/chaos.sh runs it; its name does not end in IT): 3 pgkeel agents, each with
 * PostgreSQL, on a 3-member etcd, HAProxy routing writes to the node whose {@code /primary} answers 200, a
 * {@link Writer} through HAProxy recording every acknowledged id, and a {@link WriteSampler} asking every node
 * directly every 100 ms whether it takes writes. -Dbench.faults faults are drawn from -Dbench.seed, one at a time
 * (see {@link Nemesis}); after each one the bench waits for recovery (one primary holding the leader key, both
 * replicas streaming, the writer acknowledged again), checks that no acknowledged id is missing on the primary, and
 * prints one line. It fails when an acknowledged id is lost (synchronous_mode on or quorum; with off, asynchronous
 * replication may lose what the primary had not yet shipped, and the count is reported), when two nodes took writes at
 * one sampler instant, or when a fault did not recover within -Dbench.recoverySeconds after it was healed. Settings:
 * -Dbench.sync (on, off, quorum), -Dbench.ttl, -Dbench.loopWait, -Dbench.retryTimeout, -Dbench.out (Markdown results
 * appended), -Dbench.findings (a directory the logs are copied to when a fault breaks a rule), -Dbench.flavor (PGKEEL,
 * or PATRONI for Patroni 3.0 on the same nemeses), -Dbench.selfCheck (the checker's test: see
 * {@link Nemesis#ROGUE_PROMOTE}).
 */
class ChaosBench {
    /** What one fault does; the label is what the fault line prints. */
    enum Nemesis {
        KILL9_AGENT("kill9-agent"),
        KILL9_POSTMASTER("kill9-postmaster"),
        KILL9_BOTH("kill9-both"),
        SIGSTOP_AGENT("sigstop-agent"),
        SIGSTOP_POSTMASTER("sigstop-postmaster"),
        SIGSTOP_ETCD("sigstop-etcd"),
        QUORUM_LOSS("etcd-quorum-loss"),
        CUT_FROM_ETCD("cut-agent-from-etcd"),
        SWITCHOVER("switchover"),
        RESTART_REPLICA("restart-replica"),
        /**
         * Not drawn: the checker's own test (-Dbench.selfCheck=true makes it the first fault). A replica's PostgreSQL is
         * promoted behind its agent's back ({@code SELECT pg_promote()}), the split brain no agent may cause; the
         * sampler must see two writers before that agent turns the node back into a replica.
         */
        ROGUE_PROMOTE("rogue-promote");

        final String label;

        Nemesis(String label) {
            this.label = label;
        }
    }

    /**
     * One fault's outcome: times in seconds, lost = acknowledged ids found missing after it and not before,
     * twoWriters = sampler instants.
     */
    record Outcome(int number, Nemesis nemesis, String target, double heldSeconds, double recoverySeconds,
                   double writeGapSeconds, long lost, int twoWriters, boolean recovered, String note) {}

    private static final Pattern HOSTS = Pattern.compile("(?m)^  hosts: (\\S+)$");
    private static final String TABLE = "chaos_rows";
    private static final Pattern SYNC_STANDBY = Pattern.compile("\"sync_standby\":\\s*\"([^\"]*)\"");
    private static final Pattern SYNC_LEADER = Pattern.compile("\"leader\":\\s*\"([^\"]*)\"");

    private final int faults = Integer.getInteger("bench.faults", 30);
    private final long seed = Long.getLong("bench.seed", System.currentTimeMillis() % 1_000_000);
    private final String sync = System.getProperty("bench.sync", "on");
    private final TestCluster.Timing timing = new TestCluster.Timing(Integer.getInteger("bench.ttl", 10),
            Integer.getInteger("bench.loopWait", 1), Integer.getInteger("bench.retryTimeout", 4));
    /** The HA agent on every node: pgkeel, or Patroni 3.0 from Debian's package (-Dbench.flavor=PATRONI). */
    private final AgentProcess.Flavor flavor = AgentProcess.Flavor.valueOf(System.getProperty("bench.flavor", "PGKEEL"));
    private final Duration recoveryBound = Duration.ofSeconds(Integer.getInteger("bench.recoverySeconds", 120));
    /** Each agent's proxies to the three etcd members, by member name: cutting them all cuts the agent from etcd. */
    private final Map<String, List<FaultProxy>> toEtcd = new ConcurrentHashMap<>();
    private final Random random = new Random(seed);
    /** Every acknowledged id found missing after some fault: a fault reports only the ids it newly lost. */
    private final TreeSet<Long> lostSoFar = new TreeSet<>();
    /** Whether the first fault is {@link Nemesis#ROGUE_PROMOTE} and the run passes only if it is caught. */
    private final boolean selfCheck = Boolean.getBoolean("bench.selfCheck");

    @Test
    void chaos() throws IOException {
        if (!List.of("on", "off", "quorum").contains(sync)) {
            throw new IllegalArgumentException("bench.sync must be on, off or quorum, not " + sync);
        }
        System.out.printf(Locale.ROOT, "chaos: agent=%s seed=%d faults=%d sync=%s ttl=%d loop_wait=%d retry_timeout=%d%n",
                flavor.name().toLowerCase(Locale.ROOT), seed, faults, sync, timing.ttl(), timing.loopWait(), timing.retryTimeout());
        long began = System.nanoTime();
        List<Outcome> outcomes = new ArrayList<>();
        List<String> twoWriterLines = new ArrayList<>();
        long lostAtEnd;
        try (TestCluster c = TestCluster.start("chaos", 3, timing, flavor,
                EtcdCluster.Options.plain(3), this::edit);
             Haproxy haproxy = Haproxy.start(c);
             Writer writer = new Writer("jdbc:postgresql://127.0.0.1:" + haproxy.primaryPort + "/postgres",
                     c.leader().pgPort, TABLE, 20);
             WriteSampler sampler = new WriteSampler(c.nodes, "chaos_probe", 100)) {
            try {
                Await.until(Duration.ofSeconds(30), "the writer's first rows through HAProxy", () -> writer.count() > 20);
                for (int i = 1; i <= faults; i++) {
                    Outcome o = fault(i, c, writer, sampler, twoWriterLines);
                    outcomes.add(o);
                    System.out.println(line(o));
                    if (!o.recovered() || o.lost() > 0 || o.twoWriters() > 0 && o.nemesis() != Nemesis.ROGUE_PROMOTE) {
                        keepFindings(c, o);
                    }
                    if (!o.recovered()) {
                        break; // the cluster's state is unknown: later faults would measure nothing
                    }
                }
                System.out.printf(Locale.ROOT, "chaos: sampler: %d probes; %d instants with one node taking writes; %s%n",
                        sampler.samples(), sampler.instantsWithOneWriter(), sampler.describe());
                lostAtEnd = outcomes.isEmpty() || outcomes.get(outcomes.size() - 1).recovered()
                        ? missing(c, writer.acknowledged()).size() : -1;
            } finally {
                toEtcd.values().forEach(ps -> ps.forEach(FaultProxy::pass));
                c.etcd.thaw();
            }
        } finally {
            toEtcd.values().forEach(ps -> ps.forEach(FaultProxy::close));
        }
        long lost = Math.max(lostAtEnd, lostSoFar.size());
        int twoWriters = outcomes.stream().mapToInt(Outcome::twoWriters).sum();
        double maxRecovery = outcomes.stream().mapToDouble(Outcome::recoverySeconds).max().orElse(0);
        double maxGap = outcomes.stream().mapToDouble(Outcome::writeGapSeconds).max().orElse(0);
        long unrecovered = outcomes.stream().filter(o -> !o.recovered()).count();
        double minutes = (System.nanoTime() - began) / 60e9;
        twoWriterLines.forEach(System.out::println);
        String summary = String.format(Locale.ROOT, "chaos: faults=%d lost=%d two_writers=%d max_recovery_s=%.2f"
                + " max_write_gap_s=%.2f", outcomes.size(), lost, twoWriters, maxRecovery, maxGap);
        System.out.printf(Locale.ROOT, "chaos: %.1f minutes in all (cluster start included), seed %d%n", minutes, seed);
        if (unrecovered > 0) {
            System.out.printf(Locale.ROOT, "chaos: a fault did not recover within %d s of being healed; stopped%n",
                    recoveryBound.toSeconds());
        }
        System.out.println(summary);
        FailoverBench.report(markdown(outcomes, summary, minutes));
        boolean lossCounts = !sync.equals("off");
        if (selfCheck) {
            if (twoWriters == 0) {
                throw new AssertionError("self-check: a PostgreSQL promoted behind its agent's back was not seen as a"
                        + " second writer: " + summary);
            }
            System.out.println("chaos: self-check passed: the sampler saw the rogue promotion as two writers");
            return;
        }
        if (unrecovered > 0 || twoWriters > 0 || lossCounts && lost > 0) {
            throw new AssertionError(summary + (unrecovered > 0 ? " unrecovered=" + unrecovered : "")
                    + " (seed " + seed + ")");
        }
    }

    /** The standard YAML with the run's synchronous_mode, and etcd reached through the node's own proxies. */
    private String edit(String name, String yaml) {
        Matcher hosts = HOSTS.matcher(yaml);
        if (!hosts.find()) {
            throw new AssertionError("the standard YAML names etcd under etcd3.hosts");
        }
        List<FaultProxy> proxies = Stream.of(hosts.group(1).split(",")).map(FaultProxy::start).toList();
        toEtcd.put(name, proxies);
        String edited = hosts.replaceFirst("  hosts: "
                + proxies.stream().map(FaultProxy::endpoint).collect(Collectors.joining(",")));
        String anchor = "    maximum_lag_on_failover: 1048576\n";
        return sync.equals("off") ? edited : edited.replace(anchor, anchor + "    synchronous_mode: " + sync + "\n");
    }

    private Outcome fault(int number, TestCluster c, Writer writer, WriteSampler sampler, List<String> twoWriterLines) {
        Nemesis nemesis = selfCheck && number == 1 ? Nemesis.ROGUE_PROMOTE
                : Nemesis.values()[random.nextInt(Nemesis.ROGUE_PROMOTE.ordinal())];
        AgentProcess leader = c.leader();
        List<AgentProcess> replicas = c.nodes.stream().filter(n -> n != leader).toList();
        // half the node faults hit the primary: that is where safety is at stake
        // (a rogue promotion hits a replica the sync key does not name: the primary's commits must not wait for it)
        AgentProcess node = nemesis == Nemesis.ROGUE_PROMOTE ? asyncReplica(c, replicas)
                : nemesis == Nemesis.RESTART_REPLICA || random.nextBoolean()
                ? replicas.get(random.nextInt(replicas.size())) : leader;
        // from half a second to twice the ttl: shorter than the lease and longer than it
        long holdMillis = 500 + random.nextInt(timing.ttl() * 2000 - 500);
        long t0 = System.nanoTime();
        String target = node.name;
        String role = node == leader ? "primary" : "replica";
        String note = "";
        switch (nemesis) {
            case KILL9_AGENT -> {
                node.kill9();
                Await.pause(holdMillis);
                c.startAgent(node);
            }
            case KILL9_POSTMASTER -> node.postmasterPid().ifPresent(pid -> Host.signal(pid, "KILL"));
            case KILL9_BOTH -> {
                node.kill9();
                node.postmasterPid().ifPresent(pid -> Host.signal(pid, "KILL"));
                Await.pause(holdMillis);
                c.startAgent(node);
            }
            case SIGSTOP_AGENT -> {
                Host.signal(node.pid(), "STOP");
                Await.pause(holdMillis);
                Host.signal(node.pid(), "CONT");
            }
            case SIGSTOP_POSTMASTER -> {
                long pid = node.postmasterPid().orElseThrow(() -> new AssertionError(node.name + " has no postmaster"));
                Host.signal(pid, "STOP");
                Await.pause(holdMillis);
                Host.signal(pid, "CONT");
            }
            case SIGSTOP_ETCD -> {
                int member = random.nextInt(c.etcd.size());
                target = "etcd" + (member + 1);
                role = "";
                c.etcd.freeze(member);
                Await.pause(holdMillis);
                c.etcd.thaw(member);
            }
            case QUORUM_LOSS -> {
                int spared = random.nextInt(c.etcd.size());
                target = "etcd (all but etcd" + (spared + 1) + ")";
                role = "";
                List<Integer> killed = Stream.of(0, 1, 2).filter(m -> m != spared).toList();
                killed.forEach(c.etcd::kill);
                Await.pause(holdMillis);
                killed.forEach(c.etcd::restart);
            }
            case CUT_FROM_ETCD -> {
                toEtcd.get(node.name).forEach(FaultProxy::cut);
                Await.pause(holdMillis);
                toEtcd.get(node.name).forEach(FaultProxy::pass);
            }
            case SWITCHOVER -> {
                AgentProcess candidate = switchoverCandidate(c, replicas);
                target = candidate.name;
                role = "candidate";
                awaitRestApi(leader);
                Rest.Answer a = Rest.post(leader, "/switchover",
                        "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + candidate.name + "\"}");
                note = a.status() == 200 ? "" : "switchover refused: " + a;
            }
            case RESTART_REPLICA -> {
                awaitRestApi(node);
                Rest.Answer a = Rest.post(node, "/restart", "{}");
                note = a.status() == 200 ? "" : "restart refused: " + a;
            }
            case ROGUE_PROMOTE -> Sql.execute(node.pgPort, "SELECT pg_promote(true, 10)");
            default -> throw new AssertionError("unhandled " + nemesis);
        }
        boolean held = switch (nemesis) {
            case KILL9_AGENT, KILL9_BOTH, SIGSTOP_AGENT, SIGSTOP_POSTMASTER, SIGSTOP_ETCD, QUORUM_LOSS, CUT_FROM_ETCD -> true;
            default -> false;
        };
        List<String> details = new ArrayList<>(List.of(role));
        if (held) {
            details.add(String.format(Locale.ROOT, "held %.1f s", holdMillis / 1000.0));
        }
        details.removeIf(String::isEmpty);
        target += details.isEmpty() ? "" : " (" + String.join(", ", details) + ")";
        long healed = System.nanoTime();
        int acksAtHeal = writer.count();
        boolean recovered = true;
        try {
            c.awaitHealthy(recoveryBound); // starts any agent that is not running
            Await.until(recoveryBound, "one writable node, and the writer acknowledged through HAProxy",
                    () -> c.writablePrimaries().size() == 1 && c.isHealthy() && syncKeySettled(c)
                            && writer.count() > acksAtHeal + 2,
                    c::describe);
        } catch (AssertionError e) {
            recovered = false;
            note = (note.isEmpty() ? "" : note + "; ") + e.getMessage();
        }
        long done = System.nanoTime();
        double gap = writer.longestGapMillisAround(t0, done) / 1000.0;
        long lost = 0;
        if (recovered) {
            List<Long> newlyLost = missing(c, writer.acknowledged()).stream().filter(id -> !lostSoFar.contains(id))
                    .toList();
            lostSoFar.addAll(newlyLost);
            lost = newlyLost.size();
            if (lost > 0) {
                note = (note.isEmpty() ? "" : note + "; ") + "lost ids " + newlyLost.subList(0, Math.min(10,
                        newlyLost.size())) + (newlyLost.size() > 10 ? "..." : "");
            }
        }
        List<WriteSampler.TwoWriters> events = sampler.twoWritersSince(t0);
        events.stream().filter(e -> e.tickNanos() - done <= 0).forEach(e -> twoWriterLines.add(String.format(Locale.ROOT,
                "two writers: fault %d (%s %s), sampler instant %.1f s after the fault began: %s", number,
                nemesis.label, node.name, (e.tickNanos() - t0) / 1e9, e.serverTimes())));
        int twoWriters = (int) events.stream().filter(e -> e.tickNanos() - done <= 0).count();
        return new Outcome(number, nemesis, target, held ? holdMillis / 1000.0 : 0, (done - t0) / 1e9, gap, lost,
                twoWriters, recovered, note);
    }

    /**
     * A replica the leader will hand over to: in synchronous mode one named in the sync key (the others are refused,
     * as Patroni refuses them), otherwise either.
     */
    private AgentProcess switchoverCandidate(TestCluster c, List<AgentProcess> replicas) {
        List<String> standbys = syncStandbys(c);
        List<AgentProcess> candidates = sync.equals("off") ? replicas
                : replicas.stream().filter(n -> standbys.contains(n.name)).toList();
        return (candidates.isEmpty() ? replicas : candidates).get(random.nextInt(
                (candidates.isEmpty() ? replicas : candidates).size()));
    }

    /** The members the sync key names as synchronous standbys (none with synchronous_mode off). */
    private List<String> syncStandbys(TestCluster c) {
        if (sync.equals("off")) {
            return List.of();
        }
        Matcher m = SYNC_STANDBY.matcher(c.etcd.get(c.key("sync")).orElse(""));
        return m.find() ? List.of(m.group(1).split(",")) : List.of();
    }

    /**
     * With synchronous_mode on or quorum, the sync key names the current leader and a standby: part of recovery, since
     * until then a commit is not protected (and a switchover candidate cannot be chosen).
     */
    private boolean syncKeySettled(TestCluster c) {
        if (sync.equals("off")) {
            return true;
        }
        Matcher leader = SYNC_LEADER.matcher(c.etcd.get(c.key("sync")).orElse(""));
        return leader.find() && leader.group(1).equals(c.leaderName().orElse("")) && !syncStandbys(c).isEmpty()
                && !syncStandbys(c).get(0).isBlank();
    }

    /** A replica the sync key does not name (any replica with synchronous_mode off). */
    private AgentProcess asyncReplica(TestCluster c, List<AgentProcess> replicas) {
        List<String> standbys = syncStandbys(c);
        return replicas.stream().filter(n -> !standbys.contains(n.name)).findFirst().orElse(replicas.get(0));
    }

    /** The acknowledged ids missing from the current leader's table. */
    private static List<Long> missing(TestCluster c, List<Long> acknowledged) {
        BitSet present = new BitSet();
        try (Connection conn = Sql.connect(c.leader().pgPort, 60); Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM " + TABLE)) {
            while (rs.next()) {
                present.set((int) rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading " + TABLE + " on the leader: " + e.getMessage(), e);
        }
        return acknowledged.stream().filter(id -> !present.get(id.intValue())).toList();
    }

    private String line(Outcome o) {
        return String.format(Locale.ROOT, "fault %d/%d %s %s: recovery %.2f s, write gap %.2f s%s%s%s%s", o.number(),
                faults, o.nemesis().label, o.target(), o.recoverySeconds(), o.writeGapSeconds(),
                o.lost() > 0 ? ", LOST " + o.lost() : "", o.twoWriters() > 0 ? ", TWO WRITERS " + o.twoWriters() : "",
                o.recovered() ? "" : ", NOT RECOVERED", o.note().isEmpty() ? "" : " [" + o.note() + "]");
    }

    /** Copies every log of the cluster (agents, PostgreSQL, etcd, HAProxy) and the fault's line to -Dbench.findings. */
    private void keepFindings(TestCluster c, Outcome o) {
        Path to = Path.of(System.getProperty("bench.findings", "bench/results/chaos-findings"))
                .resolve("seed" + seed + "-fault" + o.number());
        try (Stream<Path> logs = Files.walk(c.dir, 2)) {
            Files.createDirectories(to);
            for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                Path dest = to.resolve(c.dir.relativize(log).toString().replace('/', '-'));
                Files.copy(log, dest, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.writeString(to.resolve("fault.txt"), line(o) + "\nseed " + seed + ", sync " + sync + ", " + timing
                    + "\n");
            System.out.println("chaos: logs of fault " + o.number() + " kept in " + to.toAbsolutePath());
        } catch (IOException e) {
            System.out.println("chaos: could not keep the logs of fault " + o.number() + ": " + e);
        }
    }

    private String markdown(List<Outcome> outcomes, String summary, double minutes) {
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

                ### Chaos, %s: %d faults, seed %d, synchronous_mode %s, ttl %d, loop_wait %d, retry_timeout %d (%.1f min)

                `%s`

                | nemesis | faults | recovery: median | min | max | write gap: median | min | max |
                |---|---|---|---|---|---|---|---|
                """, flavor == AgentProcess.Flavor.PGKEEL ? "pgkeel" : "Patroni 3.0", outcomes.size(), seed, sync, timing.ttl(), timing.loopWait(), timing.retryTimeout(), minutes,
                summary));
        Map<Nemesis, List<Outcome>> byNemesis = new EnumMap<>(Nemesis.class);
        outcomes.forEach(o -> byNemesis.computeIfAbsent(o.nemesis(), k -> new ArrayList<>()).add(o));
        byNemesis.forEach((n, os) -> md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s |%n", n.label, os.size(),
                FailoverBench.stats(os.stream().map(Outcome::recoverySeconds).toList()),
                FailoverBench.stats(os.stream().map(Outcome::writeGapSeconds).toList()))));
        md.append("\n<details><summary>every fault</summary>\n\n```\n");
        outcomes.forEach(o -> md.append(line(o)).append('\n'));
        md.append("```\n</details>\n");
        return md.toString();
    }

    /**
     * An agent that was just killed and started again is back in the cluster (its member key, its PostgreSQL) a moment
     * before its REST API listens: an operator's request waits for the API, as an operator retrying would.
     */
    private static void awaitRestApi(AgentProcess node) {
        Await.until(Duration.ofSeconds(30), node.name + "'s REST API to answer", () -> {
            try {
                return Rest.call(node, "GET", "/liveness", null).status() == 200;
            } catch (AssertionError e) {
                return false;
            }
        });
    }
}
