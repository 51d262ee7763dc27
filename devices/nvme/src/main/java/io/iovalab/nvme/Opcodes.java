package io.iovalab.nvme;

import java.util.Locale;

/** Admin and NVM command set opcodes, and their names for traces and fault specs. */
final class Opcodes {
    // admin
    static final int DELETE_IO_SQ = 0x00;
    static final int CREATE_IO_SQ = 0x01;
    static final int GET_LOG_PAGE = 0x02;
    static final int DELETE_IO_CQ = 0x04;
    static final int CREATE_IO_CQ = 0x05;
    static final int IDENTIFY = 0x06;
    static final int ABORT = 0x08;
    static final int SET_FEATURES = 0x09;
    static final int GET_FEATURES = 0x0a;
    static final int ASYNC_EVENT_REQUEST = 0x0c;
    static final int KEEP_ALIVE = 0x18;
    static final int DOORBELL_BUFFER_CONFIG = 0x7c;
    static final int FORMAT_NVM = 0x80;
    // NVM command set
    static final int FLUSH = 0x00;
    static final int WRITE = 0x01;
    static final int READ = 0x02;
    static final int COMPARE = 0x05;
    static final int WRITE_ZEROES = 0x08;
    static final int DATASET_MANAGEMENT = 0x09;

    private Opcodes() {
    }

    static String name(boolean admin, int opcode) {
        String n = admin ? switch (opcode) {
            case DELETE_IO_SQ -> "DELETE_IO_SQ";
            case CREATE_IO_SQ -> "CREATE_IO_SQ";
            case GET_LOG_PAGE -> "GET_LOG_PAGE";
            case DELETE_IO_CQ -> "DELETE_IO_CQ";
            case CREATE_IO_CQ -> "CREATE_IO_CQ";
            case IDENTIFY -> "IDENTIFY";
            case ABORT -> "ABORT";
            case SET_FEATURES -> "SET_FEATURES";
            case GET_FEATURES -> "GET_FEATURES";
            case ASYNC_EVENT_REQUEST -> "ASYNC_EVENT_REQUEST";
            case KEEP_ALIVE -> "KEEP_ALIVE";
            case DOORBELL_BUFFER_CONFIG -> "DOORBELL_BUFFER_CONFIG";
            case FORMAT_NVM -> "FORMAT_NVM";
            default -> null;
        } : switch (opcode) {
            case FLUSH -> "FLUSH";
            case WRITE -> "WRITE";
            case READ -> "READ";
            case COMPARE -> "COMPARE";
            case WRITE_ZEROES -> "WRITE_ZEROES";
            case DATASET_MANAGEMENT -> "DATASET_MANAGEMENT";
            default -> null;
        };
        return n != null ? n : String.format("0x%02x", opcode);
    }

    /** An opcode by name ({@code read}, {@code write-zeroes}, admin names on the admin queue) or number; -1 if unknown. */
    static int parse(boolean admin, String text) {
        String t = text.trim();
        try {
            int v = t.startsWith("0x") || t.startsWith("0X") ? Integer.parseInt(t.substring(2), 16) : Integer.parseInt(t);
            return v >= 0 && v <= 0xff ? v : -1;
        } catch (NumberFormatException notANumber) {
            String key = t.toUpperCase(Locale.ROOT).replace('-', '_');
            for (int op = 0; op <= 0xff; op++) {
                if (name(admin, op).equals(key)) {
                    return op;
                }
            }
            return -1;
        }
    }
}
