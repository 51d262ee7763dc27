package io.iovalab.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The README's compare command lines name the two kernels the user meant, in their order. */
class CompareOptionsTest {
    private static CompareCommand parse(String... args) {
        String[] line = new String[args.length + 1];
        line[0] = "compare";
        System.arraycopy(args, 0, line, 1, args.length);
        return (CompareCommand) Main.commandLine().parseArgs(line).subcommand().commandSpec().userObject();
    }

    @Test
    void no_kernels_compares_baseline_with_default() {
        assertEquals(List.of(KernelChoice.image("baseline"), KernelChoice.image("default")), parse().kernels());
    }

    @Test
    void two_user_kernels_each_keep_their_own_modules() {
        var k = parse("--kernel", "/a/bzImage", "--modules", "/a/mods", "--kernel", "/b/bzImage", "--modules", "/b/mods").kernels();
        assertEquals(List.of(KernelChoice.user(Path.of("/a/bzImage"), Path.of("/a/mods")),
                KernelChoice.user(Path.of("/b/bzImage"), Path.of("/b/mods"))), k);
    }

    @Test
    void an_image_and_a_user_kernel_mix() {
        var k = parse("--kernel", "baseline", "--memory", "1536", "--kernel", "/src/linux").kernels();
        assertEquals(List.of(KernelChoice.image("baseline"), KernelChoice.user(Path.of("/src/linux"), null)), k);
    }

    @Test
    void built_in_names_are_images_and_a_relative_path_is_a_file() {
        var k = parse("--kernel", "default", "--kernel", "./baseline", "--modules", "m").kernels();
        assertEquals(List.of(KernelChoice.image("default"), KernelChoice.user(Path.of("./baseline"), Path.of("m"))), k);
    }

    @Test
    void one_kernel_is_refused() {
        var c = parse("--kernel", "baseline");
        assertThrows(CommandLine.ParameterException.class, c::kernels);
    }

    @Test
    void three_kernels_are_refused() {
        assertThrows(CommandLine.ParameterException.class,
                () -> parse("--kernel", "baseline", "--kernel", "default", "--kernel", "baseline"));
    }
}
