package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/** Base of the commands that send one request to each member in turn: restart, reinit, reload. */
abstract class MemberCmd extends Sub {

    /**
     * What a request to each member came to.
     *
     * @param accepted the names of the members that accepted, in order
     * @param exitCode 1 when any member refused or could not be reached, else 0
     */
    record Outcome(List<String> accepted, int exitCode) {}

    /**
     * POSTs {@code body} to {@code path} on each member in turn and prints patronictl's line for each: the
     * {@code success} line for a 2xx answer, {@code Failed: WHAT for member ...} for any other answer or an
     * unreachable member.
     *
     * @param what the action as the failure line names it ("restart", "reinitialize", "reload")
     * @param ask asked before each member; false skips the member without a line
     * @param success the line for a member that accepted, from the member and its answer
     */
    static Outcome postEach(Ctl ctl, List<Member> members, String path, Object body, String what,
                            Predicate<Member> ask, BiFunction<Member, Ctl.Answer, String> success) {
        List<String> accepted = new ArrayList<>();
        int rc = 0;
        for (Member m : members) {
            if (!ask.test(m)) {
                continue;
            }
            Ctl.Answer a = ctl.call(m, "POST", path, body);
            if (a.ok()) {
                ctl.out.println(success.apply(m, a));
                accepted.add(m.name());
            } else {
                ctl.out.println("Failed: " + what + " for member " + m.name() + ", status code=" + a.status()
                        + ", (" + a.text() + ")");
                rc = FAILED;
            }
        }
        return new Outcome(List.copyOf(accepted), rc);
    }

    /** Members named on the command line (all when none), each checked to exist. */
    static List<Member> members(Ctl ctl, ClusterView c, List<String> names) {
        if (names == null || names.isEmpty()) {
            return c.members();
        }
        List<Member> out = new ArrayList<>();
        for (String n : names) {
            out.add(c.member(n).orElseThrow(() -> new CtlError(FAILED, n + " is not a member of cluster "
                    + ctl.config.scope())));
        }
        return out;
    }

    /** Asks before acting on members, unless --force; a "no" aborts the command. */
    static void confirmFor(Ctl ctl, boolean force, String what, List<Member> targets) {
        if (!force && !ctl.confirm(areYouSure(what, targets))) {
            throw new CtlError(FAILED, "Aborted " + what);
        }
    }

    /** patronictl's question before acting on members. */
    static String areYouSure(String what, List<Member> targets) {
        return "Are you sure you want to " + what + " members "
                + String.join(", ", targets.stream().map(Member::name).toList()) + "?";
    }
}
