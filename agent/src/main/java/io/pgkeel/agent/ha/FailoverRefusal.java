package io.pgkeel.agent.ha;

/** Why this leader last cleared a failover key instead of acting on it, and when (monotonic nanoseconds). */
public record FailoverRefusal(long atNanos, String reason) {}
