package io.pgkeel.agent.ctl;

/** A refusal or failure with its exit code; the message is printed to stderr. */
final class CtlError extends RuntimeException {
    /** Exit code of a refused or failed command. */
    static final int FAILED = 1;
    /** Exit code of bad configuration or usage. */
    static final int USAGE = 2;

    final int exitCode;

    CtlError(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }
}
