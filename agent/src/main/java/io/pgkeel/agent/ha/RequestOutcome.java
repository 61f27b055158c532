package io.pgkeel.agent.ha;

/** What became of an operator's request: done, or refused with the reason. */
public record RequestOutcome(boolean done, String message) {}
