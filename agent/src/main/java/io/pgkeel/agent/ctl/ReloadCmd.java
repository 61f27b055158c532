package io.pgkeel.agent.ctl;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "reload", mixinStandardHelpOptions = true,
        description = "Make members re-read their configuration file (as SIGHUP).")
final class ReloadCmd extends MemberCmd {
    @Parameters(paramLabel = "MEMBER", description = "members to reload (default: all)")
    List<String> names;
    @Option(names = "--force", description = "do not ask for confirmation")
    boolean force;

    @Override
    int run(Ctl ctl) {
        ClusterView c = ctl.read();
        List<Member> targets = members(ctl, c, names);
        confirmFor(ctl, force, "reload", targets);
        int loopWait = c.config().map(DynamicConfig::loopWait).orElse(DynamicConfig.DEFAULT_LOOP_WAIT);
        return postEach(ctl, targets, "/reload", null, "reload", m -> true, (m, a) -> "Reload request received for"
                + " member " + m.name() + " and will be processed within " + loopWait + " seconds").exitCode();
    }
}
