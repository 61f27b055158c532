package io.pgkeel.agent.ctl;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "reinit", mixinStandardHelpOptions = true,
        description = "Rebuild replicas: wipe the data directory, clone again from the leader.")
final class ReinitCmd extends MemberCmd {
    @Parameters(arity = "1..*", paramLabel = "MEMBER")
    List<String> names;
    @Option(names = "--wait", description = "wait until the members run again")
    boolean waitDone;
    @Option(names = "--force", description = "do not ask for confirmation")
    boolean force;

    @Override
    int run(Ctl ctl) {
        ClusterView c = ctl.read();
        List<Member> targets = members(ctl, c, names);
        // asked member by member: a "no" skips that member only, where restart and reload abort
        Outcome o = postEach(ctl, targets, "/reinitialize", Map.of("force", true), "reinitialize",
                m -> force || ctl.confirm(areYouSure("reinitialize", List.of(m))),
                (m, a) -> "Success: reinitialize for member " + m.name());
        List<String> started = o.accepted();
        if (waitDone && !started.isEmpty()) {
            ctl.out.println("Waiting for reinitialize to complete on: " + String.join(", ", started));
            long deadline = ctl.clock.nanoTime() + TimeUnit.HOURS.toNanos(12);
            for (String name : started) {
                // first the member stops running (its key says "creating replica"), then it runs again
                long leaveBy = ctl.clock.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (ctl.clock.nanoTime() - leaveBy < 0
                        && ctl.read().member(name).map(Member::isRunning).orElse(false)) {
                    ctl.sleep(500);
                }
                while (ctl.clock.nanoTime() - deadline < 0
                        && !ctl.read().member(name).map(Member::isRunning).orElse(false)) {
                    ctl.sleep(1000);
                }
            }
            ctl.out.println("Reinitialize is completed on: " + String.join(", ", started));
        }
        return o.exitCode();
    }
}
