package io.pgkeel.common.pg;

/** The local postmaster as seen from outside: is it there, and does it accept connections. */
public enum PgRunState {
    /** No postmaster (never started, stopped, or crashed). */
    STOPPED("stopped"),
    /** A postmaster is alive but does not accept connections yet (startup, crash recovery). */
    STARTING("starting"),
    /** Accepting connections. */
    RUNNING("running");

    private final String patroniName;

    PgRunState(String patroniName) {
        this.patroniName = patroniName;
    }

    /** The state string Patroni writes into member keys and /patroni. */
    public String patroniName() {
        return patroniName;
    }
}
