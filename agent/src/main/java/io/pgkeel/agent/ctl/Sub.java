package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;
import static io.pgkeel.agent.ctl.CtlError.USAGE;

import io.pgkeel.common.cluster.ScheduledAt;
import io.pgkeel.common.dcs.DcsException;
import java.util.concurrent.Callable;
import picocli.CommandLine.ParentCommand;

/** Base of every subcommand: opens the context, maps errors to exit codes. */
abstract class Sub implements Callable<Integer> {
    @ParentCommand
    CtlCommand parent;

    @Override
    public final Integer call() {
        try (Ctl ctl = parent.open()) {
            return run(ctl);
        } catch (CtlError e) {
            System.err.println("Error: " + e.getMessage());
            return e.exitCode;
        } catch (DcsException e) {
            System.err.println("Error: cannot reach etcd: " + e.getMessage());
            return FAILED;
        }
    }

    abstract int run(Ctl ctl);

    static void checkCluster(Ctl ctl, String cluster) {
        if (cluster != null && !cluster.equals(ctl.config.scope())) {
            throw new CtlError(USAGE, "cluster '" + cluster + "' is not the one in the configuration ('"
                    + ctl.config.scope() + "')");
        }
    }

    /** {@code --scheduled} as ISO 8601 with its offset, or a refusal naming the expected form. */
    static String scheduledTime(String scheduled) {
        try {
            return ScheduledAt.parse(scheduled).toString();
        } catch (ScheduledAt.Invalid e) {
            throw new CtlError(FAILED, "Can not parse scheduled time '" + scheduled
                    + "': give ISO 8601 with a time zone, e.g. 2026-11-28T12:00:00+00:00");
        }
    }
}
