package io.iovalab.guest;

import io.iovalab.qemu.Cache;
import io.iovalab.qemu.HostTools;
import io.iovalab.qemu.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Renders a local HTML file to a PNG with headless Chromium, installing Debian's chromium when missing. */
final class ChromiumScreenshot {
    private ChromiumScreenshot() {
    }

    static Path take(Path html, Path png, int width, int height) throws IOException, InterruptedException {
        HostTools.ensureCommand("chromium", "chromium", Cache.standard(), Progress.to(System.err));
        Path profile = Files.createTempDirectory("iovalab-chromium");
        Path log = png.resolveSibling(png.getFileName() + ".chromium.log");
        // no network of any kind: the report must render from the file alone
        List<String> argv = List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--force-device-scale-factor=1", "--hide-scrollbars", "--user-data-dir=" + profile,
                "--window-size=" + width + "," + height, "--screenshot=" + png.toAbsolutePath(),
                html.toAbsolutePath().toUri().toString());
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("chromium took over 120 s for a screenshot; log: " + log);
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(png)) {
            throw new IOException("chromium exited with " + p.exitValue() + " and no screenshot; log:\n" + Files.readString(log));
        }
        return png;
    }
}
