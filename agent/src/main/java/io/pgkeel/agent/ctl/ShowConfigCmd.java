package io.pgkeel.agent.ctl;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show-config", mixinStandardHelpOptions = true, description = "Print the dynamic configuration.")
final class ShowConfigCmd extends Sub {
    @Parameters(arity = "0..1", paramLabel = "CLUSTER")
    String cluster;

    @Override
    int run(Ctl ctl) {
        checkCluster(ctl, cluster);
        ctl.out.print(Format.yaml(ctl.readConfig().raw()));
        return 0;
    }
}
