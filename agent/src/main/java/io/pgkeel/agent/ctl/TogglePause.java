package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** pause and resume: the pause flag is set through the first member that answers, the leader first. */
abstract class TogglePause extends Sub {
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
            long deadline = ctl.clock.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ctl.clock.nanoTime() - deadline < 0
                    && !ctl.read().members().stream().allMatch(m -> m.pause() == pause())) {
                ctl.sleep(500);
            }
        }
        ctl.out.println("Success: cluster management is " + (pause() ? "paused" : "resumed"));
        return 0;
    }
}
