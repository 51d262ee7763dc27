# Error paths of the mlx5 RC data path, run in the guest by Mlx5RcGuestTest: a bad rkey and an
# access beyond the key's range end in error completions and the QPs in ERR, the work behind the
# error is flushed (the responder's posted receive too), and a third pair of QPs on the same
# device keeps working. Prints one line per check for the test to read.
import time
from pyverbs.device import Context
from pyverbs.pd import PD
from pyverbs.mr import MR
from pyverbs.cq import CQ
from pyverbs.qp import QPCap, QPInitAttr, QPAttr, QP
from pyverbs.addr import AHAttr
from pyverbs.wr import SGE, SendWR, RecvWR
import pyverbs.enums as e

ctx = Context(name='mlx5_0')
lid = ctx.query_port(1).lid
pd = PD(ctx)
ACC = e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE | e.IBV_ACCESS_REMOTE_READ
SIZE = 8192
mr = MR(pd, SIZE, ACC)
dst = MR(pd, SIZE, ACC)


def make_qp():
    cq = CQ(ctx, 32)
    return QP(pd, QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq, cap=QPCap(max_send_wr=8, max_recv_wr=8))), cq


def connect(q, remote):
    a = QPAttr(port_num=1)
    a.qp_access_flags = ACC
    a.dest_qp_num = remote.qp_num
    a.path_mtu = e.IBV_MTU_1024
    a.ah_attr = AHAttr(dlid=lid, port_num=1)
    a.max_dest_rd_atomic = 1
    a.max_rd_atomic = 1
    a.min_rnr_timer = 12
    a.timeout = 14
    a.retry_cnt = 7
    a.rnr_retry = 7
    q.to_rts(a)


def pair():
    (a, acq), (b, bcq) = make_qp(), make_qp()
    connect(a, b)
    connect(b, a)
    return a, acq, b, bcq


def poll(cq, n):
    wcs = []
    for _ in range(3000):
        _, got = cq.poll(n - len(wcs))
        wcs += got
        if len(wcs) >= n:
            return wcs
        time.sleep(0.005)
    raise SystemExit('TIMEOUT waiting for %d completions, got %d' % (n, len(wcs)))


def state(q):
    return q.query(e.IBV_QP_STATE)[0].qp_state


def write(q, rkey, raddr, length, wr_id):
    wr = SendWR(wr_id=wr_id, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[SGE(mr.buf, length, mr.lkey)],
                send_flags=e.IBV_SEND_SIGNALED)
    wr.set_wr_rdma(rkey, raddr)
    q.post_send(wr)


def send(q, length, wr_id):
    q.post_send(SendWR(wr_id=wr_id, opcode=e.IBV_WR_SEND, num_sge=1, sg=[SGE(mr.buf, length, mr.lkey)],
                       send_flags=e.IBV_SEND_SIGNALED))


# 1. a bad rkey (the key's variant byte wrong), with a send queued behind it and a receive posted at the responder
a, acq, b, bcq = pair()
b.post_recv(RecvWR(wr_id=70, num_sge=1, sg=[SGE(dst.buf, SIZE, dst.lkey)]))
write(a, dst.rkey ^ 0xff, dst.buf, 64, 1)
send(a, 64, 2)
w = poll(acq, 2)
r = poll(bcq, 1)
print('BADRKEY first=%d/%d second=%d/%d responder=%d/%d states=%d,%d' % (
    w[0].wr_id, w[0].status, w[1].wr_id, w[1].status, r[0].wr_id, r[0].status, state(a), state(b)), flush=True)

# 2. the right rkey, but 64 bytes starting 8 bytes before the end of the MR
c, ccq, d, dcq = pair()
write(c, dst.rkey, dst.buf + SIZE - 8, 64, 3)
w = poll(ccq, 1)
print('RANGE status=%d states=%d,%d' % (w[0].status, state(c), state(d)), flush=True)

# 3. a third pair on the same device: a send and a write arrive, byte for byte
f, fcq, g, gcq = pair()
mr.write(b'IOVALAB-RC-%05d' % 4242, 16, 0)
g.post_recv(RecvWR(wr_id=80, num_sge=1, sg=[SGE(dst.buf, SIZE, dst.lkey)]))
send(f, 16, 4)
write(f, dst.rkey, dst.buf + 4096, 16, 5)
w = poll(fcq, 2)
r = poll(gcq, 1)
print('OTHERS send=%d write=%d recv=%d/%d bytes=%d data=%s,%s states=%d,%d' % (
    w[0].status, w[1].status, r[0].wr_id, r[0].status, r[0].byte_len, dst.read(16, 0).decode(),
    dst.read(16, 4096).decode(), state(f), state(g)), flush=True)

# 4. ODP MRs over pages the device has never seen (registered before the CPU touches them, so
# the registration's snapshot holds nothing): the send faults on its source, then on the receive
import mmap, ctypes
PAGES = 4
src_map = mmap.mmap(-1, PAGES * 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE)
dst_map = mmap.mmap(-1, PAGES * 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE)
src_addr = ctypes.addressof(ctypes.c_char.from_buffer(src_map))
dst_addr = ctypes.addressof(ctypes.c_char.from_buffer(dst_map))
osrc = MR(pd, PAGES * 4096, ACC | e.IBV_ACCESS_ON_DEMAND, address=src_addr)
odst = MR(pd, PAGES * 4096, ACC | e.IBV_ACCESS_ON_DEMAND, address=dst_addr)
for i in range(PAGES):
    src_map[i * 4096:i * 4096 + 16] = b'IOVALAB-ODP-%04d' % i
h, hcq, k, kcq = pair()
k.post_recv(RecvWR(wr_id=90, num_sge=1, sg=[SGE(dst_addr, PAGES * 4096, odst.lkey)]))
h.post_send(SendWR(wr_id=6, opcode=e.IBV_WR_SEND, num_sge=1, sg=[SGE(src_addr, PAGES * 4096, osrc.lkey)],
                   send_flags=e.IBV_SEND_SIGNALED))
w = poll(hcq, 1)
r = poll(kcq, 1)
same = all(dst_map[i * 4096:i * 4096 + 16] == b'IOVALAB-ODP-%04d' % i for i in range(PAGES))
print('ODPFAULT send=%d recv=%d bytes=%d same=%s' % (w[0].status, r[0].status, r[0].byte_len, same), flush=True)
print('DONE', flush=True)
