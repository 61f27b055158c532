package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;
import static io.pgkeel.agent.ctl.CtlError.USAGE;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.FailoverKey;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "flush", mixinStandardHelpOptions = true,
        description = "Cancel a scheduled switchover (flush CLUSTER switchover).")
final class FlushCmd extends Sub {
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
