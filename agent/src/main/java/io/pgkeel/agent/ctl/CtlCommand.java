package io.pgkeel.agent.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.pgkeel.common.cluster.ConfigPatch;
import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.ScheduledAt;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.config.ConfigException;
import io.pgkeel.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code pgkeel ctl -c CONFIG.yml COMMAND}: patronictl's commands for a pgkeel (or Patroni) cluster. State is read
 * from etcd directly; actions go through the members' REST APIs, with etcd as the fallback where patronictl has one.
 * Exit codes: 0 done, 1 refused or failed, 2 bad configuration or usage.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = "Operate a cluster: list, switchover, failover, restart, reinit, pause, edit-config, ...",
        subcommands = {CtlCommand.ListCmd.class, CtlCommand.TopologyCmd.class, CtlCommand.SwitchoverCmd.class,
                CtlCommand.FailoverCmd.class, CtlCommand.RestartCmd.class, CtlCommand.ReinitCmd.class,
                CtlCommand.ReloadCmd.class, CtlCommand.PauseCmd.class, CtlCommand.ResumeCmd.class,
                CtlCommand.ShowConfigCmd.class, CtlCommand.EditConfigCmd.class, CtlCommand.HistoryCmd.class,
                CtlCommand.FlushCmd.class, CtlCommand.RemoveCmd.class, CtlCommand.VersionCmd.class})
public final class CtlCommand implements Runnable {
    static final int FAILED = 1;
    static final int USAGE = 2;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final io.pgkeel.common.Clock CLOCK = io.pgkeel.common.Clock.system();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    @Option(names = {"-c", "--config-file"}, paramLabel = "CONFIG",
            description = "the agent's YAML configuration (default: $PGKEEL_CONFIG, then $PATRONICTL_CONFIG_FILE)")
    Path configFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    Ctl open() {
        Path path = configFile;
        if (path == null) {
            String env = Optional.ofNullable(System.getenv("PGKEEL_CONFIG")).orElse(System.getenv("PATRONICTL_CONFIG_FILE"));
            if (env == null) {
                throw new CtlError(USAGE, "no configuration: pass -c CONFIG.yml (or set PGKEEL_CONFIG)");
            }
            path = Path.of(env);
        }
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(path);
            return new Ctl(loaded.config(), System.out, System.err,
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        } catch (ConfigException e) {
            throw new CtlError(USAGE, "invalid configuration: " + e.getMessage());
        }
    }

    /** A refusal or failure with its exit code; the message is printed to stderr. */
    static final class CtlError extends RuntimeException {
        final int exitCode;

