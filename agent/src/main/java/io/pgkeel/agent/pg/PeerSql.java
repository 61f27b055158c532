package io.pgkeel.agent.pg;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.config.Credentials;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SQL to the other members' PostgreSQL: how far a peer has received WAL (for a switchover), and whether a pg_rewind
 * source is ready. Neither throws: a peer that cannot be asked gives the cautious answer. Loop thread only.
 */
final class PeerSql {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);

    /**
     * Connections by conn_url, kept between cycles so that a switching-over leader asks its candidate without a new
     * connection (and authentication) in the middle of its write downtime.
     */
    private final Map<String, Connection> peerConnections = new HashMap<>();
    private final ClientKeys keys;

    /** @param keys client keys in the form the driver reads */
    PeerSql(ClientKeys keys) {
        this.keys = keys;
    }

    /**
     * The larger of {@code peer}'s received and replayed LSN, asked as {@code who} over a kept connection (connect
     * timeout 2 s, socket timeout 3 s); empty when it has none or cannot be asked.
     */
    OptionalLong receivedLsnOf(Member peer, Credentials who) {
        return askPeer(peer, who, "SELECT true, pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, 0, 0,"
                + " true", tli -> true);
    }

    /**
     * How far {@code peer}'s standby has received or replayed WAL when its timeline is {@code timeline} (the WAL
     * receiver's, or else its last checkpoint's, as the local probe reads its own) and that is the end of the WAL it
     * has: a WAL receiver runs, or the startup process has replayed all it has and waits for more (a standby just
     * started replays its own WAL first; its replay position then says nothing of what it holds). Empty otherwise,
     * or when it cannot be asked, is a primary, or has no position.
     */
    OptionalLong receivedLsnOnTimeline(Member peer, Credentials who, int timeline) {
        return askPeer(peer, who, "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text,"
                + " pg_last_wal_replay_lsn()::text, COALESCE((SELECT received_tli FROM pg_stat_get_wal_receiver()), 0),"
                + " (SELECT timeline_id FROM pg_control_checkpoint()),"
                + " EXISTS (SELECT 1 FROM pg_stat_get_wal_receiver() WHERE pid IS NOT NULL)"
                + " OR EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'startup' AND wait_event IN"
                + " ('RecoveryRetrieveRetryInterval', 'RecoveryWalStream', 'RecoveryWalAll'))", tli -> tli == timeline);
    }

    /**
     * One row (in recovery, received LSN, replayed LSN, WAL receiver's timeline or 0, checkpoint timeline, the
     * position is the end of the WAL it has) asked over a kept connection: the larger LSN when in recovery, at the
     * end of its WAL, positive and on a timeline {@code onTimeline} accepts.
     */
    private OptionalLong askPeer(Member peer, Credentials who, String sql, java.util.function.IntPredicate onTimeline) {
        if (peer.connUrl() == null || peer.connUrl().isBlank()) {
            return OptionalLong.empty();
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            Connection c = peerConnections.get(peer.connUrl());
            try {
                if (c == null) {
                    c = connectTo(ConnUrl.parse(peer.connUrl()), who, 2, 3);
                    peerConnections.put(peer.connUrl(), c);
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    int tli = rs.getInt(4) > 0 ? rs.getInt(4) : rs.getInt(5);
                    long received = Math.max(Probe.lsn(rs.getString(2)), Probe.lsn(rs.getString(3)));
                    return rs.getBoolean(1) && onTimeline.test(tli) && rs.getBoolean(6) && received > 0
                            ? OptionalLong.of(received) : OptionalLong.empty();
                }
            } catch (SQLException | IllegalArgumentException | PostgresException e) {
                // a kept connection may have gone stale: retry once on a fresh one (a bad conn_url fails twice)
                peerConnections.remove(peer.connUrl());
                closeQuietly(c);
                log.debug("cannot ask {} how far it has received: {}", peer.name(), e.getMessage());
            }
        }
        return OptionalLong.empty();
    }

    /**
     * The source's last checkpoint is on the timeline it writes now: pg_rewind reads the source's pg_control, which
     * names a new timeline only after the first checkpoint following a promotion. Asked as {@code who} on a new
     * connection (connect timeout 3 s, socket timeout 10 s); false when the source cannot be asked.
     */
    boolean checkpointShowsItsTimeline(ConnUrl source, Credentials who) {
        try (Connection c = connectTo(source, who, 3, 10); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT timeline_id FROM pg_control_checkpoint()),"
                     + " CASE WHEN pg_is_in_recovery() THEN NULL"
                     + " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END")) {
            rs.next();
            int checkpointTimeline = rs.getInt(1);
            int current = rs.getInt(2);
            return rs.wasNull() || checkpointTimeline >= current;
        } catch (SQLException e) {
            log.info("cannot ask {} for its checkpoint timeline: {}", source, e.getMessage());
            return false;
        }
    }

    /**
     * A connection as {@code who}, with its connection options ({@link JdbcSettings}), over TCP, to a member's
     * conn_url (no port: 5432; an IPv6 host in brackets, as the driver's URL wants it).
     */
    private Connection connectTo(ConnUrl target, Credentials who, int connectTimeoutSeconds, int socketTimeoutSeconds)
            throws SQLException {
        Properties p;
        try {
            p = JdbcSettings.properties(who, null, keys::forJdbc);
        } catch (IllegalArgumentException e) {
            throw new SQLException(e.getMessage(), e);
        }
        p.setProperty("connectTimeout", String.valueOf(connectTimeoutSeconds));
        p.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        p.setProperty("ApplicationName", "pgkeel");
        return DriverManager.getConnection(target.jdbcUrl(), p);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // broken already
            }
        }
    }
}
