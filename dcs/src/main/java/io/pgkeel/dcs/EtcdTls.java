package io.pgkeel.dcs;

import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TLS material of {@code etcd3.cacert}, {@code etcd3.cert} and {@code etcd3.key}, read from PEM files as openssl
 * and etcd's own tooling write them: certificates ({@code BEGIN CERTIFICATE}), keys as PKCS#8 ({@code BEGIN PRIVATE
 * KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) or SEC1 EC ({@code BEGIN EC PRIVATE KEY}). As in Patroni
 * (patroni/dcs/etcd.py hands {@code cert} alone to its HTTP client as certificate-and-key), a {@code cert} file
 * may hold the key too. Unreadable or unusable files are an {@link IllegalArgumentException} naming the setting
 * and the file.
 */
final class EtcdTls {
    private EtcdTls() {}

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** rsaEncryption, 1.2.840.113549.1.1.1, with its NULL parameters, as DER. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** id-ecPublicKey, 1.2.840.10045.2.1, as DER (the curve follows it in the AlgorithmIdentifier). */
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    /** A client certificate chain and its key. */
    record KeyMaterial(List<X509Certificate> chain, PrivateKey key) {}

    /**
     * Configures {@code builder}: trust {@code cacert}'s certificates (none: the JVM's trust store) and present
     * {@code cert}/{@code key} when given.
     */
    static void configure(SslContextBuilder builder, EtcdSettings.Security security) {
        security.cacert().ifPresent(ca -> builder.trustManager(certificates(ca, "etcd3.cacert")
                .toArray(X509Certificate[]::new)));
        security.cert().ifPresent(cert -> {
            KeyMaterial m = keyMaterial(cert, security.key().orElse(cert));
            builder.keyManager(m.key(), m.chain().toArray(X509Certificate[]::new));
        });
    }

    /** The certificate chain in {@code cert} and the private key in {@code key} (which may be the same file). */
    static KeyMaterial keyMaterial(Path cert, Path key) {
        List<X509Certificate> chain = certificates(cert, "etcd3.cert");
        String setting = key.equals(cert) ? "etcd3.cert" : "etcd3.key";
        PrivateKey privateKey = privateKey(key, setting);
        if (!privateKey.getAlgorithm().equals(chain.get(0).getPublicKey().getAlgorithm())) {
            throw new IllegalArgumentException(setting + ": the " + privateKey.getAlgorithm() + " key in " + key
                    + " does not belong to the " + chain.get(0).getPublicKey().getAlgorithm() + " certificate in "
                    + cert);
        }
        return new KeyMaterial(chain, privateKey);
    }

    static List<X509Certificate> certificates(Path file, String setting) {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file, setting)) {
                if (b.type().equals("CERTIFICATE")) {
                    out.add((X509Certificate) x509.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException(setting + ": " + file + " holds a certificate that cannot be read: "
                    + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(setting + ": " + file + " holds no PEM certificate (BEGIN CERTIFICATE)");
        }
        return out;
    }

    static PrivateKey privateKey(Path file, String setting) {
        for (Block b : blocks(file, setting)) {
            try {
                switch (b.type()) {
                    case "PRIVATE KEY":
                        return pkcs8(b.der());
                    case "RSA PRIVATE KEY":
                        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                                sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, octetString(b.der())))));
                    case "EC PRIVATE KEY":
                        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(sec1ToPkcs8(b.der())));
                    case "ENCRYPTED PRIVATE KEY":
                        throw new IllegalArgumentException(setting + ": the key in " + file + " is encrypted; etcd3 has"
                                + " no key password setting (Patroni neither): write it unencrypted (openssl pkey)");
                    default:
                        break;
                }
            } catch (GeneralSecurityException | RuntimeException e) {
                if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
                        && iae.getMessage().startsWith(setting)) {
                    throw iae;
                }
                throw new IllegalArgumentException(setting + ": the " + b.type() + " in " + file
                        + " cannot be read: " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(setting + ": " + file + " holds no private key (PEM: BEGIN PRIVATE KEY,"
                + " BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /**
     * SEC1 {@code ECPrivateKey ::= SEQUENCE {version 1, privateKey OCTET STRING, [0] parameters, [1] publicKey}}
     * wrapped in PKCS#8, whose AlgorithmIdentifier carries the named curve taken from {@code [0]}.
     */
    private static byte[] sec1ToPkcs8(byte[] sec1) {
        Der seq = Der.read(sec1, 0);
        int p = seq.contentStart();
        byte[] curve = null;
        while (p < seq.end()) {
            Der element = Der.read(sec1, p);
            if ((sec1[p] & 0xff) == 0xa0) {
                Der oid = Der.read(sec1, element.contentStart());
                curve = java.util.Arrays.copyOfRange(sec1, element.contentStart(), oid.end());
            }
            p = element.end();
        }
        if (curve == null) {
            throw new IllegalArgumentException("the EC key names no curve");
        }
        return sequence(concat(new byte[] {0x02, 0x01, 0x00}, sequence(concat(EC_PUBLIC_KEY, curve)),
                octetString(sec1)));
    }

    /** One DER element: where its content starts and where it ends. */
    private record Der(int contentStart, int end) {
        static Der read(byte[] b, int at) {
            int len = b[at + 1] & 0xff;
            int start = at + 2;
            if (len > 0x80) {
                int n = len & 0x7f;
                len = 0;
                for (int i = 0; i < n; i++) {
                    len = (len << 8) | (b[start + i] & 0xff);
                }
                start += n;
            }
            return new Der(start, start + len);
        }
    }

    private static byte[] sequence(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] octetString(byte[] content) {
        return tlv(0x04, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        int n = content.length;
        byte[] length;
        if (n < 0x80) {
            length = new byte[] {(byte) n};
        } else if (n < 0x100) {
            length = new byte[] {(byte) 0x81, (byte) n};
        } else if (n < 0x10000) {
            length = new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
        } else {
            length = new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
        }
        return concat(new byte[] {(byte) tag}, length, content);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private record Block(String type, byte[] der) {}

    private static List<Block> blocks(Path file, String setting) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(setting + ": cannot read " + file + ": " + e.getMessage(), e);
        }
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(setting + ": the " + m.group(1) + " in " + file
                        + " is not valid base64", e);
            }
        }
        return out;
    }
}
