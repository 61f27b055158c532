package io.pgkeel.agent.pg;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import javax.net.SocketFactory;

/**
 * Sockets to PostgreSQL's unix-domain socket for the JDBC driver, which speaks only TCP by itself: named by the
 * driver's {@code socketFactory} property, with the socket file ({@code <directory>/.s.PGSQL.<port>}) as
 * {@code socketFactoryArg}. The address the driver connects to is ignored. Read timeouts ({@code socketTimeout})
 * hold as on a TCP socket: a read that waits longer throws {@link SocketTimeoutException}. Needs no library: Java 16
 * has unix-domain socket channels. Public because the driver instantiates it by name.
 */
public final class UnixSocketFactory extends SocketFactory {
    private final String socketFile;

    /** @param socketFile the server's socket file, {@code <unix_socket_directory>/.s.PGSQL.<port>} */
    public UnixSocketFactory(String socketFile) {
        this.socketFile = socketFile;
    }

    @Override
    public Socket createSocket() {
        return new UnixSocket(socketFile);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected();
    }

    private Socket connected() throws IOException {
        UnixSocket s = new UnixSocket(socketFile);
        s.connect(null, 0);
        return s;
    }

    /** A {@link Socket} over a non-blocking unix-domain channel; a selector waits out the read timeout. */
    private static final class UnixSocket extends Socket {
        private final String socketFile;
        private SocketChannel channel;
        private Selector readSelector;
        private Selector writeSelector;
        private volatile int soTimeoutMillis;
        private volatile boolean closed;

        UnixSocket(String socketFile) {
            this.socketFile = socketFile;
        }

        @Override
        public synchronized void connect(SocketAddress ignored, int timeout) throws IOException {
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                c.connect(UnixDomainSocketAddress.of(socketFile)); // local: completes or fails at once
                c.configureBlocking(false);
                readSelector = Selector.open();
                writeSelector = Selector.open();
                c.register(readSelector, SelectionKey.OP_READ);
                c.register(writeSelector, SelectionKey.OP_WRITE);
            } catch (IOException e) {
                c.close();
                throw new IOException("connecting to unix socket " + socketFile + ": " + e.getMessage(), e);
            }
            channel = c;
        }

        @Override
        public void connect(SocketAddress endpoint) throws IOException {
            connect(endpoint, 0);
        }

        @Override
        public boolean isConnected() {
            return channel != null;
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public InputStream getInputStream() throws IOException {
            requireOpen();
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    int n = read(one, 0, 1);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) {
                        return 0;
                    }
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (true) {
                        int n = channel.read(buf);
                        if (n != 0) {
                            return n;
                        }
                        int timeout = soTimeoutMillis;
                        readSelector.selectedKeys().clear();
                        if (readSelector.select(timeout) == 0 && timeout > 0) {
                            requireOpen();
                            throw new SocketTimeoutException("no data from " + socketFile + " within " + timeout
                                    + " ms");
                        }
                        requireOpen();
                    }
                }

                @Override
                public int available() throws IOException {
                    return 0;
                }
            };
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            requireOpen();
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (buf.hasRemaining()) {
                        if (channel.write(buf) == 0) {
                            writeSelector.selectedKeys().clear();
                            writeSelector.select();
                            requireOpen();
                        }
                    }
                }
            };
        }

        private void requireOpen() throws SocketException {
            if (closed || channel == null) {
                throw new SocketException("unix socket " + socketFile + " is closed");
            }
        }

        @Override
        public void setSoTimeout(int timeout) {
            soTimeoutMillis = timeout;
        }

        @Override
        public int getSoTimeout() {
            return soTimeoutMillis;
        }

        // TCP options mean nothing on a unix-domain socket: accepted and ignored, as the driver sets them
        @Override
        public void setTcpNoDelay(boolean on) {}

        @Override
        public void setKeepAlive(boolean on) {}

        @Override
        public void setSendBufferSize(int size) {}

        @Override
        public void setReceiveBufferSize(int size) {}

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (channel != null) {
                readSelector.close();
                writeSelector.close();
                channel.close();
            }
        }

        @Override
        public String toString() {
            return "UnixSocket[" + socketFile + "]";
        }
    }
}
