package io.pgkeel.agent.ctl;

import picocli.CommandLine.Command;

@Command(name = "topology", mixinStandardHelpOptions = true, description = "The members as a replication tree.")
final class TopologyCmd extends ListCmd {
    @Override
    boolean topology() {
        return true;
    }
}
