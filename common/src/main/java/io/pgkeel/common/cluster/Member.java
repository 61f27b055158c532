package io.pgkeel.common.cluster;

import java.util.Map;
import java.util.Objects;

/**
 * One {@code members/<name>} key, as Patroni writes it. Fields that a hand-edited key lacks are null/zero;
 * the parser never fails the whole view because of one bad member.
 *
 * @param state       Patroni's PostgreSQL state string ("running", "starting", "stopped", "crashed", ...)
 * @param role        "primary", "replica", "standby_leader", "demoted", "uninitialized"
 * @param xlogLocation the member's WAL position (flush LSN on a primary, received/replayed on a replica)
 * @param pendingRestart a parameter change waits for a restart of the member's PostgreSQL
 * @param pause       the member saw the cluster in pause mode when it wrote the key (patronictl pause --wait reads it)
 * @param receiveLsn  a replica's received position ({@code receive_lsn}, Patroni 3.0+), 0 when not written
 * @param replayLsn   a replica's replayed position ({@code replay_lsn}), 0 when not written
 * @param pendingRestartReason the parameters waiting for a restart, name to {@code {old_value, new_value}}
 *                    ({@code pending_restart_reason}, Patroni 4.0+); empty when none
 * @param scheduledRestart the restart planned on the member, as Patroni writes it ({@code schedule} in isoformat,
 *                    the request's filters, {@code postmaster_start_time}); empty when none
 * @param pausedLeader pgkeel's {@code paused_leader}: the member whose leader key this member saw vacated in pause,
 *                    and whose answer it waits for before racing (docs/decisions.md, "Pause mode turns the lease fence
 *                    off"); null when none (Patroni never writes it, and ignores it)
 */
public record Member(
        String name,
        String connUrl,
        String apiUrl,
        String state,
        String role,
        int timeline,
        long xlogLocation,
        String replicationState,
        Map<String, Object> tags,
        long modRevision,
        boolean pause,
        boolean pendingRestart,
        long receiveLsn,
        long replayLsn,
        Map<String, Object> pendingRestartReason,
        Map<String, Object> scheduledRestart,
        String pausedLeader) {

    public Member {
        Objects.requireNonNull(name, "name");
        tags = tags == null ? Map.of() : Map.copyOf(tags);
        pendingRestartReason = ordered(pendingRestartReason);
        scheduledRestart = ordered(scheduledRestart);
    }

    /** A member key without pgkeel's {@code paused_leader}. */
    public Member(String name, String connUrl, String apiUrl, String state, String role, int timeline, long xlogLocation,
                  String replicationState, Map<String, Object> tags, long modRevision, boolean pause,
                  boolean pendingRestart, long receiveLsn, long replayLsn, Map<String, Object> pendingRestartReason,
                  Map<String, Object> scheduledRestart) {
        this(name, connUrl, apiUrl, state, role, timeline, xlogLocation, replicationState, tags, modRevision, pause,
                pendingRestart, receiveLsn, replayLsn, pendingRestartReason, scheduledRestart, null);
    }

    /** A member key without the monitoring fields (receive/replay positions, restart reason and schedule). */
    public Member(String name, String connUrl, String apiUrl, String state, String role, int timeline, long xlogLocation,
                  String replicationState, Map<String, Object> tags, long modRevision, boolean pause,
                  boolean pendingRestart) {
        this(name, connUrl, apiUrl, state, role, timeline, xlogLocation, replicationState, tags, modRevision, pause,
                pendingRestart, 0, 0, Map.of(), Map.of());
    }

    /** A member of a cluster that is not paused. */
    public Member(String name, String connUrl, String apiUrl, String state, String role, int timeline, long xlogLocation,
                  String replicationState, Map<String, Object> tags, long modRevision) {
        this(name, connUrl, apiUrl, state, role, timeline, xlogLocation, replicationState, tags, modRevision, false,
                false);
    }

    /** This member key as read at {@code revision}. */
    public Member withModRevision(long revision) {
        return new Member(name, connUrl, apiUrl, state, role, timeline, xlogLocation, replicationState, tags, revision,
                pause, pendingRestart, receiveLsn, replayLsn, pendingRestartReason, scheduledRestart, pausedLeader);
    }

    /** A read-only copy that keeps the order the key was written in (shown as is by GET /cluster). */
    private static Map<String, Object> ordered(Map<String, Object> m) {
        return m == null || m.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(m));
    }

    public boolean nofailover() {
        return Tags.nofailover(tags);
    }

    public int failoverPriority() {
        return Tags.failoverPriority(tags);
    }

    /** Never picked as a synchronous standby ({@link Tags#nosync}). */
    public boolean nosync() {
        return Tags.nosync(tags);
    }

    /** Rank as synchronous standby candidate, higher first ({@link Tags#syncPriority}). */
    public int syncPriority() {
        return Tags.syncPriority(tags);
    }

    public boolean isRunning() {
        return "running".equals(state);
    }

    /**
     * The physical replication slot a member streams through, named as Patroni names it
     * ({@code slot_name_from_member_name} in patroni/dcs/__init__.py): lower case; '-' and '.' become '_'; every
     * other character outside {@code [a-z0-9_]} becomes 'u' and its code point in decimal, at least 4 digits
     * ('@' -> "u0064"); cut to 63 characters, PostgreSQL's limit. Different names can map to one slot name.
     */
    public static String slotName(String memberName) {
        StringBuilder slot = new StringBuilder();
        memberName.toLowerCase(java.util.Locale.ROOT).codePoints().forEach(c -> {
            if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
                slot.appendCodePoint(c);
            } else if (c == '-' || c == '.') {
                slot.append('_');
            } else {
                slot.append('u').append(String.format(java.util.Locale.ROOT, "%04d", c));
            }
        });
        return slot.length() > 63 ? slot.substring(0, 63) : slot.toString();
    }
}
