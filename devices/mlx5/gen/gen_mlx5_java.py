#!/usr/bin/env python3
"""Generates the mlx5 firmware-interface tables of devices/mlx5 from a kernel source tree.

Usage (from the repository root):
  python3 devices/mlx5/gen/gen_mlx5_java.py LINUX_SRC LAYOUT_TOOL devices/mlx5/src/main/java/io/iovalab/mlx5/ifc

  LINUX_SRC    an unpacked kernel tree (iovalab used Debian's linux-source-7.3, 7.3.4-1~bpo13+1)
  LAYOUT_TOOL  mlx5_ifc_layout.py (computes bit offsets of the *_bits structs of mlx5_ifc.h)

Writes Mlx5Ifc.java (bit offset and width of every named field of the structs listed in
STRUCTS, named exactly as in mlx5_ifc.h) and Mlx5Const.java (enum values the device needs:
opcodes, statuses, cap types, event types, register ids), both named after the kernel so a
reader can grep the kernel for them. Offsets are never typed by hand.
"""
import os, re, subprocess, sys, tempfile

STRUCTS = """
mbox_in mbox_out
cmd_hca_cap cmd_hca_cap_2 odp_cap odp_scheme_cap odp_per_transport_service_cap atomic_caps
query_hca_cap_in query_hca_cap_out set_hca_cap_in set_hca_cap_out
enable_hca_in enable_hca_out disable_hca_in disable_hca_out
query_issi_in query_issi_out set_issi_in set_issi_out
query_pages_in query_pages_out manage_pages_in manage_pages_out
access_register_in access_register_out
init_hca_in init_hca_out teardown_hca_in teardown_hca_out
query_adapter_in query_adapter_out query_adapter_param_block
alloc_uar_in alloc_uar_out dealloc_uar_in dealloc_uar_out
create_eq_in create_eq_out destroy_eq_in destroy_eq_out eqc
set_driver_version_in set_driver_version_out
nop_in nop_out
query_hca_vport_context_in query_hca_vport_context_out hca_vport_context
query_hca_vport_gid_in query_hca_vport_gid_out query_hca_vport_pkey_in query_hca_vport_pkey_out pkey
query_vport_state_in query_vport_state_out
alloc_pd_in alloc_pd_out dealloc_pd_in dealloc_pd_out alloc_xrcd_in alloc_xrcd_out dealloc_xrcd_in dealloc_xrcd_out
alloc_transport_domain_in alloc_transport_domain_out dealloc_transport_domain_in
create_cq_in create_cq_out cqc destroy_cq_in destroy_cq_out
create_qp_in create_qp_out qpc ads destroy_qp_in destroy_qp_out
rst2init_qp_in rst2init_qp_out init2rtr_qp_in init2rtr_qp_out rtr2rts_qp_in rtr2rts_qp_out
qp_2rst_in qp_2rst_out qp_2err_in qp_2err_out query_qp_in query_qp_out
create_mkey_in create_mkey_out mkc destroy_mkey_in destroy_mkey_out
create_xrc_srq_in create_xrc_srq_out xrc_srqc destroy_xrc_srq_in create_rmp_in create_rmp_out rmpc wq destroy_rmp_in
ptys_reg pmtu_reg pvlc_reg
mad_ifc_in mad_ifc_out
""".split()

# (file relative to LINUX_SRC, name regex) of enum members to export
ENUMS = [
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_CMD_OP_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_HCA_CAP_OPMOD_GET_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_SET_HCA_CAP_OP_MOD_\w+"),
    ("include/linux/mlx5/device.h", r"MLX5_CAP_[A-Z0-9_]+"),
    ("include/linux/mlx5/device.h", r"MLX5_CMD_STAT_\w+"),
    ("include/linux/mlx5/device.h", r"MLX5_EVENT_TYPE_\w+"),
    ("include/linux/mlx5/device.h", r"MLX5_PCI_CMD_XPORT"),
    ("include/linux/mlx5/driver.h", r"MLX5_REG_\w+"),
    ("include/linux/mlx5/driver.h", r"CMD_OWNER_\w+"),
    ("drivers/net/ethernet/mellanox/mlx5/core/pagealloc.c", r"MLX5_PAGES_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_QUERY_PAGES_IN_OP_MOD_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_TEARDOWN_HCA_IN_PROFILE_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_QPC_STATE_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_MKC_ACCESS_MODE_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_QPC_ST_\w+"),
    ("include/linux/mlx5/mlx5_ifc.h", r"MLX5_HCA_VPORT_SEL_\w+"),
    ("include/linux/mlx5/driver.h", r"MLX5_PORT_\w+"),
    ("include/linux/mlx5/driver.h", r"MLX5_PTYS_(IB|EN)"),
    ("include/linux/mlx5/port.h", r"MLX5_PTYS_WIDTH_\w+"),
    ("drivers/infiniband/hw/mlx5/main.c", r"MLX5_VL_HW_\w+"),
    ("drivers/net/ethernet/mellanox/mlx5/core/cmd.c", r"MLX5_CMD_DELIVERY_STAT_\w+"),
]

JAVA_KEYWORDS = set("""abstract assert boolean break byte case catch char class const continue default do double
else enum extends final finally float for goto if implements import instanceof int interface long native new
package private protected public return short static strictfp super switch synchronized this throw throws
transient try void volatile while true false null""".split())


