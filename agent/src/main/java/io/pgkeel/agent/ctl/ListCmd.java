package io.pgkeel.agent.ctl;

import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "list", mixinStandardHelpOptions = true, description = "The members, their roles, state and lag.")
class ListCmd extends Sub {
    @Parameters(arity = "0..1", paramLabel = "CLUSTER")
    String cluster;
    @Option(names = {"-f", "--format"}, defaultValue = "pretty", description = "pretty, tsv, json or yaml")
    Format format;
    @Option(names = {"-e", "--extended"}, description = "show the Tags column even when no member has tags")
    boolean extended;
    @Option(names = "-W", description = "refresh every 2 seconds until interrupted")
    boolean watchForever;
    @Option(names = {"-w", "--watch"}, paramLabel = "SECONDS", description = "refresh every SECONDS")
    Integer watch;

    boolean topology() {
        return false;
    }

    @Override
    int run(Ctl ctl) {
        checkCluster(ctl, cluster);
        Integer every = watchForever ? Integer.valueOf(2) : watch;
        while (true) {
            if (every != null) {
                ctl.out.print("\033[H\033[2J");
            }
            ctl.out.print(ClusterList.render(ctl.config.scope(), ctl.read(), format, extended, topology()));
            ctl.out.flush();
            if (every == null) {
                return 0;
            }
            ctl.clock.sleepNanos(TimeUnit.SECONDS.toNanos(every));
            if (Thread.currentThread().isInterrupted()) {
                return 0;
            }
        }
    }
}
