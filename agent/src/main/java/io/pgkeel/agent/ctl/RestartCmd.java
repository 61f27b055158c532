package io.pgkeel.agent.ctl;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "restart", mixinStandardHelpOptions = true, description = "Restart PostgreSQL on members.")
final class RestartCmd extends MemberCmd {
    @Parameters(paramLabel = "MEMBER", description = "members to restart (default: all)")
    List<String> names;
    @Option(names = {"-r", "--role"}, description = "only members with this role: leader/primary or replica")
    String role;
    @Option(names = "--pending", description = "only members with a pending restart")
    boolean pending;
    @Option(names = "--scheduled", description = "when, ISO 8601 with a time zone (default: now)")
    String scheduled;
    @Option(names = "--force", description = "do not ask for confirmation")
    boolean force;

    @Override
    int run(Ctl ctl) {
        ClusterView c = ctl.read();
        List<Member> targets = members(ctl, c, names);
        if (role != null) {
            boolean leaders = role.equals("leader") || role.equals("primary") || role.equals("master");
            targets = targets.stream().filter(m -> c.isLeader(m.name()) == leaders).toList();
        }
        confirmFor(ctl, force, "restart", targets);
        Map<String, Object> body = new LinkedHashMap<>();
        if (pending) {
            body.put("restart_pending", true);
        }
        if (scheduled != null && !scheduled.equals("now")) {
            body.put("schedule", scheduledTime(scheduled));
        }
        // 202: the member accepted a restart for later (--scheduled)
        return postEach(ctl, targets, "/restart", body, "restart", m -> true, (m, a) -> a.status() == 202
                ? "Success: restart scheduled on member " + m.name() : "Success: restart on member " + m.name())
                .exitCode();
    }
}
