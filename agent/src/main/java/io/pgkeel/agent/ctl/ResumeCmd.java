package io.pgkeel.agent.ctl;

import picocli.CommandLine.Command;

@Command(name = "resume", mixinStandardHelpOptions = true, description = "Leave maintenance mode.")
final class ResumeCmd extends TogglePause {
    @Override
    boolean pause() {
        return false;
    }
}
