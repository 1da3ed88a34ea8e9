"The demo dataset cache under concurrency and failure: parallel builders, a crash mid-build, a stale folder."
import os, subprocess, sys, textwrap
from pathlib import Path
import pytest
import audiotag2019.demo as demo
from audiotag2019.sounds import DEMO_CLASSES

SIZE = 0.05  # the smallest build: every class once in train

@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('AUDIOTAG2019_CACHE', str(tmp_path))
    return tmp_path/'demo'

def _entries(cache): return sorted(p.name for p in cache.iterdir() if not p.name.endswith('.lock'))

def test_parallel_builders_share_one_build(cache):
    code = textwrap.dedent(f'''
        from audiotag2019.demo import demo_dataset, dataset_digest
        p = demo_dataset({SIZE}); print(p, dataset_digest(p))''')
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    procs = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs): assert p.returncode == 0, err
    assert len({o for o, _ in outs}) == 1  # same folder, same bytes
    assert _entries(cache) == [Path(outs[0][0].split()[0]).name]  # no temporary folders left

def test_crash_leaves_nothing_half_built(cache, monkeypatch):
    def broken(path, *args, **kwargs):
        (Path(path)/'train_curated').mkdir(parents=True)
        (Path(path)/'train_curated.csv').write_text('fname,labels\n')
        raise RuntimeError('disk full')
    real = demo.make_demo_dataset
    monkeypatch.setattr(demo, 'make_demo_dataset', broken)
    with pytest.raises(RuntimeError, match='disk full'): demo.demo_dataset(SIZE)
    assert _entries(cache) == []
    monkeypatch.setattr(demo, 'make_demo_dataset', real)
    p = demo.demo_dataset(SIZE)
    assert (p/'.complete').exists() and demo.load_dataset(p).vocab == DEMO_CLASSES

def test_folder_without_completion_mark_is_rebuilt(cache):
    key = demo.demo_dataset(SIZE).name
    (cache/key/'.complete').unlink()
    (cache/key/'train_curated.csv').write_text('garbage')
    p = demo.demo_dataset(SIZE)
    assert (p/'.complete').exists() and demo.load_dataset(p).vocab == DEMO_CLASSES

def test_named_sizes_and_bad_size(cache):
    with pytest.raises(ValueError, match='size must be one of'): demo.demo_dataset('enormous')
    with pytest.raises(ValueError, match='positive'): demo.demo_dataset(0)

def test_make_demo_dataset_refuses_a_used_folder(tmp_path):
    (tmp_path/'mine.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='not empty'): demo.make_demo_dataset(tmp_path, size=SIZE, progress=False)
    assert (tmp_path/'mine.txt').read_text() == 'keep me'

def test_cache_keys_of_the_variants(cache):
    "The default build keeps the key it always had; the unseen variant and other noisy scales have their own."
    from audiotag2019 import __version__
    from audiotag2019.unseen import UNSEEN_FORMAT
    base = f'v{__version__}-f{demo.DEMO_FORMAT}-seed0-size{SIZE:g}'
    assert demo.demo_dataset(SIZE).name == base
    unseen = demo.demo_dataset(SIZE, variant='unseen')
    assert unseen.name == f'{base}-unseen{UNSEEN_FORMAT}' and (unseen/'.complete').exists()
    assert demo.dataset_digest(unseen) != demo.dataset_digest(cache/base)
    with pytest.raises(ValueError, match='noisy must be positive'): demo.demo_dataset(SIZE, noisy=0)
