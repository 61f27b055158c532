package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "remove", mixinStandardHelpOptions = true,
        description = "Delete everything the cluster keeps in etcd (asks you to type the cluster name).")
final class RemoveCmd extends Sub {
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
