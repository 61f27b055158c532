package io.pgkeel.config;

/** PEM texts with the markers {@code pgkeel validate} looks for (their contents are not real keys). */
final class Pem {
    static final String CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----\n";
    static final String KEY = "-----BEGIN PRIVATE KEY-----\nMIIBdGVzdA==\n-----END PRIVATE KEY-----\n";
    static final String RSA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIBdGVzdA==\n-----END RSA PRIVATE KEY-----\n";

    private Pem() {}
}