        CtlError(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    /** Base of every subcommand: opens the context, maps errors to exit codes. */
    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        CtlCommand parent;

        @Override
        public final Integer call() {
            try (Ctl ctl = parent.open()) {
                return run(ctl);
            } catch (CtlError e) {
                System.err.println("Error: " + e.getMessage());
                return e.exitCode;
            } catch (DcsException e) {
                System.err.println("Error: cannot reach etcd: " + e.getMessage());
                return FAILED;
            }
        }

        abstract int run(Ctl ctl);

        static void checkCluster(Ctl ctl, String cluster) {
            if (cluster != null && !cluster.equals(ctl.config.scope())) {
                throw new CtlError(USAGE, "cluster '" + cluster + "' is not the one in the configuration ('"
                        + ctl.config.scope() + "')");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ list

    enum Format { pretty, tsv, json, yaml }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The members, their roles, state and lag.")
    static class ListCmd extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;
        @Option(names = {"-f", "--format"}, defaultValue = "pretty", description = "pretty, tsv, json or yaml")
        Format format;
        @Option(names = {"-e", "--extended"}, description = "show the Tags column even when no member has tags")
        boolean extended;
        @Option(names = "-W", description = "refresh every 2 seconds until interrupted")
        boolean watchForever;
        @Option(names = {"-w", "--watch"}, paramLabel = "SECONDS", description = "refresh every SECONDS")
        Integer watch;

        boolean topology() {
            return false;
        }

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            Integer every = watchForever ? Integer.valueOf(2) : watch;
            while (true) {
                if (every != null) {
                    ctl.out.print("\033[H\033[2J");
                }
                ctl.out.print(ClusterList.render(ctl.config.scope(), ctl.read(), format, extended, topology()));
                ctl.out.flush();
                if (every == null) {
                    return 0;
                }
                CLOCK.sleepNanos(java.util.concurrent.TimeUnit.SECONDS.toNanos(every));
                if (Thread.currentThread().isInterrupted()) {
                    return 0;
                }
            }
        }
    }

    @Command(name = "topology", mixinStandardHelpOptions = true, description = "The members as a replication tree.")
    static final class TopologyCmd extends ListCmd {
        @Override
        boolean topology() {
            return true;
        }
    }

    // ------------------------------------------------------------------------------------------------ switchover

    @Command(name = "switchover", mixinStandardHelpOptions = true,
            description = "Planned switchover: the leader hands over to a healthy replica without losing a write.")
    static final class SwitchoverCmd extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;
        @Option(names = {"--leader", "--primary", "--master"}, description = "the current leader")
        String leader;
        @Option(names = "--candidate", description = "the member to take over (default: the healthiest)")
        String candidate;
        @Option(names = "--scheduled", description = "when, ISO 8601 with a time zone, or 'now'")
        String scheduled;
        @Option(names = "--force", description = "do not ask for confirmation")
        boolean force;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            ClusterView c = ctl.read();
            String current = c.leader().map(l -> l.name()).orElseThrow(
                    () -> new CtlError(FAILED, "This cluster has no leader"));
            if (leader == null) {
                leader = force ? current : ctl.prompt("Primary", current);
            }
            if (!leader.equals(current)) {
                throw new CtlError(FAILED, "Member " + leader + " is not the leader of cluster " + ctl.config.scope());
            }
            List<String> candidates = c.members().stream().filter(m -> !m.name().equals(leader) && !m.nofailover())
                    .map(Member::name).toList();
            if (candidates.isEmpty()) {
                throw new CtlError(FAILED, "No candidates found to switchover to");
            }
            if (candidate == null && !force) {
                candidate = ctl.prompt("Candidate " + candidates + " []", "");
            }
            if (candidate != null && candidate.isEmpty()) {
                candidate = null;
            }
            if (candidate != null && candidate.equals(leader)) {
                throw new CtlError(FAILED, "Switchover target and source are the same");
            }
            if (candidate != null && !candidates.contains(candidate)) {
                throw new CtlError(FAILED, "Member " + candidate + " does not exist in cluster " + ctl.config.scope()
                        + " or is tagged as nofailover");
            }
            if (scheduled == null && !force) {
                scheduled = ctl.prompt("When should the switchover take place (e.g. "
                        + CLOCK.now().atOffset(ZoneOffset.UTC).plusHours(1).withNano(0) + ") ", "now");
            }
            String at = null;
            if (scheduled != null && !scheduled.equals("now")) {
                at = scheduledTime(scheduled);
            }
            ctl.out.print(ClusterList.render(ctl.config.scope(), c, Format.pretty, false, false));
            if (!force && !ctl.confirm("Are you sure you want to switchover cluster " + ctl.config.scope()
                    + ", demoting current leader " + leader + "?")) {
                throw new CtlError(FAILED, "Aborting switchover");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("leader", leader);
            if (candidate != null) {
                body.put("candidate", candidate);
            }
            if (at != null) {
                body.put("scheduled_at", at);
            }
            return post(ctl, c, c.leaderMember(), "/switchover", body, "switchover", leader, candidate, at);
        }
    }

    /**
     * POST to the member's API; when it cannot be reached, write the failover key directly (patronictl's fallback),
     * and say so.
     */
    static int post(Ctl ctl, ClusterView c, Optional<Member> target, String path, Map<String, Object> body,
                    String action, String leader, String candidate, String scheduledAt) {
        Ctl.Answer a = target.map(m -> ctl.call(m, "POST", path, body)).orElse(new Ctl.Answer(0, "no member to ask"));
        if (a.status() == 0) {
            ctl.err.println("Could not " + action + " using the REST API (" + a.text() + "), falling back to DCS");
            ctl.dcs.writeFailover(leader, candidate, scheduledAt, -1);
            ctl.out.println(CLOCK.now().atOffset(ZoneOffset.UTC).withNano(0) + " " + capitalize(action)
                    + " request written to DCS; the agents carry it out");
            return 0;
        }
        if (!a.ok()) {
            throw new CtlError(FAILED, capitalize(action) + " failed, details: " + a.status() + ", " + a.text());
        }
        ctl.out.println(CLOCK.now().atOffset(ZoneOffset.UTC).withNano(0) + " " + a.text());
        return 0;
    }

