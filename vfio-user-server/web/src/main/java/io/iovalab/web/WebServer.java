package io.iovalab.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.iovalab.control.TraceJson;
import io.iovalab.server.VfioUserServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The web view of the device servers of one process: a page, its JSON endpoints, a WebSocket
 * trace stream and Prometheus metrics on one port. Bound to 127.0.0.1 only and started only
 * when asked for ({@code --web PORT}): it shows guest memory layout and I/O to whoever can
 * connect, so it must never be reachable from another machine.
 */
public final class WebServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebServer.class);

    private final NioEventLoopGroup group;
    private final Channel channel;
    private final int port;

    private WebServer(NioEventLoopGroup group, Channel channel, int port) {
        this.group = group;
        this.channel = channel;
        this.port = port;
    }

    /** {@code port} 0 picks a free one; {@link #port()} tells which. */
    public static WebServer start(List<VfioUserServer> servers, int port) throws IOException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("web port " + port + " (0 = any free port, else 1-65535)");
        }
        Devices devices = new Devices(servers);
        ObjectMapper json = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        TraceJson traceJson = new TraceJson(System.nanoTime());
        NioEventLoopGroup group = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "iovalab-web");
            t.setDaemon(true);
            return t;
        });
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    // a trace burst of a busy device is thousands of small frames; Netty's 64 KiB
                    // default would mark a browser "behind" within one burst and drop its events
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .childHandler(new WebChannelInitializer(devices, json, traceJson))
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync().channel();
            int bound = ((InetSocketAddress) ch.localAddress()).getPort();
            log.info("web view on http://127.0.0.1:{}/", bound);
            return new WebServer(group, ch, bound);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("interrupted while binding the web port");
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("web view on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    public String url() {
        return "http://127.0.0.1:" + port + "/";
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
