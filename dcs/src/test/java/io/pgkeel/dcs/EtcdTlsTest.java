package io.pgkeel.dcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every PEM form openssl writes for etcd3.cert and etcd3.key, made here by openssl, and what is refused. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdTlsTest {
    private Path dir;

    @BeforeAll
    void makeKeys(@TempDir Path tmp) {
        dir = tmp;
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa-pkcs8.key");
        openssl("rsa", "-in", "rsa-pkcs8.key", "-traditional", "-out", "rsa-pkcs1.key");
        openssl("req", "-x509", "-new", "-key", "rsa-pkcs8.key", "-subj", "/CN=rsa", "-days", "2", "-out", "rsa.crt");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec-sec1.key");
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", "ec-sec1.key", "-out", "ec-pkcs8.key");
        openssl("req", "-x509", "-new", "-key", "ec-sec1.key", "-subj", "/CN=ec", "-days", "2", "-out", "ec.crt");
        openssl("pkcs8", "-topk8", "-in", "rsa-pkcs8.key", "-passout", "pass:x", "-out", "rsa-encrypted.key");
        concat("rsa-cert-then-key.pem", "rsa.crt", "rsa-pkcs1.key");
        concat("ec-key-then-cert.pem", "ec-sec1.key", "ec.crt");
        write("garbage.pem", "not a certificate\n");
    }

    static Stream<Arguments> keyForms() {
        return Stream.of(
                Arguments.of("RSA, PKCS#8 key", "rsa.crt", "rsa-pkcs8.key"),
                Arguments.of("RSA, PKCS#1 key", "rsa.crt", "rsa-pkcs1.key"),
                Arguments.of("EC, SEC1 key", "ec.crt", "ec-sec1.key"),
                Arguments.of("EC, PKCS#8 key", "ec.crt", "ec-pkcs8.key"),
                Arguments.of("RSA certificate then key in cert", "rsa-cert-then-key.pem", "rsa-cert-then-key.pem"),
                Arguments.of("EC key then certificate in cert", "ec-key-then-cert.pem", "ec-key-then-cert.pem"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keyForms")
    void everyKeyFormGivesTheKeyOfTheCertificate(String form, String cert, String key) throws Exception {
        EtcdTls.KeyMaterial m = EtcdTls.keyMaterial(dir.resolve(cert), dir.resolve(key));
        assertThat(m.chain()).hasSize(1);
        assertSigns(m.key(), m.chain().get(0));
        // and Netty takes it for a client context
        SslContextBuilder b = SslContextBuilder.forClient();
        Path keyFile = dir.resolve(key);
        EtcdTls.configure(b, new EtcdSettings.Security(Optional.of(dir.resolve(cert)), Optional.of(dir.resolve(cert)),
                keyFile.equals(dir.resolve(cert)) ? Optional.empty() : Optional.of(keyFile), Optional.empty(),
                Optional.empty()));
        assertThat(b.build().isClient()).isTrue();
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of("a certificate file without a certificate", "garbage.pem", "rsa-pkcs8.key",
                        "etcd3.cert: " + "%s/garbage.pem holds no PEM certificate"),
                Arguments.of("a key file without a key", "rsa.crt", "rsa.crt", "etcd3.cert: %s/rsa.crt holds no"
                        + " private key"),
                Arguments.of("a key file without a key, named as key", "rsa.crt", "ec.crt", "etcd3.key: %s/ec.crt"
                        + " holds no private key"),
                Arguments.of("an encrypted key", "rsa.crt", "rsa-encrypted.key", "etcd3.key: the key in"
                        + " %s/rsa-encrypted.key is encrypted"),
                Arguments.of("a key of another algorithm", "rsa.crt", "ec-sec1.key", "etcd3.key: the EC key in"
                        + " %s/ec-sec1.key does not belong to the RSA certificate"),
                Arguments.of("a missing file", "rsa.crt", "missing.key", "etcd3.key: cannot read %s/missing.key"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void anUnusableFileIsAnErrorNamingTheSettingAndTheFile(String what, String cert, String key, String message) {
        assertThatThrownBy(() -> EtcdTls.keyMaterial(dir.resolve(cert), dir.resolve(key)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message.formatted(dir));
    }

    @Test
    void aCaFileWithoutACertificateIsAnErrorNamingCacert() {
        assertThatThrownBy(() -> EtcdTls.configure(SslContextBuilder.forClient(), new EtcdSettings.Security(
                Optional.of(dir.resolve("rsa-pkcs8.key")), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty()))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("etcd3.cacert: " + dir.resolve("rsa-pkcs8.key") + " holds no PEM certificate");
    }

    private static void assertSigns(PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        byte[] data = "etcd".getBytes(StandardCharsets.UTF_8);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(data);
        byte[] signature = sign.sign();
        Signature verify = Signature.getInstance(algorithm);
        verify.initVerify(cert.getPublicKey());
        verify.update(data);
        assertThat(verify.verify(signature)).as("the key belongs to the certificate").isTrue();
    }

    private void concat(String out, String... files) {
        StringBuilder sb = new StringBuilder();
        for (String f : files) {
            try {
                sb.append(Files.readString(dir.resolve(f)));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
        write(out, sb.toString());
    }

    private void write(String name, String text) {
        try {
            Files.writeString(dir.resolve(name), text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs openssl in the test directory; a missing openssl fails loudly. */
    private void openssl(String... args) {
        Path openssl = Path.of("/usr/bin/openssl");
        if (!Files.isExecutable(openssl)) {
            throw new AssertionError(openssl + " is missing: install it with: apt-get install -y openssl");
        }
        List<String> cmd = new ArrayList<>(List.of(openssl.toString()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