    /** {@code --scheduled} as ISO 8601 with its offset, or a refusal naming the expected form. */
    static String scheduledTime(String scheduled) {
        try {
            return ScheduledAt.parse(scheduled).toString();
        } catch (ScheduledAt.Invalid e) {
            throw new CtlError(FAILED, "Can not parse scheduled time '" + scheduled
                    + "': give ISO 8601 with a time zone, e.g. 2026-11-28T12:00:00+00:00");
        }
    }

    /** Asks before acting on members, unless --force; a "no" aborts the command. */
    static void confirmFor(Ctl ctl, boolean force, String what, List<Member> targets) {
        if (!force && !ctl.confirm("Are you sure you want to " + what + " members "
                + String.join(", ", targets.stream().map(Member::name).toList()) + "?")) {
            throw new CtlError(FAILED, "Aborted " + what);
        }
    }

    /** patronictl's line for a member that refused or could not be reached. */
    static String failed(String what, Member m, Ctl.Answer a) {
        return "Failed: " + what + " for member " + m.name() + ", status code=" + a.status() + ", (" + a.text() + ")";
    }

    static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    @Command(name = "failover", mixinStandardHelpOptions = true,
            description = "Manual failover to a named member; also works when the cluster has no leader.")
    static final class FailoverCmd extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;
        @Option(names = "--candidate", description = "the member to promote")
        String candidate;
        @Option(names = "--force", description = "do not ask for confirmation")
        boolean force;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            ClusterView c = ctl.read();
            List<String> candidates = c.members().stream().filter(m -> !c.isLeader(m.name()) && !m.nofailover())
                    .map(Member::name).toList();
            if (candidate == null && !force) {
                candidate = ctl.prompt("Candidate " + candidates + " []", "");
            }
            if (candidate == null || candidate.isEmpty()) {
                throw new CtlError(FAILED, "Failover could be performed only to a specific candidate");
            }
            if (c.isLeader(candidate)) {
                throw new CtlError(FAILED, "Member " + candidate + " is already the leader of cluster "
                        + ctl.config.scope());
            }
            if (!candidates.contains(candidate)) {
                throw new CtlError(FAILED, "Member " + candidate + " does not exist in cluster " + ctl.config.scope()
                        + " or is tagged as nofailover");
            }
            ctl.out.print(ClusterList.render(ctl.config.scope(), c, Format.pretty, false, false));
            if (!force && !ctl.confirm("Are you sure you want to failover cluster " + ctl.config.scope() + "?")) {
                throw new CtlError(FAILED, "Aborting failover");
            }
            Optional<Member> target = c.leaderMember().or(() -> c.member(candidate));
            return post(ctl, c, target, "/failover", Map.of("candidate", candidate), "failover", null, candidate, null);
        }
    }

    // ------------------------------------------------------------------------------------------------ per member

    /** Members named on the command line (all when none), each checked to exist. */
    static List<Member> members(Ctl ctl, ClusterView c, List<String> names) {
        if (names == null || names.isEmpty()) {
            return c.members();
        }
        List<Member> out = new ArrayList<>();
        for (String n : names) {
            out.add(c.member(n).orElseThrow(() -> new CtlError(FAILED, n + " is not a member of cluster "
                    + ctl.config.scope())));
        }
        return out;
    }

    @Command(name = "restart", mixinStandardHelpOptions = true, description = "Restart PostgreSQL on members.")
    static final class RestartCmd extends Sub {
        @Parameters(paramLabel = "MEMBER", description = "members to restart (default: all)")
        List<String> names;
        @Option(names = {"-r", "--role"}, description = "only members with this role: leader/primary or replica")
        String role;
        @Option(names = "--pending", description = "only members with a pending restart")
        boolean pending;
        @Option(names = "--scheduled", description = "when, ISO 8601 with a time zone (default: now)")
        String scheduled;
        @Option(names = "--force", description = "do not ask for confirmation")
        boolean force;

        @Override
        int run(Ctl ctl) {
            ClusterView c = ctl.read();
            List<Member> targets = members(ctl, c, names);
            if (role != null) {
                boolean leaders = role.equals("leader") || role.equals("primary") || role.equals("master");
                targets = targets.stream().filter(m -> c.isLeader(m.name()) == leaders).toList();
            }
            confirmFor(ctl, force, "restart", targets);
            Map<String, Object> body = new LinkedHashMap<>();
            if (pending) {
                body.put("restart_pending", true);
            }
            if (scheduled != null && !scheduled.equals("now")) {
                body.put("schedule", scheduledTime(scheduled));
            }
            int rc = 0;
            for (Member m : targets) {
                Ctl.Answer a = ctl.call(m, "POST", "/restart", body);
                if (a.status() == 202) {
                    ctl.out.println("Success: restart scheduled on member " + m.name());
                } else if (a.ok()) {
                    ctl.out.println("Success: restart on member " + m.name());
                } else {
                    ctl.out.println(failed("restart", m, a));
                    rc = FAILED;
                }
            }
            return rc;
        }
    }

    @Command(name = "reinit", mixinStandardHelpOptions = true,
            description = "Rebuild replicas: wipe the data directory, clone again from the leader.")
    static final class ReinitCmd extends Sub {
        @Parameters(arity = "1..*", paramLabel = "MEMBER")
        List<String> names;
        @Option(names = "--wait", description = "wait until the members run again")
        boolean waitDone;
        @Option(names = "--force", description = "do not ask for confirmation")
        boolean force;

        @Override
        int run(Ctl ctl) {
            ClusterView c = ctl.read();
            List<Member> targets = members(ctl, c, names);
            int rc = 0;
            List<String> started = new ArrayList<>();
            for (Member m : targets) {
                if (!force && !ctl.confirm("Are you sure you want to reinitialize members " + m.name() + "?")) {
                    continue;
                }
                Ctl.Answer a = ctl.call(m, "POST", "/reinitialize", Map.of("force", true));
                if (a.ok()) {
                    ctl.out.println("Success: reinitialize for member " + m.name());
                    started.add(m.name());
                } else {
                    ctl.out.println(failed("reinitialize", m, a));
                    rc = FAILED;
                }
            }
            if (waitDone && !started.isEmpty()) {
                ctl.out.println("Waiting for reinitialize to complete on: " + String.join(", ", started));
                long deadline = CLOCK.nanoTime() + java.util.concurrent.TimeUnit.HOURS.toNanos(12);
                for (String name : started) {
                    // first the member stops running (its key says "creating replica"), then it runs again
                    long leaveBy = CLOCK.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
                    while (CLOCK.nanoTime() - leaveBy < 0
                            && ctl.read().member(name).map(Member::isRunning).orElse(false)) {
                        sleep(500);
                    }
                    while (CLOCK.nanoTime() - deadline < 0
                            && !ctl.read().member(name).map(Member::isRunning).orElse(false)) {
                        sleep(1000);
                    }
                }
                ctl.out.println("Reinitialize is completed on: " + String.join(", ", started));
            }
            return rc;
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = "Make members re-read their configuration file (as SIGHUP).")
    static final class ReloadCmd extends Sub {
        @Parameters(paramLabel = "MEMBER", description = "members to reload (default: all)")
        List<String> names;
        @Option(names = "--force", description = "do not ask for confirmation")
        boolean force;

        @Override
        int run(Ctl ctl) {
            ClusterView c = ctl.read();
            List<Member> targets = members(ctl, c, names);
            confirmFor(ctl, force, "reload", targets);
            int rc = 0;
            int loopWait = c.config().map(DynamicConfig::loopWait).orElse(DynamicConfig.DEFAULT_LOOP_WAIT);
            for (Member m : targets) {
                Ctl.Answer a = ctl.call(m, "POST", "/reload", null);
                if (a.ok()) {
                    ctl.out.println("Reload request received for member " + m.name() + " and will be processed within "
                            + loopWait + " seconds");
                } else {
                    ctl.out.println(failed("reload", m, a));
                    rc = FAILED;
                }
            }
            return rc;
        }
    }

    // ------------------------------------------------------------------------------------------------ pause

    abstract static class TogglePause extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;
        @Option(names = "--wait", description = "wait until every member has seen the change")
        boolean waitAll;

        abstract boolean pause();

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            ClusterView c = ctl.read();
            boolean paused = c.config().map(DynamicConfig::pause).orElse(false);
            if (paused == pause()) {
                throw new CtlError(FAILED, pause() ? "Cluster is already paused" : "Cluster is not paused");
            }
            List<Member> order = new ArrayList<>();
            c.leaderMember().ifPresent(order::add);
            c.members().stream().filter(m -> !c.isLeader(m.name())).forEach(order::add);
            Ctl.Answer last = new Ctl.Answer(0, "no members");
            for (Member m : order) {
                last = ctl.call(m, "PATCH", "/config", Map.of("pause", pause()));
                if (last.status() != 0) {
                    break;
                }
            }
            if (!last.ok()) {
                throw new CtlError(FAILED, "Failed: " + (pause() ? "pause" : "resume") + " cluster management,"
                        + " status code=" + last.status() + ", (" + last.text() + ")");
            }
            if (waitAll) {
                ctl.out.println("'" + (pause() ? "pause" : "resume") + "' request sent, waiting until it is"
                        + " recognized by all nodes");
                long deadline = CLOCK.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
                while (CLOCK.nanoTime() - deadline < 0
                        && !ctl.read().members().stream().allMatch(m -> m.pause() == pause())) {
                    sleep(500);
                }
            }
            ctl.out.println("Success: cluster management is " + (pause() ? "paused" : "resumed"));
            return 0;
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Maintenance mode: agents stop starting, stopping, promoting and demoting PostgreSQL.")
    static final class PauseCmd extends TogglePause {
        @Override
        boolean pause() {
            return true;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Leave maintenance mode.")
    static final class ResumeCmd extends TogglePause {
        @Override
        boolean pause() {
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------------ config

    @Command(name = "show-config", mixinStandardHelpOptions = true, description = "Print the dynamic configuration.")
    static final class ShowConfigCmd extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            DynamicConfig cfg = ctl.read().config().orElseThrow(
                    () -> new CtlError(FAILED, "the cluster has no configuration in DCS yet"));
            ctl.out.print(yaml(cfg.raw()));
            return 0;
        }
    }

    static String yaml(Object o) {
        try {
            return YAML.writeValueAsString(o);
        } catch (IOException e) {
            throw new CtlError(FAILED, e.getMessage());
        }
    }

    @Command(name = "edit-config", mixinStandardHelpOptions = true,
            description = "Change the dynamic configuration (compare-and-set on its revision), showing a diff.")
    static final class EditConfigCmd extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;
        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
                description = "set a key (dots for nesting: postgresql.use_pg_rewind=true); an empty VALUE deletes it")
        List<String> sets = new ArrayList<>();
        @Option(names = {"-p", "--pg"}, paramLabel = "PARAM=VALUE", description = "set postgresql.parameters.PARAM")
        List<String> pgs = new ArrayList<>();
        @Option(names = "--apply", paramLabel = "FILE", description = "merge a YAML file ('-' for stdin) into it")
        String apply;
        @Option(names = "--replace", paramLabel = "FILE", description = "replace it with a YAML file")
        String replace;
        @Option(names = {"-q", "--quiet"}, description = "do not show the diff")
        boolean quiet;
        @Option(names = "--force", description = "do not ask for confirmation")
        boolean force;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            DynamicConfig current = ctl.read().config().orElseThrow(
                    () -> new CtlError(FAILED, "the cluster has no configuration in DCS yet"));
            Map<String, Object> updated;
            if (replace != null) {
                updated = readYamlFile(replace);
            } else {
                updated = new LinkedHashMap<>(current.raw());
                if (apply != null) {
                    updated = ConfigPatch.merge(updated, readYamlFile(apply));
                }
                for (String s : sets) {
                    updated = ConfigPatch.merge(updated, assignment(s, ""));
                }
                for (String p : pgs) {
                    updated = ConfigPatch.merge(updated, assignment(p, "postgresql.parameters."));
                }
                if (apply == null && sets.isEmpty() && pgs.isEmpty()) {
                    updated = editInteractively(current.raw());
                }
            }
            String before = yaml(current.raw());
            String after = yaml(updated);
            if (before.equals(after)) {
                ctl.out.println("Not changed");
                return 0;
            }
            if (!quiet) {
                ctl.out.print(LineDiff.diff(before, after));
            }
            List<String> problems = ConfigPatch.problems(updated);
            if (!problems.isEmpty()) {
                throw new CtlError(FAILED, "the new configuration is not valid: " + String.join("; ", problems));
            }
            if (!force && !ctl.confirm("Apply these changes?")) {
                throw new CtlError(FAILED, "Aborted edit-config");
            }
            if (!ctl.dcs.writeConfig(updated, current.modRevision())) {
                throw new CtlError(FAILED, "Config modification aborted due to concurrent changes: the configuration"
                        + " was changed by someone else; run edit-config again");
            }
            ctl.out.println("Configuration changed");
            return 0;
        }

        /** {@code a.b=c} as {@code {"a": {"b": c}}}, the value read as YAML; an empty value deletes (null). */
        static Map<String, Object> assignment(String text, String prefix) {
            int eq = text.indexOf('=');
            if (eq <= 0) {
                throw new CtlError(USAGE, "'" + text + "' is not KEY=VALUE");
            }
            String[] path = (prefix + text.substring(0, eq).trim()).split("\\.");
            String raw = text.substring(eq + 1).trim();
            Object value;
            try {
                value = raw.isEmpty() ? null : YAML.readValue(raw, Object.class);
            } catch (IOException e) {
                value = raw;
            }
            Map<String, Object> root = new LinkedHashMap<>();
            Map<String, Object> cur = root;
            for (int i = 0; i < path.length - 1; i++) {
                Map<String, Object> next = new LinkedHashMap<>();
                cur.put(path[i], next);
                cur = next;
            }
            cur.put(path[path.length - 1], value);
            return root;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> readYamlFile(String file) {
            try {
                String text = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(Path.of(file));
                Object o = YAML.readValue(text, Object.class);
                if (!(o instanceof Map<?, ?>)) {
                    throw new CtlError(FAILED, file + ": expected a YAML mapping of configuration keys");
                }
                return (Map<String, Object>) o;
            } catch (IOException e) {
                throw new CtlError(FAILED, file + ": " + e.getMessage());
            }
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> editInteractively(Map<String, Object> current) {
            try {
                Path tmp = Files.createTempFile("pgkeel-config-", ".yaml");
                try {
                    Files.writeString(tmp, yaml(current));
                    String editor = Optional.ofNullable(System.getenv("EDITOR")).orElse("vi");
                    int rc = new ProcessBuilder("sh", "-c", editor + " \"$1\"", "editor", tmp.toString()).inheritIO()
                            .start().waitFor();
                    if (rc != 0) {
                        throw new CtlError(FAILED, "the editor exited with " + rc);
                    }
                    Object o = YAML.readValue(Files.readString(tmp), Object.class);
                    if (!(o instanceof Map<?, ?>)) {
                        throw new CtlError(FAILED, "expected a YAML mapping of configuration keys");
                    }
                    return (Map<String, Object>) o;
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new CtlError(FAILED, "editing the configuration: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CtlError(FAILED, "interrupted");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ history etc.

    @Command(name = "history", mixinStandardHelpOptions = true, description = "The cluster's failovers and switchovers.")
    static final class HistoryCmd extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CLUSTER")
        String cluster;
        @Option(names = {"-f", "--format"}, defaultValue = "pretty", description = "pretty, tsv, json or yaml")
        Format format;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            List<String> headers = List.of("TL", "LSN", "Reason", "Timestamp", "New Leader");
            List<List<String>> rows = new ArrayList<>();
            List<Map<String, Object>> objects = new ArrayList<>();
            for (List<Object> e : ctl.read().history()) {
                List<String> row = new ArrayList<>();
                Map<String, Object> obj = new LinkedHashMap<>();
                for (int i = 0; i < headers.size(); i++) {
                    Object v = i < e.size() ? e.get(i) : null;
                    row.add(v == null ? "" : String.valueOf(v));
                    obj.put(headers.get(i), v);
                }
                rows.add(row);
                objects.add(obj);
            }
            ctl.out.print(switch (format) {
                case pretty -> Table.render(null, headers, rows, Set.of("TL", "LSN"));
                case tsv -> Table.tsv(headers, rows);
                case json -> json(objects) + "\n";
                case yaml -> yaml(objects);
            });
            return 0;
        }
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new CtlError(FAILED, e.getMessage());
        }
    }

    @Command(name = "flush", mixinStandardHelpOptions = true,
            description = "Cancel a scheduled switchover (flush CLUSTER switchover).")
    static final class FlushCmd extends Sub {
        @Parameters(index = "0", paramLabel = "CLUSTER")
        String cluster;
        @Parameters(index = "1", paramLabel = "WHAT", description = "switchover")
        String what;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            if (!"switchover".equals(what)) {
                throw new CtlError(USAGE, "only 'flush CLUSTER switchover' is supported (restarts are never scheduled)");
            }
            ClusterView c = ctl.read();
            Optional<FailoverKey> f = c.failover();
            if (f.isEmpty()) {
                ctl.out.println("No pending scheduled switchover");
                return 0;
            }
            Ctl.Answer a = c.leaderMember().map(m -> ctl.call(m, "DELETE", "/switchover", null))
                    .orElse(new Ctl.Answer(0, "no leader"));
            if (a.ok()) {
                ctl.out.println("Success: " + a.text());
                return 0;
            }
            if (!ctl.dcs.deleteFailover(f.get().modRevision())) {
                throw new CtlError(FAILED, "the failover key changed meanwhile; not deleted");
            }
            ctl.out.println("Success: scheduled switchover deleted from DCS");
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Delete everything the cluster keeps in etcd (asks you to type the cluster name).")
    static final class RemoveCmd extends Sub {
        @Parameters(index = "0", paramLabel = "CLUSTER")
        String cluster;

        @Override
        int run(Ctl ctl) {
            checkCluster(ctl, cluster);
            if (!ctl.prompt("Please confirm the cluster name to remove", "").equals(cluster)) {
                throw new CtlError(FAILED, "Cluster names specified do not match");
            }
            String phrase = "Yes I am aware";
            if (!ctl.prompt("You are about to remove all information in DCS for " + cluster + ", please type: \""
                    + phrase + "\"", "").equals(phrase)) {
                throw new CtlError(FAILED, "You did not exactly type \"" + phrase + "\"");
            }
            ClusterView c = ctl.read();
            Optional<Member> leader = c.leaderMember();
            if (leader.isPresent() && leader.get().isRunning() && !ctl.prompt("This cluster currently is healthy."
                    + " Please specify the leader name to continue", "").equals(leader.get().name())) {
                throw new CtlError(FAILED, "You did not specify the current leader of the cluster");
            }
            ctl.dcs.removeCluster();
            ctl.out.println("Removed every key of cluster " + cluster + " from DCS");
            return 0;
        }
    }

    @Command(name = "version", mixinStandardHelpOptions = true, description = "pgkeel's version and the members'.")
    static final class VersionCmd extends Sub {
        @Override
        int run(Ctl ctl) {
            ctl.out.println("pgkeel ctl version " + io.pgkeel.agent.Version.PGKEEL);
            for (Member m : ctl.read().members()) {
                Ctl.Answer a = ctl.call(m, "GET", "/patroni", null);
                String version = "unknown";
                String pg = "";
                if (a.ok()) {
                    try {
                        var n = JSON.readTree(a.text());
                        version = n.path("patroni").path("version").asText("unknown");
                        int v = n.path("server_version").asInt(0);
                        pg = v > 0 ? "; PostgreSQL " + (v / 10000) + "." + (v % 100) : "";
                    } catch (IOException e) {
                        version = "unreadable answer";
                    }
                }
                ctl.out.println(m.name() + ": pgkeel " + version + pg);
            }
            return 0;
        }
    }

    static void sleep(long millis) {
        CLOCK.sleepNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** For list: the lag of a member behind the leader in MB, as patronictl shows it. */
    static String lagMb(long leaderLsn, Member m) {
        if (m.xlogLocation() <= 0 || leaderLsn <= 0) {
            return "unknown";
        }
        return String.valueOf(Math.max(0, (leaderLsn - m.xlogLocation()) / (1024 * 1024)));
    }

    static String lsn(long v) {
        return Lsn.format(v);
    }
}