def enum_members(path, name_re):
    """(name, value) of members matching name_re inside `enum ... { }` blocks; implicit values counted."""
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    out = []
    for body in re.findall(r'\benum\b[^{;]*\{(.*?)\}', text, re.S):
        value = -1
        known = {}
        for item in body.split(','):
            item = item.strip()
            if not item:
                continue
            m = re.match(r'^(\w+)\s*(?:=\s*(.+))?$', item, re.S)
            if not m:
                value = None
                continue
            name, expr = m.group(1), m.group(2)
            if expr is not None:
                e = re.sub(r'\b([A-Za-z_]\w*)\b', lambda mm: str(known.get(mm.group(1), mm.group(1))), expr)
                e = e.replace('ULL', '').replace('UL', '').replace('U', '') if re.fullmatch(r'[0-9xa-fA-FUL()<>|+\- ]+', e) else e
                try:
                    value = int(eval(e, {}))
                except Exception:
                    value = None
            elif value is not None:
                value += 1
            if value is not None:
                known[name] = value
                if re.fullmatch(name_re, name):
                    out.append((name, value))
    return out


def main():
    src, tool, outdir = sys.argv[1:4]
    hdr = os.path.join(src, "include/linux/mlx5")
    # mbox_in/mbox_out (the common command header) live in core/cmd.c: hand the tool just those blocks
    cmd_c = open(os.path.join(src, "drivers/net/ethernet/mellanox/mlx5/core/cmd.c")).read()
    with tempfile.NamedTemporaryFile("w", suffix=".h", delete=False) as t:
        t.write("\n".join(re.findall(r'struct mlx5_ifc_mbox_\w+_bits \{.*?\n\};', cmd_c, re.S)) + "\n")
    try:
        tsv = subprocess.run([sys.executable, tool, os.path.join(hdr, "mlx5_ifc.h"), os.path.join(hdr, "mlx5_ifc_fpga.h"),
                              t.name], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(t.name)
    fields = {}
    sizes = {}
    for line in tsv.splitlines():
        struct, path, bit, width, _, _ = line.split('\t')
        if path == '<SIZE>':
            sizes[struct] = int(width)
            continue
        if '.' in path:
            continue  # only a struct's own members; nested ones are reached through their own struct
        m = re.match(r'^(\w+)((?:\[\d+\])*)(?: <(\w+)>)?$', path)
        if not m or m.group(1).startswith('reserved_at_'):
            continue
        fields.setdefault(struct, []).append((m.group(1), int(bit), int(width), m.group(3)))
    header = ("// GENERATED by devices/mlx5/gen/gen_mlx5_java.py from Linux 7.3 (Debian linux-source-7.3\n"
              "// 7.3.4-1~bpo13+1) include/linux/mlx5/mlx5_ifc.h (+ mbox_in/out of core/cmd.c) via mlx5_ifc_layout.py. Do not edit; regenerate:\n"
              "//   python3 devices/mlx5/gen/gen_mlx5_java.py LINUX_SRC mlx5_ifc_layout.py devices/mlx5/src/main/java/io/iovalab/mlx5/ifc\n")
    with open(os.path.join(outdir, "Mlx5Ifc.java"), "w") as f:
        f.write(header)
        f.write("package io.iovalab.mlx5.ifc;\n\n")
        f.write("/**\n * Bit offsets and widths of the mlx5_ifc.h structs the device reads and writes. Offsets count from\n"
                " * the most significant bit of the first big-endian byte, as MLX5_SET/MLX5_GET do; nested structs\n"
                " * appear as one field (width = the struct's size) whose members are in that struct's own class.\n"
                " * A flexible array ([]) has width 0.\n */\n")
        f.write("@SuppressWarnings({\"unused\", \"checkstyle:TypeName\", \"checkstyle:ConstantName\"})\n")
        f.write("public final class Mlx5Ifc {\n    private Mlx5Ifc() {\n    }\n")
        for s in STRUCTS:
            if s not in sizes:
                sys.exit("no struct mlx5_ifc_%s_bits in the header" % s)
            f.write("\n    /** {@code struct mlx5_ifc_%s_bits}: 0x%x bytes. */\n" % (s, sizes[s] // 8))
            f.write("    public static final class %s {\n" % s)
            f.write("        private %s() {\n        }\n\n" % s)
            f.write("        public static final int SIZE_BYTES = 0x%x;\n" % (sizes[s] // 8))
            seen = set()
            for name, bit, width, sub in fields.get(s, []):
                jn = name + '_' if name in JAVA_KEYWORDS else name
                if jn in seen or jn == 'SIZE_BYTES':
                    continue
                seen.add(jn)
                note = "  // struct %s" % sub if sub else ""
                f.write("        public static final Field %s = new Field(0x%x, 0x%x);%s\n" % (jn, bit, width, note))
            f.write("    }\n")
        f.write("}\n")
    with open(os.path.join(outdir, "Mlx5Const.java"), "w") as f:
        f.write(header.replace("include/linux/mlx5/mlx5_ifc.h (+ mbox_in/out of core/cmd.c) via mlx5_ifc_layout.py",
                               "headers (enums of mlx5_ifc.h, device.h, driver.h, core/cmd.c)"))
        f.write("package io.iovalab.mlx5.ifc;\n\n")
        f.write("/** Enum values from the kernel's mlx5 headers, under the kernel's names. */\n")
        f.write("@SuppressWarnings(\"unused\")\npublic final class Mlx5Const {\n    private Mlx5Const() {\n    }\n")
        done = set()
        for rel, rx in ENUMS:
            f.write("\n    // %s: %s\n" % (rel, rx))
            for name, value in enum_members(os.path.join(src, rel), rx):
                if name in done:
                    continue
                done.add(name)
                f.write("    public static final int %s = 0x%x;\n" % (name, value))
        f.write("}\n")


if __name__ == "__main__":
    main()
