package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
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

    /**
     * The start completes between the signal thread seeing the agent not started and recording the SIGHUP (the hook
     * runs started() exactly there, on this thread): the SIGHUP must still reload, once. It was lost: started() had
     * already looked for a pending signal and the one recorded afterwards was never read (review13).
     */
    @Test
    void aStartThatCompletesWhileTheSignalIsBeingRecordedStillReloads() {
        AtomicReference<ReloadSignal> self = new AtomicReference<>();
        AtomicBoolean raced = new AtomicBoolean();
        ReloadSignal racing = new ReloadSignal(() -> {
            if (raced.compareAndSet(false, true)) {
                self.get().started(() -> reloads.add("reload"));
            }
        });
        self.set(racing);
        racing.onSignal();
        assertThat(reloads).as("the SIGHUP sent while the agent was finishing its start").containsExactly("reload");
        racing.onSignal();
        assertThat(reloads).containsExactly("reload", "reload");
    }
}
