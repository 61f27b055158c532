package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "switchover", mixinStandardHelpOptions = true,
        description = "Planned switchover: the leader hands over to a healthy replica without losing a write.")
final class SwitchoverCmd extends Sub {
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
                    + ctl.clock.now().atOffset(ZoneOffset.UTC).plusHours(1).withNano(0) + ") ", "now");
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
        return ctl.requestFailover(c.leaderMember(), "/switchover", body, "switchover", leader, candidate, at);
    }
}
