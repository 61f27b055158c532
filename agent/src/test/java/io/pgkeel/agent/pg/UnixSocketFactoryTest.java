package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver's view of a unix-domain socket: connect ignores the TCP address, bytes flow, read timeouts hold. */
class UnixSocketFactoryTest {
    @TempDir
    Path dir;

    @Test
    void bytesFlowBothWaysAndAReadTimesOutAsOnTcp() throws IOException {
        Path file = dir.resolve(".s.PGSQL.5432");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(file));
            Socket s = new UnixSocketFactory(file.toString()).createSocket();
            s.connect(InetSocketAddress.createUnresolved("localhost", 5432), 3000);
            assertThat(s.isConnected()).isTrue();
            try (SocketChannel peer = server.accept()) {
                s.getOutputStream().write("ping".getBytes());
                ByteBuffer got = ByteBuffer.allocate(4);
                while (got.hasRemaining()) {
                    peer.read(got);
                }
                assertThat(new String(got.array())).isEqualTo("ping");
                peer.write(ByteBuffer.wrap("pong".getBytes()));
                InputStream in = s.getInputStream();
                assertThat(new String(in.readNBytes(4))).isEqualTo("pong");

                s.setSoTimeout(200);
                long start = System.nanoTime();
                assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
                assertThat((System.nanoTime() - start) / 1_000_000).isBetween(150L, 5000L);

                peer.close();
                assertThat(in.read()).as("end of stream once the server closes").isEqualTo(-1);
            }
            s.close();
            assertThat(s.isClosed()).isTrue();
            assertThatThrownBy(s::getInputStream).isInstanceOf(IOException.class);
        }
    }

    @Test
    void noServerIsAnIoErrorNamingTheSocket() {
        Path file = dir.resolve(".s.PGSQL.1");
        Socket s = new UnixSocketFactory(file.toString()).createSocket();
        assertThatThrownBy(() -> s.connect(null, 0)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString());
    }
}
