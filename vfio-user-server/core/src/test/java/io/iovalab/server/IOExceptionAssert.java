package io.iovalab.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

final class IOExceptionAssert {
    interface Call {
        Object run() throws Exception;
    }

    static void errno(int expected, Call call) throws Exception {
        try {
            call.run();
            fail("expected an error reply with errno " + expected);
        } catch (VfioUserClient.ErrorReply e) {
            assertEquals(expected, e.errno, e.getMessage());
        }
    }
}
