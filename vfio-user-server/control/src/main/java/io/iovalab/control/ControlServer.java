package io.iovalab.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.iovalab.os.FileStat;
import io.iovalab.server.VfioUserServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LineBasedFrameDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control socket of one device server ({@code <socket>.ctl}): {@code iovalab inject},
 * {@code trace} and {@code inspect} talk to the running server through it. Netty on one epoll
 * thread of its own, so nothing here runs on the vfio-user message thread or a device worker.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_LINE = 64 * 1024;
    private static final AtomicInteger TMP = new AtomicInteger();

    private final Path path;
    private final EpollEventLoopGroup group;
    private final Channel channel;

    private ControlServer(Path path, EpollEventLoopGroup group, Channel channel) {
        this.path = path;
        this.group = group;
        this.channel = channel;
    }

    /** Listens on {@code <socket>.ctl} next to the server's vfio-user socket. */
    public static ControlServer start(VfioUserServer server) throws IOException {
        return start(server, ControlSocket.of(server.options().socket()));
    }

    public static ControlServer start(VfioUserServer server, Path path) throws IOException {
        refuseNonSocket(path);
        ObjectMapper json = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        TraceJson traceJson = new TraceJson(System.nanoTime());
        EpollEventLoopGroup group = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, server.options().name() + "-control");
            t.setDaemon(true);
            return t;
        });
        // bound under a temporary name, made 0600, then renamed into place: the socket is never
        // reachable by its real name with the umask's permissions
        Path tmp = path.resolveSibling("." + ProcessHandle.current().pid() + "-" + TMP.incrementAndGet() + ".ctl");
        try {
            Files.deleteIfExists(tmp);
            Channel ch = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    // as in the web view: a busy device's trace burst would overrun Netty's 64 KiB
                    // default at once and `iovalab trace` would report drops it need not
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE, true, true),
                                    new ControlHandler(server, json, traceJson));
                        }
                    })
                    .bind(new DomainSocketAddress(tmp.toFile())).sync().channel();
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            log.info("{}: control socket {}", server.options().name(), path);
            return new ControlServer(path, group, ch);
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            Files.deleteIfExists(tmp);
            throw new IOException("control socket " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            Files.deleteIfExists(tmp);
            throw new IOException("interrupted while binding " + path);
        }
    }

    /** A socket there is replaced (ours, left over, or the device socket check already ruled out a live server); anything else is someone's file. */
    private static void refuseNonSocket(Path path) throws IOException {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & FileStat.S_IFMT) != FileStat.S_IFSOCK) {
                throw new IOException(path + " exists and is not a socket; refusing to replace it");
            }
        } catch (NoSuchFileException absent) {
            // the usual case
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", path, e.getMessage());
        }
    }
}
