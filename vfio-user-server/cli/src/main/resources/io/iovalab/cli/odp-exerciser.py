# The ODP exerciser run in the guest by `iovalab demo` and by Mlx5OdpGuestTest: an ODP MR over
# touched pages on mlx5_0, ibv_advise_mr prefetch, MADV_DONTNEED on the upper half, dereg.
# Usage: python3 odp-exerciser.py [PAGES]. Steps are separated by handshake files
# (/tmp/odp.NAME, then wait for /tmp/odp.go.NAME) so a caller can look at the device in
# between; a caller that does not need to pre-creates the go files and it runs straight through.
import ctypes, mmap, os, sys, time
from pyverbs.device import Context
from pyverbs.pd import PD
from pyverbs.mr import MR
from pyverbs.wr import SGE
LOCAL_WRITE, ON_DEMAND = 1, 1 << 6          # ibv_access_flags
PREFETCH_WRITE, FLUSH = 1, 1                # IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, IBV_ADVISE_MR_FLAG_FLUSH
N, PS = int(sys.argv[1]) if len(sys.argv) > 1 else 32, 4096
def step(name):
    print(name, flush=True)
    open('/tmp/odp.' + name, 'w').close()
    for _ in range(1200):
        if os.path.exists('/tmp/odp.go.' + name):
            return
        time.sleep(0.05)
    sys.exit('no go for ' + name)
ctx = Context(name='mlx5_0')
pd = PD(ctx)
buf = mmap.mmap(-1, N * PS, prot=mmap.PROT_READ | mmap.PROT_WRITE)
for i in range(N):
    buf[i * PS:i * PS + 16] = b'IOVALAB-ODP-%04d' % i   # touched: present for the snapshot
addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
mr = MR(pd, N * PS, LOCAL_WRITE | ON_DEMAND, address=addr)
print('REG addr=0x%x lkey=0x%x' % (addr, mr.lkey), flush=True)
pd.advise_mr(PREFETCH_WRITE, FLUSH, [SGE(addr, N * PS, mr.lkey)])
print('ADVISE ok', flush=True)
step('prefetched')
libc = ctypes.CDLL(None, use_errno=True)
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
rc = libc.madvise(addr + N // 2 * PS, N // 2 * PS, 4)   # MADV_DONTNEED on the upper half
print('MADVISE rc=%d' % rc, flush=True)
step('dropped')
mr.close()
print('DEREG ok', flush=True)
pd.close()
ctx.close()
print('DONE', flush=True)
