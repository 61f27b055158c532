package io.pgkeel.common.dcs;

/** The DCS could not be reached or refused the request. Observers turn it into {@code DcsView.unreachable}. */
public class DcsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DcsException(String message, Throwable cause) {
        super(message, cause);
    }

    public DcsException(String message) {
        super(message);
    }
}
