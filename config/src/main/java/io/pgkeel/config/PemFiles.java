package io.pgkeel.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The certificate and key paths of the configuration ({@code etcd3.cacert/cert/key}, {@code restapi.certfile/
 * keyfile/cafile}, {@code ctl.cacert/certfile/keyfile}), checked when the file is read so that {@code pgkeel validate}
 * and the agent's start name a wrong path the same way: a directory, an empty file, or a file without the PEM block it
 * must hold. Patroni hands each of these paths to Python's ssl module (or urllib3, or the etcd client), which reads
 * PEM only. Only the PEM markers are looked at here; the TLS code reads the blocks themselves when it uses them.
 */
final class PemFiles {
    /** What a path must hold, with the words an error uses for it. */
    enum Holds {
        CA_BUNDLE("CA bundle", true, false),
        CERTIFICATE("certificate", true, false),
        PRIVATE_KEY("private key", false, true),
        /** A certificate whose setting has no separate key setting beside it: the file holds both (Patroni's). */
        CERTIFICATE_AND_KEY("certificate and key", true, true);

        private final String what;
        private final boolean certificate;
        private final boolean key;

        Holds(String what, boolean certificate, boolean key) {
            this.what = what;
            this.certificate = certificate;
            this.key = key;
        }
    }

    private static final Pattern CERTIFICATE = Pattern.compile("-----BEGIN (TRUSTED |X509 )?CERTIFICATE-----");
    /** PKCS#8, encrypted PKCS#8, PKCS#1 RSA, SEC1 EC, DSA: every PEM private key's label ends in PRIVATE KEY. */
    private static final Pattern PRIVATE_KEY = Pattern.compile("-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----");
    /** A PEM file past this size is not a certificate or a key; reading stops there. */
    private static final int MAX_BYTES = 4 << 20;

    private PemFiles() {}

    /**
     * @param node  the setting, for the error's path and line
     * @param p     its value, the path (see {@link ConfigLoader#pathSetting})
     * @param holds what the file must hold
     * @param alone for {@link Holds#CERTIFICATE_AND_KEY}: the key setting that is absent ({@code etcd3.key}), named in
     *              the error; unused otherwise
     * @return the path, when the file can be it
     * @throws ConfigException naming the setting, its line, the path and why not
     */
    static Path check(ConfigNode node, Path p, Holds holds, String alone) {
        if (Files.isDirectory(p)) {
            throw ConfigLoader.bad(node, p + " is a directory; pgkeel reads one " + holds.what + " file");
        }
        if (!Files.isReadable(p)) {
            throw ConfigLoader.bad(node, "cannot read " + p);
        }
        String content;
        try (InputStream in = Files.newInputStream(p)) {
            content = new String(in.readNBytes(MAX_BYTES), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw ConfigLoader.bad(node, "cannot read " + p + ": " + e.getMessage());
        }
        if (content.isBlank()) {
            throw ConfigLoader.bad(node, p + " is empty; expected a PEM " + holds.what);
        }
        if (holds.certificate && !CERTIFICATE.matcher(content).find()) {
            throw ConfigLoader.bad(node, p + " is not a PEM certificate: it has no '-----BEGIN CERTIFICATE-----'"
                    + " line");
        }
        if (holds.key && !PRIVATE_KEY.matcher(content).find()) {
            throw ConfigLoader.bad(node, p + " holds no PEM private key: it has no '-----BEGIN ... PRIVATE KEY-----'"
                    + " line" + (holds.certificate ? "; without " + alone + " this file must hold the certificate's"
                    + " private key too (or set " + alone + ")" : ""));
        }
        return p;
    }
}
