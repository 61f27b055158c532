package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A SIGHUP before the agent has started is deferred to its start, once; after it, each SIGHUP reloads. */
class ReloadSignalTest {
    private final List<String> reloads = new ArrayList<>();
    private final ReloadSignal hup = new ReloadSignal();

    @Test
    void aSighupDuringTheStartReloadsOnceTheAgentHasStarted() {
        hup.onSignal();
        hup.onSignal();
        assertThat(reloads).as("nothing to reload yet").isEmpty();
        hup.started(() -> reloads.add("reload"));
        assertThat(reloads).as("two early signals, one reload").containsExactly("reload");
        hup.onSignal();
        assertThat(reloads).containsExactly("reload", "reload");
    }

    @Test
    void withoutAnEarlySighupTheStartReloadsNothing() {
        hup.started(() -> reloads.add("reload"));
        assertThat(reloads).isEmpty();
        hup.onSignal();
        assertThat(reloads).containsExactly("reload");
    }
}
