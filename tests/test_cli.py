"The installed `audiotag2019` console script: usage, exit statuses."
import subprocess, sys, shutil
from pathlib import Path
import pytest

EXE = Path(sys.executable).parent/'audiotag2019'

@pytest.mark.skipif(not EXE.exists(), reason='console script not installed in this environment')
def test_usage_and_unknown_command():
    r = subprocess.run([str(EXE), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'demo' in r.stdout and 'specs' in r.stdout
    r = subprocess.run([str(EXE), 'no-such-command'], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown command 'no-such-command'" in r.stderr
    r = subprocess.run([str(EXE), 'specs', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--splits' in r.stdout

def test_specs_on_missing_root_fails_clearly(tmp_path):
    r = subprocess.run([str(EXE), 'specs', str(tmp_path/'nowhere'), str(tmp_path/'out')], capture_output=True, text=True)
    assert r.returncode == 1 and 'no such folder' in r.stderr and 'Traceback' not in r.stderr

def test_train_switches_keep_the_preset_unless_given():
    "`--sa/--flips/--mixup` are true/false options; left out, the preset's value stands (not False)."
    from fastcore.script import anno_parser
    from audiotag2019.cli import train_cli
    p = anno_parser(train_cli)
    a = p.parse_args(['root', 'out'])
    assert (a.sa, a.flips, a.mixup) == (None, None, None)
    a = p.parse_args(['root', 'out', '--sa', 'false', '--mixup', 'true'])
    assert (a.sa, a.mixup) == ('false', 'true')
