package io.pgkeel.common.pg;

import java.util.List;

/**
 * What a running primary reports of its synchronous replication: the value of {@code synchronous_standby_names} in
 * force, and its WAL senders (pg_stat_replication). The leader's synchronous replication decisions read it.
 *
 * @param synchronousStandbyNames the running value ({@code SHOW synchronous_standby_names}); null when unknown
 *                                (PostgreSQL down, or a standby)
 * @param managed                 the agent writes {@code synchronous_standby_names} itself (synchronous mode), instead
 *                                of the configured {@code postgresql.parameters} value
 * @param walSenders              one per WAL sender, in pid order
 */
public record PgSync(String synchronousStandbyNames, boolean managed, List<WalSender> walSenders) {
    public static final PgSync NONE = new PgSync(null, false, List.of());

    public PgSync {
        walSenders = walSenders == null ? List.of() : List.copyOf(walSenders);
    }

    /**
     * One row of pg_stat_replication.
     *
     * @param applicationName the standby's {@code application_name} (pgkeel and Patroni set it to the member name)
     * @param state           {@code startup}, {@code catchup}, {@code streaming}, ...
     * @param syncState       {@code async}, {@code potential}, {@code sync} or {@code quorum}
     * @param flushLsn        how far the standby has flushed WAL to disk (LSN, bytes); 0 when unknown
     */
    public record WalSender(String applicationName, String state, String syncState, long flushLsn) {
        public boolean streaming() {
            return "streaming".equals(state);
        }
    }
}
