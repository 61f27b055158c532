package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.common.cluster.DynamicConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show-config", mixinStandardHelpOptions = true, description = "Print the dynamic configuration.")
final class ShowConfigCmd extends Sub {
    @Parameters(arity = "0..1", paramLabel = "CLUSTER")
    String cluster;

    @Override
    int run(Ctl ctl) {
        checkCluster(ctl, cluster);
        DynamicConfig cfg = ctl.read().config().orElseThrow(
                () -> new CtlError(FAILED, "the cluster has no configuration in DCS yet"));
        ctl.out.print(Format.yaml(cfg.raw()));
        return 0;
    }
}
