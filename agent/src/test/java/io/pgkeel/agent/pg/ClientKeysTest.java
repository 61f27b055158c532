package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM client keys as libpq takes them, in the PKCS-8 DER form the JDBC driver reads; the others refused clearly. */
class ClientKeysTest {
    @TempDir
    Path dir;

    private static final KeyPair RSA = rsa();

    private static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** The PKCS-1 RSAPrivateKey inside a PKCS-8 PrivateKeyInfo: its last element, an OCTET STRING. */
    private static byte[] pkcs1Of(byte[] pkcs8) {
        // PrivateKeyInfo: 30 <len> { 02 01 00, <15-byte rsaEncryption AlgorithmIdentifier>, 04 <len> <pkcs1> }
        int i = headerLength(pkcs8, 0) + 3 + 15;
        return Arrays.copyOfRange(pkcs8, i + headerLength(pkcs8, i), pkcs8.length);
    }

    /** The length of the DER tag and length bytes at {@code at}. */
    private static int headerLength(byte[] der, int at) {
        int first = der[at + 1] & 0xff;
        return 2 + (first >= 0x80 ? first & 0x7f : 0);
    }

    @Test
    void aPkcs8PemKeyIsItsDerBody() {
        byte[] der = RSA.getPrivate().getEncoded();
        assertThat(ClientKeys.pkcs8Der("k", pem("PRIVATE KEY", der).getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(der);
        assertThat(ClientKeys.pkcs8Der("k", pem("ENCRYPTED PRIVATE KEY", der).getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(der);
    }

    @Test
    void aPkcs1RsaPemKeyIsWrappedAsPkcs8ThatJavaReads() throws Exception {
        byte[] pkcs8 = RSA.getPrivate().getEncoded();
        byte[] pkcs1 = pkcs1Of(pkcs8);
        byte[] out = ClientKeys.pkcs8Der("k", pem("RSA PRIVATE KEY", pkcs1).getBytes(StandardCharsets.US_ASCII));
        assertThat(out).isEqualTo(pkcs8);
        RSAPrivateCrtKey read = (RSAPrivateCrtKey) KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(out));
        assertThat(read.getModulus()).isEqualTo(((RSAPrivateCrtKey) RSA.getPrivate()).getModulus());
    }

    @Test
    void aDerKeyIsReadAsItIs() throws Exception {
        Path key = dir.resolve("client.pk8");
        Files.write(key, RSA.getPrivate().getEncoded());
        assertThat(new ClientKeys(dir.resolve("keys")).forJdbc(key.toString())).isEqualTo(key.toString());
    }

    @Test
    void aPemKeyIsReadFromAPrivateCopy() throws Exception {
        Path key = dir.resolve("client.key");
        Files.writeString(key, pem("PRIVATE KEY", RSA.getPrivate().getEncoded()));
        String copy = new ClientKeys(dir.resolve("keys")).forJdbc(key.toString());
        assertThat(Path.of(copy)).startsWith(dir.resolve("keys")).hasBinaryContent(RSA.getPrivate().getEncoded());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(copy)))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("keys"))))
                .isEqualTo("rwx------");
    }

    @Test
    void formsTheDriverCannotReadAreErrorsThatSayHowToConvert() {
        String ec = pem("EC PRIVATE KEY", new byte[] {1, 2, 3});
        assertThatThrownBy(() -> ClientKeys.pkcs8Der("/etc/pg/c.key", ec.getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/etc/pg/c.key")
                .hasMessageContaining("EC PRIVATE KEY").hasMessageContaining("openssl pkcs8 -topk8");
        String legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
                + "-----END RSA PRIVATE KEY-----\n";
        assertThatThrownBy(() -> ClientKeys.pkcs8Der("/etc/pg/c.key", legacy.getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("openssl pkcs8 -topk8");
        assertThatThrownBy(() -> new ClientKeys(dir).forJdbc(dir.resolve("missing.key").toString()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.key");
    }
}
