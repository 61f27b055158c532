package io.pgkeel.common.pg;

/** The local postmaster as seen from outside: is it there, and does it accept connections. */
public enum PgRunState {
    /** No postmaster (never started, stopped, or crashed). */
    STOPPED("stopped", 12),
    /** A postmaster is alive but does not accept connections yet (startup, crash recovery). */
    STARTING("starting", 6),
    /** Accepting connections. */
    RUNNING("running", 5);

    private final String patroniName;
    private final int patroniIndex;

    PgRunState(String patroniName, int patroniIndex) {
        this.patroniName = patroniName;
        this.patroniIndex = patroniIndex;
    }

    /** Patroni's frozen numeric code for the state (metric {@code patroni_postgres_state}). */
    public int patroniIndex() {
        return patroniIndex;
    }

    /** The state string Patroni writes into member keys and /patroni. */
    public String patroniName() {
        return patroniName;
    }
}
