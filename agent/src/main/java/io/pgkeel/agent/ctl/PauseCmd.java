package io.pgkeel.agent.ctl;

import picocli.CommandLine.Command;

@Command(name = "pause", mixinStandardHelpOptions = true,
        description = "Maintenance mode: agents stop starting, stopping, promoting and demoting PostgreSQL.")
final class PauseCmd extends TogglePause {
    @Override
    boolean pause() {
        return true;
    }
}
