package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.agent.api.SyncRole;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "failover", mixinStandardHelpOptions = true,
        description = "Manual failover to a named member; also works when the cluster has no leader.")
final class FailoverCmd extends Sub {
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
        Optional<String> async = asyncCandidateQuestion(c, candidate);
        if (!force && async.isPresent() && !ctl.confirm(async.get())) {
            throw new CtlError(FAILED, "Aborting failover");
        }
        if (!force && !ctl.confirm("Are you sure you want to failover cluster " + ctl.config.scope() + "?")) {
            throw new CtlError(FAILED, "Aborting failover");
        }
        Optional<Member> target = c.leaderMember().or(() -> c.member(candidate));
        return ctl.requestFailover(target, "/failover", Map.of("candidate", candidate), "failover", null, candidate,
                null);
    }

    /**
     * patronictl 4.1 (_do_failover_or_switchover): in synchronous mode (on or quorum), a failover to a member the
     * sync key names neither as a standby nor as its leader may lose acknowledged commits, so it is asked about first;
     * nothing to ask without a sync key. Unlike the roles {@code list} shows, a key an earlier leader wrote still
     * counts here: after a crash it is the only record of who holds every acknowledged commit.
     *
     * @return the question, or empty when there is nothing to ask
     */
    static Optional<String> asyncCandidateQuestion(ClusterView c, String candidate) {
        boolean synchronous = SyncRole.settings(c).mode().isOn();
        boolean named = c.sync().map(k -> k.matches(candidate, true)).orElse(true);
        return synchronous && !named
                ? Optional.of("Are you sure you want to failover to the asynchronous node " + candidate + "?")
                : Optional.empty();
    }
}
