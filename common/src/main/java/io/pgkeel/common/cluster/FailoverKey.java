package io.pgkeel.common.cluster;

/** The {@code failover} key: a requested switchover ({@code leader} set) or failover to {@code member}. */
public record FailoverKey(String leader, String member, String scheduledAt, long modRevision) {}
