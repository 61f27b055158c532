package io.pgkeel.it;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** Prints the agents' logs when a test fails, so a CI failure can be read without the machine. */
final class ClusterLogsOnFailure implements TestWatcher {
    interface HasCluster {
        TestCluster cluster();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        context.getTestInstance().filter(HasCluster.class::isInstance).map(HasCluster.class::cast)
                .map(HasCluster::cluster).ifPresent(c -> System.out.println("agent logs after failure of "
                        + context.getDisplayName() + ":" + c.logs()));
    }
}
