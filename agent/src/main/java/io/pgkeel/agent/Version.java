package io.pgkeel.agent;

/** The version pgkeel reports (in member keys and /patroni) and the Patroni version it is compatible with. */
public final class Version {
    public static final String PGKEEL = "0.1.0";

    private Version() {}
}
