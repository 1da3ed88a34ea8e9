"What the console shows: no warnings on stderr from a plain call, a summary line, failures named and in the exit status."
import contextlib, io, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from audiotag2019.demo import demo_dataset

EXE = Path(sys.executable).parent/'audiotag2019'
pytestmark = pytest.mark.skipif(not EXE.exists(), reason='console script not installed in this environment')

def run(*args):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})

def no_warning(stderr):
    return not any(w in stderr for w in ('Warning', 'warnings.warn', 'deprecated'))

@pytest.mark.parametrize('args', [['--help'], ['specs', '-h'], ['predict', '-h'], ['errors', '-h']])
def test_help_prints_no_warning(args):
    r = run(*args)
    assert r.returncode == 0 and r.stderr == '', r.stderr

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    "A copy of the tiny demo root with one corrupt test clip, and a one-epoch run trained on it."
    d = tmp_path_factory.mktemp('cli')
    root = d/'root'; shutil.copytree(demo_dataset('tiny'), root)
    from audiotag2019.cli import run_command
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run_command(['train', str(root), str(d/'run'), '--preset', 'cpu_demo', '--epochs', '1', '--quiet'])
    return d, root

def test_specs_summary_and_exit_status(work):
    d, root = work
    bad = sorted((root/'test').iterdir())[0]
    broken = d/'root_bad'; shutil.copytree(root, broken, ignore=shutil.ignore_patterns('specs'))
    (broken/'test'/bad.name).write_bytes(b'RIFF0000WAVEjunk')
    r = run('specs', broken, d/'specs_bad', '--quiet', '--splits', 'test')
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert f'1 failed: {bad.name}' in r.stdout                       # the summary line names it
    assert bad.name in r.stderr and 'audiotag2019 errors' in r.stderr
    assert 'UserWarning' not in r.stderr and 'warnings.warn' not in r.stderr
    r = run('specs', broken, d/'specs_bad', '--quiet', '--splits', 'test', '--allow_failed')
    assert r.returncode == 0 and f'1 failed: {bad.name}' in r.stdout
    r = run('errors', d/'specs_bad')
    assert r.returncode == 0 and bad.name in r.stdout and 'error' in r.stdout

def test_predict_prints_no_warning_and_fails_by_name(work):
    d, root = work
    own = d/'own'; (own/'sub').mkdir(parents=True)
    t = sorted((root/'test').iterdir())
    shutil.copy(t[0], own/'a.wav'); shutil.copy(t[1], own/'sub'/'b.wav')
    r = run('predict', d/'run', own, '--out', d/'own.csv', '--quiet')
    assert r.returncode == 0 and no_warning(r.stderr), r.stderr           # a plain call: nothing on stderr but results
    assert '2 audio file(s) found' in r.stdout and '2 clips: 2 ok, 0 handled, 0 failed; 2 predicted' in r.stdout
    (own/'broken.wav').write_bytes(b'RIFF0000WAVEjunk')
    r = run('predict', d/'run', own, '--out', d/'own.csv', '--quiet')
    assert r.returncode == 3 and 'not predicted: broken.wav' in r.stderr and no_warning(r.stderr), r.stderr
    assert '1 failed: broken.wav; 2 predicted' in r.stdout
    r = run('ensemble', d/'own.csv', '--root', root, '--out', d/'sub.csv')
    assert r.returncode == 1 and f"{d/'own.csv'}: no prediction for" in r.stderr   # the input that lacks clips, not "submission"
