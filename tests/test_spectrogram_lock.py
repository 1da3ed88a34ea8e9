"Two processes building the same spectrogram store at once take turns: the store ends up whole, each clip once."
import subprocess, sys, textwrap
import numpy as np
from audiotag2019.core import load_dataset
from audiotag2019.demo import demo_dataset
from audiotag2019.store import build_store, SpecStore

BUILD = textwrap.dedent('''
    import sys, warnings; warnings.filterwarnings('ignore')
    from audiotag2019.core import load_dataset
    from audiotag2019.store import build_store
    ds = load_dataset(sys.argv[1])
    files = [ds.audio_path('train_curated', f) for f in ds.curated.fname]
    build_store(files, sys.argv[2], batch_size=4, progress=False, device='cpu')
''')

def test_concurrent_builds_take_turns(tmp_path):
    root = demo_dataset('tiny')
    ds = load_dataset(root)
    files = [ds.audio_path('train_curated', f) for f in ds.curated.fname]
    shared = tmp_path/'shared'
    procs = [subprocess.Popen([sys.executable, '-c', BUILD, str(root), str(shared)]) for _ in range(2)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    ref = build_store(files, tmp_path/'alone', batch_size=4, progress=False, device='cpu')
    got = SpecStore(shared)
    assert got.fnames == ref.fnames                     # each clip once, in order
    assert (shared/'spec.u8').stat().st_size == (tmp_path/'alone'/'spec.u8').stat().st_size
    for f in ref.fnames: assert np.array_equal(np.asarray(got.get(f)), np.asarray(ref.get(f))), f
