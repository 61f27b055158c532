package io.pgkeel.agent.pg;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Client keys in the form the JDBC driver reads. libpq (and so Patroni's configs) takes PEM keys; the driver reads
 * PKCS-8 DER (or PKCS-12, by a {@code .p12}/{@code .pfx} extension). A PEM key is converted into a private copy
 * (mode 0600, in a directory only this user can enter); a form that cannot be converted is an error that says how
 * to convert it, never a connection without the key.
 */
final class ClientKeys {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\s*(.*?)-----END \\1-----", Pattern.DOTALL);
    /** rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters, as a DER AlgorithmIdentifier. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

    private final Path directory;

    /** @param directory where converted keys are kept; created (mode 0700) on first use */
    ClientKeys(Path directory) {
        this.directory = directory;
    }

    /**
     * The file the driver is to read for {@code sslkey}: the key itself when it is not PEM, else its PKCS-8 DER copy.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read, or is a PEM key the driver cannot
     *                                  use even converted
     */
    String forJdbc(String sslkey) {
        Path key = Path.of(sslkey);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(key);
        } catch (IOException e) {
            throw new IllegalArgumentException("sslkey " + sslkey + " cannot be read: " + e.getMessage(), e);
        }
        byte[] der = pkcs8Der(sslkey, bytes);
        if (der == null) {
            return sslkey;
        }
        try {
            Files.createDirectories(directory);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            Path out = directory.resolve(key.getFileName() + "." + Integer.toHexString(key.toAbsolutePath()
                    .hashCode()) + ".pk8");
            Path tmp = Files.createTempFile(directory, ".key", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, der);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return out.toString();
        } catch (IOException e) {
            throw new IllegalArgumentException("sslkey " + sslkey + ": cannot write its PKCS-8 copy into " + directory
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * The PKCS-8 DER form of a PEM key, or null when {@code bytes} is not PEM (DER or PKCS-12 already).
     *
     * @throws IllegalArgumentException for a PEM key that cannot be converted here
     */
    static byte[] pkcs8Der(String name, byte[] bytes) {
        String text = new String(bytes, StandardCharsets.US_ASCII);
        Matcher m = PEM.matcher(text);
        if (!m.find()) {
            return null;
        }
        String type = m.group(1);
        String body = m.group(2);
        String convert = "; convert it with: openssl pkcs8 -topk8 -outform DER -in " + name + " -out " + name
                + ".pk8 (add -nocrypt for a key without sslpassword), and give that file as sslkey";
        if (body.contains("Proc-Type:")) {
            throw new IllegalArgumentException("sslkey " + name + " is a PEM key encrypted the traditional OpenSSL"
                    + " way, which the JDBC driver the agent connects with cannot read" + convert);
        }
        byte[] der = Base64.getMimeDecoder().decode(body);
        return switch (type) {
            // PKCS-8 already, plain or encrypted (the driver decrypts with sslpassword)
            case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY" -> der;
            // PKCS-1: wrap it as PKCS-8 PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING key }
            case "RSA PRIVATE KEY" -> sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM,
                    tagged(0x04, der)));
            default -> throw new IllegalArgumentException("sslkey " + name + " holds a PEM '" + type + "', which the"
                    + " JDBC driver the agent connects with cannot read" + convert);
        };
    }

    private static byte[] sequence(byte[] content) {
        return tagged(0x30, content);
    }

    /** A DER element: tag, definite length, content. */
    private static byte[] tagged(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
