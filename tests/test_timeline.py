"Tags over time, scored: segment metrics against `sed_eval`, the timeline against clip-level tags on long recordings, and `predict --timeline` on a folder with a 10-minute recording."
import contextlib, importlib.util, io, sys, types
from unittest import mock
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import fastcore.test as fct  # as a module: pytest would collect its test_* functions
from audiotag2019.augment import WINDOW
from audiotag2019.cli import main, run_command
from audiotag2019.config import TrainConfig
from audiotag2019.demo import demo_dataset
from audiotag2019.inference import predict_folder
from audiotag2019.spectrogram import SpecParams
from audiotag2019.timeline import timeline, stream_clip, window_starts, EVENT_COLS
from audiotag2019.sed import make_long_demo, segment_scores, clip_tag_events
from audiotag2019.train import train


def _sed_eval():
    "`sed_eval`. Its `dcase_util` imports `pkg_resources` when imported, which setuptools ≥ 81 no longer ships; nothing used here calls it."
    stub = importlib.util.find_spec('pkg_resources') is None
    if stub: sys.modules['pkg_resources'] = types.ModuleType('pkg_resources')
    try: import sed_eval
    finally:
        if stub: sys.modules.pop('pkg_resources', None)
    return sed_eval

def sed_eval_scores(ref, est, durations, resolution=1.):
    "The same scores from `sed_eval.sound_event.SegmentBasedMetrics`, recording by recording."
    se = _sed_eval()
    m = se.sound_event.SegmentBasedMetrics(event_label_list=sorted(set(ref.label) | set(est.label)), time_resolution=resolution)
    ev = lambda d, on, off, f: [dict(filename=f, onset=float(a), offset=float(b), event_label=l) for a, b, l in d[d.fname == f][[on, off, 'label']].itertuples(index=False)]
    for f, L in durations.items(): m.evaluate(ev(ref, 'onset', 'offset', f), ev(est, 'start_s', 'end_s', f), evaluated_length_seconds=L)
    o = m.results_overall_metrics()
    return dict(f1=o['f_measure']['f_measure'], precision=o['f_measure']['precision'], recall=o['f_measure']['recall'],
                **{k: o['error_rate'][k if k != 'er' else 'error_rate'] for k in ('er', 'substitution_rate', 'deletion_rate', 'insertion_rate')})

def _same(ours, theirs):
    for k, v in theirs.items(): fct.test_close(ours[k], v, eps=1e-9)


def _random_events(rng, files, labels, on, off, n):
    rows = []
    for f, L in files.items():
        for _ in range(n):
            a = rng.uniform(0, L - 0.1); rows.append((f, a, min(L, a + rng.exponential(2.) + 0.05), str(rng.choice(labels))))
    return pd.DataFrame(rows, columns=['fname', on, off, 'label'])

@pytest.mark.parametrize('resolution', [1., 0.5])
def test_segment_scores_equal_sed_eval(resolution):
    rng = np.random.default_rng(0)
    files, labels = {'a.wav': 12.3, 'b.wav': 30., 'c.wav': 7.}, ['Bark', 'Meow', 'Purr', 'Run']
    for k in range(5):
        ref = _random_events(rng, files, labels, 'onset', 'offset', 6)
        est = _random_events(rng, files, labels[:3], 'start_s', 'end_s', 4 + k)
        ours = segment_scores(ref, est, files, resolution)
        _same(ours, sed_eval_scores(ref, est, files, resolution))
        assert 0 < ours['f1'] < 1 and ours['er'] > 0


@pytest.fixture(scope='module')
def known(tmp_path_factory):
    "A small model trained for a few hundred steps on the tiny demo's curated clips, and long recordings made of those clips."
    d, root = tmp_path_factory.mktemp('known'), demo_dataset('tiny')
    train(TrainConfig.cpu_demo(size=64, epochs=5, n_batches=50, fold=None), root, d/'run', progress=False, specs=d/'specs')
    return d/'run', make_long_demo(d/'long', root, n=2, minutes=1.5, split='train_curated'), root

def test_timeline_beats_clip_tags(known):
    run, long, _ = known
    tl = timeline(run, long/'recordings', progress=False)
    ref, durs = pd.read_csv(long/'strong_labels.csv'), {f: r.duration for f, r in tl.recordings.items()}
    fct.test_eq(sorted(durs), ['long00.wav', 'long01.wav'])
    ours, base = segment_scores(ref, tl.events, durs), segment_scores(ref, clip_tag_events(tl), durs)
    print(f"timeline F1 {ours['f1']:.3f} ER {ours['er']:.3f}; clip tags F1 {base['f1']:.3f} ER {base['er']:.3f}")
    assert ours['f1'] > base['f1'] and ours['er'] < base['er']
    assert ours['recall'] > 0.2   # it finds sounds, not only keeps quiet
    _same(ours, sed_eval_scores(ref, tl.events, durs)); _same(base, sed_eval_scores(ref, clip_tag_events(tl), durs))


