"Edge cases of `ensemble` on real files: the demo's sample submission and truth, broken csvs, a full round trip."
import warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from audiotag2019.core import read_vocab, read_labels_csv, labels2multihot
from audiotag2019.loss import lwlrap
from audiotag2019.tta import probs_table
from audiotag2019.ensemble import (SubmissionError, average_tables, save_preds, load_preds, write_submission,
                                   validate_submission, score_submission)

@pytest.fixture(scope='module')
def demo():
    try: from audiotag2019.demo import demo_dataset
    except ImportError: pytest.skip('no demo dataset')
    return demo_dataset('tiny')

def _preds(root, seed):
    sample = pd.read_csv(root/'sample_submission.csv')
    vocab = read_vocab(root)
    rng = np.random.default_rng(seed)
    return probs_table(sample.fname, rng.random((len(sample), len(vocab))).astype(np.float32), vocab), vocab

def test_demo_round_trip(demo, tmp_path):
    t1, vocab = _preds(demo, 0)
    t2, _ = _preds(demo, 1)
    files = [save_preds(t1, tmp_path/'m1.csv'), save_preds(t2.iloc[::-1], tmp_path/'m2.npz')]
    avg = average_tables([load_preds(f) for f in files], weights=[2, 1])
    np.testing.assert_allclose(avg[vocab].to_numpy(), (2 * t1[vocab].to_numpy() + t2[vocab].to_numpy()) / 3, atol=1e-6)
    sub = write_submission(avg, demo/'sample_submission.csv', tmp_path/'submission.csv')
    text = (tmp_path/'submission.csv').read_text().splitlines()
    assert text[0] == (demo/'sample_submission.csv').read_text().splitlines()[0]  # the header, byte for byte
    assert [l.split(',')[0] for l in text[1:]] == pd.read_csv(demo/'sample_submission.csv').fname.tolist()
    validate_submission(tmp_path/'submission.csv', demo/'sample_submission.csv')
    truth = read_labels_csv(demo/'test_labels.csv', vocab)
    y = labels2multihot(truth.labels, vocab)
    s = sub.set_index('fname').loc[truth.fname, vocab].to_numpy()
    assert score_submission(tmp_path/'submission.csv', demo/'test_labels.csv') == pytest.approx(lwlrap(s, y), abs=1e-9)
    # perfect predictions score 1
    assert score_submission(probs_table(truth.fname, y, vocab), demo/'test_labels.csv') == pytest.approx(1.)

def test_validator_on_broken_files(demo, tmp_path):
    t1, vocab = _preds(demo, 0)
    sp = demo/'sample_submission.csv'
    bad = tmp_path/'bad.csv'
    t1.iloc[:-1].to_csv(bad, index=False)
    with pytest.raises(SubmissionError, match='missing clip'): validate_submission(bad, sp)
    t1[['fname'] + vocab[::-1]].to_csv(bad, index=False)
    with pytest.raises(SubmissionError, match='columns not in the order of sample_submission.csv'): validate_submission(bad, sp)
    t = t1.copy(); t.iloc[3, 2] = np.nan; t.to_csv(bad, index=False)
    with pytest.raises(SubmissionError, match='NaN'): validate_submission(bad, sp)
    t = t1.copy().astype({vocab[0]: object}); t.iloc[0, 1] = 'oops'; t.to_csv(bad, index=False)
    with pytest.raises(SubmissionError, match='non-numeric'): validate_submission(bad, sp)
    bad.write_text('')
    with pytest.raises(SubmissionError, match='cannot be read as csv'): validate_submission(bad, sp)

def test_write_refuses_and_writes_nothing(demo, tmp_path):
    t1, vocab = _preds(demo, 0)
    out = tmp_path/'submission.csv'
    with pytest.raises(SubmissionError, match='scores outside'): write_submission(t1.assign(**{vocab[0]: 2.}), demo/'sample_submission.csv', out)
    assert not out.exists()

def test_load_preds_rejects_garbage(tmp_path):
    p = tmp_path/'x.npz'
    np.savez(p, a=np.zeros(3))
    with pytest.raises(SubmissionError, match='cannot be read as a prediction file'): load_preds(p)
    p = tmp_path/'dup.csv'
    p.write_text('fname,A\na.wav,0.1\na.wav,0.2\n')
    with pytest.raises(SubmissionError, match='duplicate fnames'): load_preds(p)

def test_score_requires_truth_classes(tmp_path):
    tab = probs_table(['a.wav', 'b.wav'], np.array([[0.9, 0.1], [0.2, 0.8]]), ['A', 'B'])
    tp = tmp_path/'t.csv'
    tp.write_text('fname,labels\na.wav,A\nb.wav,C\n')
    with pytest.raises(Exception, match="not in the vocabulary"): score_submission(tab, tp)
    tp.write_text('fname,labels\na.wav,A\nb.wav,B\n')
    assert score_submission(tab, tp) == 1.
