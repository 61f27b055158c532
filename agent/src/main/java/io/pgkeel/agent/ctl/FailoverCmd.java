package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

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
        if (!force && !ctl.confirm("Are you sure you want to failover cluster " + ctl.config.scope() + "?")) {
            throw new CtlError(FAILED, "Aborting failover");
        }
        Optional<Member> target = c.leaderMember().or(() -> c.member(candidate));
        return ctl.requestFailover(target, "/failover", Map.of("candidate", candidate), "failover", null, candidate,
                null);
    }
}