def _lines(f): return f.read_text().splitlines()

def test_predict_timeline_folder(known, tmp_path):
    run, _, root = known
    ten = make_long_demo(tmp_path/'ten', root, n=1, minutes=10., split='train_curated', seed=3)
    src = tmp_path/'src'; src.mkdir()
    (src/'ten_minutes.wav').write_bytes((ten/'recordings'/'long00.wav').read_bytes())
    shorts = sorted((root/'test').iterdir())[:2]
    for f in shorts: (src/f.name).write_bytes(f.read_bytes())
    out = tmp_path/'tl'
    with contextlib.redirect_stdout(io.StringIO()) as o, mock.patch('audiotag2019.spectrogram._decode', side_effect=AssertionError('read whole')):
        tab = run_command(['predict', str(run), str(src), '--out', str(tmp_path/'p.csv'), '--timeline', str(out), '--quiet'])
    names = sorted(p.name for p in src.iterdir())
    fct.test_eq(sorted(tab.fname), names)
    fct.test_eq(sorted(p.name for p in out.iterdir()), sorted(['windows.csv', 'events.csv'] + [n[:-4] + e for n in names for e in ('.txt', '.png')]))
    p, w, ev = SpecParams(), pd.read_csv(out/'windows.csv'), pd.read_csv(out/'events.csv')
    for n in names:  # a window every 64 frames and one ending at the last frame
        fct.test_eq((w.fname == n).sum(), len(window_starts(1 + max(sf.info(src/n).frames, p.min_samples)//p.hop)))
    fct.test_eq((w.fname == 'ten_minutes.wav').sum() > 590, True)
    fct.test_eq(list(ev.columns), EVENT_COLS); assert len(ev) and set(ev.fname) <= set(names)
    assert (ev.start_s < ev.end_s).all() and ev.max_prob.between(0.5, 1).all()
    for n in names:   # the Audacity label track: one line per event, start, end and label separated by tabs
        lines = [l.split('\t') for l in _lines(out/(n[:-4] + '.txt'))]
        e = ev[ev.fname == n]
        fct.test_eq(len(lines), len(e)); fct.test_eq([l[2] for l in lines], list(e.label))
        fct.test_close(np.array([[float(l[0]), float(l[1])] for l in lines]).reshape(-1, 2), e[['start_s', 'end_s']].to_numpy(), eps=1e-4)
        fct.test_eq((out/(n[:-4] + '.png')).read_bytes()[:8], b'\x89PNG\r\n\x1a\n')
    assert f'timeline: {len(w)} windows, {len(ev)} events in 3 recording(s)' in o.getvalue()
    # the plain `predict` of the 10-minute file streams it too, to the same slice-max as the timeline's csv
    with mock.patch('audiotag2019.spectrogram._decode', side_effect=AssertionError('read whole')), contextlib.redirect_stdout(io.StringIO()):
        plain = run_command(['predict', str(run), str(src/'ten_minutes.wav'), '--out', str(tmp_path/'plain.csv'), '--quiet'])
    fct.test_close(plain.iloc[0, 1:].to_numpy(float), tab.set_index('fname').loc['ten_minutes.wav'].to_numpy(float), eps=1e-5)


def _main(*argv):
    with mock.patch.object(sys, 'argv', ['audiotag2019', *argv]), contextlib.redirect_stderr(io.StringIO()) as e, contextlib.redirect_stdout(io.StringIO()):
        try: main(); return 0, e.getvalue()
        except SystemExit as x: return x.code, e.getvalue()

def test_timeline_bad_input(known, tmp_path):
    run, long, _ = known
    for args, msg in (([str(tmp_path/'missing.wav')], 'missing.wav: no such file or folder'),
                      ([str(long/'strong_labels.csv')], 'not an audio file'),
                      ([str(long/'recordings'), '--hop', '-1'], '--hop must be more than 0'),
                      ([str(long/'recordings'), '--min_prob', '2'], '--min_prob must be within [0, 1], got 2.0')):
        code, err = _main('predict', str(run), *args[:1], '--timeline', str(tmp_path/'o'), *args[1:])
        fct.test_eq(code, 1); fct.test_eq(err.count('\n'), 1); assert msg in err, err
    (tmp_path/'one').mkdir(); (tmp_path/'one'/'bad.wav').write_bytes(b'RIFF0000WAVEjunk')
    code, err = _main('predict', str(run), str(tmp_path/'one'), '--timeline', str(tmp_path/'o'), '--out', str(tmp_path/'x.csv'))
    fct.test_eq(code, 3); assert 'not predicted: bad.wav' in err and 'cannot decode audio' in err
