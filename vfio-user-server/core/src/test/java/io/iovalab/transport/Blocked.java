package io.iovalab.transport;

import java.util.Arrays;

/** Waits until a thread is inside a given class (blocked in a system call there), so a test wakes a truly blocked thread. */
final class Blocked {
    private Blocked() {
    }

    static void awaitInside(Thread t, String className) throws InterruptedException {
        for (int i = 0; i < 10_000; i++) {
            if (Arrays.stream(t.getStackTrace()).anyMatch(e -> e.getClassName().equals(className))) {
                Thread.sleep(20); // from the Java frame into the kernel's wait
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError(t + " never got into " + className);
    }
}
