package io.pgkeel.agent.pg;

import io.pgkeel.common.pg.PostgresException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The physical replication slots of the local PostgreSQL, over the local connection. Loop thread only. */
final class Slots {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);

    private final LocalConnection local;

    Slots(LocalConnection local) {
        this.local = local;
    }

    /**
     * Creates those of {@code slots} that do not exist yet, reserving WAL at once (the second argument of
     * {@code pg_create_physical_replication_slot}), as Patroni does for its members.
     *
     * @throws PostgresException when PostgreSQL cannot be reached or a slot cannot be created
     */
    void create(Set<String> slots) {
        try {
            Connection c = local.get();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_create_physical_replication_slot(?, true) "
                            + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
                for (String slot : slots) {
                    ps.setString(1, slot);
                    ps.setString(2, slot);
                    ps.executeQuery().close();
                    log.info("created physical replication slot {}", slot);
                }
            }
        } catch (SQLException e) {
            local.close();
            throw new PostgresException("creating replication slots " + slots + ": " + e.getMessage(), e);
        }
    }

    /**
     * Drops those of {@code slots} that exist, are physical and nobody streams from; returns the names dropped.
     *
     * @throws PostgresException when PostgreSQL cannot be reached at all
     */
    Set<String> dropUnused(Set<String> slots) {
        Set<String> dropped = new HashSet<>();
        Connection c;
        try {
            c = local.get();
        } catch (SQLException e) {
            local.close();
            throw new PostgresException("dropping replication slots " + slots + ": " + e.getMessage(), e);
        }
        for (String slot : slots) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) "
                    + "FROM pg_replication_slots WHERE slot_name = ? AND slot_type = 'physical' AND NOT active")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        dropped.add(slot);
                    }
                }
            } catch (SQLException e) {
                // became active between the check and the drop: somebody streams from it again, so it stays
                log.debug("replication slot {} not dropped: {}", slot, e.getMessage());
            }
        }
        return dropped;
    }

    /** The names of the physical slots present, over {@code c}. */
    static Set<String> list(Connection c) throws SQLException {
        Set<String> slots = new HashSet<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical'")) {
            while (rs.next()) {
                slots.add(rs.getString(1));
            }
        }
        return slots;
    }
}
