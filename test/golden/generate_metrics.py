#!/usr/bin/python3
"""Golden cases for the evaluation metrics (src/evaluation/), from torchmetrics 1.2.0 itself.

torchmetrics is not installed: its source is loaded from TORCHMETRICS_SRC (the src/ folder of
Lightning-AI/torchmetrics at tag v1.2.0) and LIGHTNING_UTILITIES_SRC (src/ of Lightning-AI/utilities
at v0.9.0); see README.md. Run with Debian's torch (hence /usr/bin/python3):

    TORCHMETRICS_SRC=/tmp/tm120/src LIGHTNING_UTILITIES_SRC=/tmp/lu090/src \
        /usr/bin/python3 test/golden/generate_metrics.py [--check-linspace]

Writes metrics.json (deterministic). Inputs are exact float32 values; the service computes
probabilities in float64 from them, so torchmetrics is given the float64 softmax / sigmoid
(calibration then bins float32 confidences, as MulticlassCalibrationError's `.float()` does; for
BinaryCalibrationError the generator rounds p to float32 the same way). Accuracy, top-k, confusion
and precision/recall are given the logits (argmax / topk on them). Brier and shot groups have no
torchmetrics function; they are computed here in float64 from their definitions (README.md).
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for var in ('TORCHMETRICS_SRC', 'LIGHTNING_UTILITIES_SRC'):
    if var not in os.environ:
        sys.exit(f'{var} must name the src/ folder of the fetched release (see test/golden/README.md)')
    sys.path.insert(0, os.environ[var])
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torchmetrics  # noqa: E402
import torchmetrics.functional.classification as tm  # noqa: E402
from generate import G, flat_values, gen_cached, materialize, qbinary, qlabels, qlogits, qtargets, fnv1a  # noqa: E402

assert torchmetrics.__version__ == '1.2.0', torchmetrics.__version__
torch.set_num_threads(1)
F64 = torch.float64
RELIABILITY_MAX_BINS = 100     # larger grids are checked through ece / mce / rmsce only
LINSPACE_VALUES = range(2, 34)                                     # stored as values
LINSPACE_PRINTS = list(range(34, 257)) + list(range(257, 10002, 97)) + [10001]   # stored as fnv1a of the float32 bits


def num(v):
    """A finite float, or None for NaN (the service's null)."""
    v = float(v)
    assert not math.isinf(v)
    return None if math.isnan(v) else v


def linspace32(steps):
    return torch.linspace(0, 1, steps).tolist()


def straddling_ties(x, y, ks):
    """Rows where the target's tie group spans the k-th place (torch.topk picks among ties arbitrarily)."""
    bad = 0
    for row, t in zip(x.tolist(), y.tolist()):
        if t < 0 or t >= len(row):
            continue
        greater = sum(1 for v in row if v > row[t])
        equal = sum(1 for v in row if v == row[t])
        bad += any(greater < k < greater + equal for k in ks if k > 1)
    return bad


def reliability(conf, acc, bins):
    grid = torch.linspace(0, 1, bins + 1)
    idx = torch.bucketize(conf, grid, right=True) - 1
    out = []
    for b in range(bins + 1):
        sel = idx == b
        n = int(sel.sum())
        if b == bins and n == 0:
            continue
        out.append({'lower': float(grid[b]), 'upper': float(grid[min(b + 1, bins)]), 'count': n,
                    'confidence': float(conf[sel].double().mean()) if n else None,
                    'accuracy': float(acc[sel].double().mean()) if n else None})
    on_edge = int(sum(int((conf == g).sum()) for g in grid[1:]))
    return out, on_edge


def calibration(probs_or_p, target, bins, ii, binary):
    if binary:
        args = dict(n_bins=bins)
        f = tm.binary_calibration_error
        p32 = probs_or_p.float()
        res = {n: num(f(p32, target, norm=n, **args)) for n in ('l1', 'max', 'l2')}
        conf, acc = p32, target.float()
    else:
        c = probs_or_p.shape[1]
        res = {n: num(tm.multiclass_calibration_error(probs_or_p, target, c, n_bins=bins, norm=n, ignore_index=ii))
               for n in ('l1', 'max', 'l2')}
        p = torch.movedim(probs_or_p, 1, -1).reshape(-1, c)
        t = target.reshape(-1)
        keep = t != ii
        p, t = p[keep], t[keep]
        conf, pred = p.max(dim=1)
        conf, acc = conf.float(), (pred == t).float()
    out = {'ece': res['l1'], 'mce': res['max'], 'rmsce': res['l2']}
    rel, on_edge = reliability(conf, acc, bins)
    if bins <= RELIABILITY_MAX_BINS:
        out['reliability'] = rel
    return out, on_edge


def multiclass_case(req):
    x = torch.tensor(materialize(req['logits']), dtype=F64)
    labels = materialize(req['labels'])
    c = x.shape[1]
    ii = req.get('ignoreIndex', -100)
    opts = req.get('options', {})
    if req['labelKind'] == 'dense':
        t = torch.tensor(labels, dtype=F64)
        y = t.argmax(dim=1)
    else:
        y = torch.tensor(labels, dtype=torch.long)
    topk = opts.get('topk', [k for k in (1, 5) if k <= c])
    bins = opts.get('calibrationBins', 15)
    rows2d = torch.movedim(x, 1, -1).reshape(-1, c)
    yflat = y.reshape(-1)
    keep = yflat != ii
    assert straddling_ties(rows2d[keep], yflat[keep], topk) == 0, f'{req}: a top-k tie straddles the k-th place'
    kw = dict(num_classes=c, ignore_index=ii)
    exp = {'rows': int((yflat != ii).sum())}
    exp['accuracy'] = num(tm.multiclass_accuracy(x, y, average='micro', **kw))
    exp['topk'] = {str(k): num(tm.multiclass_accuracy(x, y, average='micro', top_k=k, **kw)) for k in topk}
    exp['meanClassAccuracy'] = num(tm.multiclass_accuracy(x, y, average='macro', **kw))
    probs = torch.softmax(x, dim=1)
    cal, on_edge = calibration(probs, y, bins, ii, False)
    exp.update(cal)
    p = torch.movedim(probs, 1, -1).reshape(-1, c)[yflat != ii]
    onehot = torch.nn.functional.one_hot(yflat[yflat != ii], c).double()
    exp['brier'] = num(((p - onehot) ** 2).sum(dim=1).mean()) if len(p) else None
    cm = tm.multiclass_confusion_matrix(x, y, **kw)
    if opts.get('confusion') == 'dense':
        exp['confusion'] = cm.tolist()
    elif opts.get('confusion') == 'sparse':
        exp['confusion'] = [[i, j, int(cm[i, j])] for i in range(c) for j in range(c) if cm[i, j] > 0]
    if 'shots' in opts:
        exp['shots'] = shots(cm, opts['shots'], {k: materialize(v) for k, v in req.get('perClassLoss', {}).items()})
    exp['perClass'] = {
        'recall': [num(v) for v in tm.multiclass_recall(x, y, average='none', **kw)],
        'precision': [num(v) for v in tm.multiclass_precision(x, y, average='none', **kw)],
        'f1': [num(v) for v in tm.multiclass_f1_score(x, y, average='none', **kw)],
    }
    return exp, on_edge


def shots(cm, spec, losses):
    """OLTR shot_acc (Liu et al. 2019) per group, plus row accuracy and mean per-row losses."""
    counts, many, few = spec['counts'], spec.get('many', 100), spec.get('few', 20)
    target, correct = cm.sum(dim=1).tolist(), cm.diag().tolist()
    out = {}
    for group, member in (('many', lambda n: n > many), ('medium', lambda n: few <= n <= many), ('few', lambda n: n < few)):
        cls = [c for c in range(len(counts)) if member(counts[c])]
        rows = sum(target[c] for c in cls)
        present = [correct[c] / target[c] for c in cls if target[c] > 0]
        g = {'classes': len(cls), 'rows': rows,
             'accuracy': math.fsum(present) / len(present) if present else None,
             'rowAccuracy': sum(correct[c] for c in cls) / rows if rows else None}
        for name, sums in losses.items():
            g[name] = math.fsum(sums[c] for c in cls) / rows if rows else None
        out[group] = g
    return out


def sigmoid_targets(req, x):
    labels = materialize(req['labels'])
    ii = req.get('ignoreIndex', -100)
    if req['labelKind'] == 'index':
        y = torch.tensor(labels, dtype=torch.long)
        keep = y != ii
        t = torch.zeros(x.shape, dtype=torch.long)
        t[keep] = torch.nn.functional.one_hot(y[keep], x.shape[1])
        t[~keep] = ii
        return t, ii
    return (torch.tensor(labels, dtype=F64) >= 0.5).long(), None


def multilabel_case(req):
    x = torch.tensor(materialize(req['logits']), dtype=F64)
    c = x.shape[1]
    t, ii = sigmoid_targets(req, x)
    p = torch.sigmoid(x)
    th = req.get('options', {}).get('thresholds')
    kw = dict(num_labels=c, ignore_index=ii)
    exp = {'rows': int((t[:, 0] != -100).sum()) if ii is not None else x.shape[0]}
    exp['precision'] = num(tm.multilabel_precision(p, t, threshold=0.5, average='macro', **kw))
    exp['recall'] = num(tm.multilabel_recall(p, t, threshold=0.5, average='macro', **kw))
    exp['f1'] = num(tm.multilabel_f1_score(p, t, threshold=0.5, average='macro', **kw))
    exp['microF1'] = num(tm.multilabel_f1_score(p, t, threshold=0.5, average='micro', **kw))
    exp['mAP'] = num(tm.multilabel_average_precision(p, t, average='macro', thresholds=th, **kw))
    exp['auroc'] = num(tm.multilabel_auroc(p, t, average='macro', thresholds=th, **kw))
    exp['perClass'] = {'ap': [num(v) for v in tm.multilabel_average_precision(p, t, average='none', thresholds=th, **kw)]}
    return exp, 0


def binary_case(req):
    x = torch.tensor(materialize(req['logits']), dtype=F64)
    t = (torch.tensor(materialize(req['labels']), dtype=F64) >= 0.5).long()
    p = torch.sigmoid(x)
    opts = req.get('options', {})
    th = opts.get('thresholds')
    exp = {'rows': x.shape[0], 'accuracy': num(tm.binary_accuracy(p, t, threshold=0.5))}
    cal, on_edge = calibration(p, t, opts.get('calibrationBins', 15), None, True)
    exp.update(cal)
    exp['ap'] = num(tm.binary_average_precision(p, t, thresholds=th))
    exp['auroc'] = num(tm.binary_auroc(p, t, thresholds=th))
    exp['brier'] = num(((p - t) ** 2).mean())
    exp['perClass'] = {'ap': [exp['ap']]}
    return exp, on_edge


# ----------------------------------------------------------------------------------------------
# Cases. `request` holds what collect() takes: logits, labels (+ labelKind), activation,
# ignoreIndex, options (the metrics options as the JSON API spells them) and perClassLoss.

def tie_rows():
    """Rows with tied logits (argmax takes the first) whose tie group never straddles k = 3 (see straddling_ties)."""
    x = [[1, 1, 0, 0, -1], [2, 2, 2, 0, 0], [2, 2, 2, 0, 0], [3, 1, 1, -2, -2], [0, 5, 5, 5, 1],
         [-1, -1, -1, 4, 4], [2, 0, 2, 0, 1], [7, 7, 7, 1, 1]]
    y = [1, 0, 2, 4, 3, 4, 2, 1]
    return x, y


def specs():
    out = []

    def add(name, activation, logits, labels, label_kind, **kw):
        req = {'activation': activation, 'logits': logits, 'labels': labels, 'labelKind': label_kind}
        req.update(kw)
        out.append((name, req))

    long_counts = [round(5000 * 0.001 ** (c / 399)) for c in range(400)]
    n = 'softmax/index/c10'
    add(n, 'softmax', qlogits(n, [32, 10], 4, q=4096), qlabels(n, 32, 10), 'index',
        options={'confusion': 'dense', 'shots': {'counts': [500, 300, 150, 101, 100, 60, 20, 19, 5, 0]}},
        perClassLoss={'ce': qtargets(n, [10], tag='ce'), 'focal': qtargets(n, [10], tag='fl')})
    n = 'softmax/index/c10-ignored-absent'
    add(n, 'softmax', qlogits(n, [24, 10], 3, q=4096), [v % 6 for v in qlabels(n, 24, 10)][:20] + [-100] * 4, 'index',
        options={'topk': [1, 3, 10], 'confusion': 'sparse', 'shots': {'counts': [5, 50, 500, 5, 50, 500, 5, 50, 500, 5], 'many': 60, 'few': 10}})
    n = 'softmax/index/c10-ignore-in-range'
    add(n, 'softmax', qlogits(n, [20, 10], 4, q=4096), qlabels(n, 20, 10), 'index', ignoreIndex=3, options={'topk': [2, 5]})
    n = 'softmax/index/c2-n1'
    add(n, 'softmax', [[0.25, -1.5]], [1], 'index')
    n = 'softmax/index/c400-n1'
    add(n, 'softmax', G('logits', 4001, shape=[1, 400], scale=4), [17], 'index', options={'topk': [1, 5, 400]})
    add('large/softmax/index/c2', 'softmax', G('logits', 4002, shape=[1024, 2], scale=3),
        G('index', 4003, n=1024, classes=2), 'index', options={'calibrationBins': 10, 'confusion': 'dense'})
    add('large/softmax/index/c400-longtail-ignored', 'softmax', G('logits', 4004, shape=[1024, 400], scale=5),
        G('index', 4005, n=1024, classes=400, longTail=2, ignoreEvery=7), 'index',
        options={'confusion': 'sparse', 'shots': {'counts': long_counts}},
        perClassLoss={'ce': G('uniform', 4006, shape=[400], low=0, high=40), 'focal': G('uniform', 4007, shape=[400], low=0, high=10)})
    add('large/softmax/index/c10-bins1', 'softmax', G('logits', 4008, shape=[1024, 10], scale=4),
        G('index', 4009, n=1024, classes=10), 'index', options={'calibrationBins': 1})
    add('large/softmax/index/c10-bins10000', 'softmax', G('logits', 4008, shape=[1024, 10], scale=4),
        G('index', 4009, n=1024, classes=10), 'index', options={'calibrationBins': 10000})
    n = 'softmax/index/all-ignored'
    add(n, 'softmax', qlogits(n, [3, 4], 2), [-100, -100, -100], 'index')
    # Confidences exactly on bin edges: two equal logits give 0.5, four give 0.25, a gap of 40 gives
    # 1 (torchmetrics' extra bin); 0.5 and 0.25 are boundaries of 2, 4, 10 and 20 bins.
    edge_x = [[0, 0], [1, 1], [40, 0], [0, 40], [-3, -3], [2, 2.5]]
    for bins in (2, 4, 10):
        add(f'softmax/edges/c2-bins{bins}', 'softmax', edge_x, [0, 1, 0, 0, 1, 1], 'index',
            options={'calibrationBins': bins})
    add('softmax/edges/c4-bins20', 'softmax', [[0, 0, 0, 0], [1, 1, 1, 1], [50, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]],
        [0, 3, 0, 2], 'index', options={'calibrationBins': 20, 'topk': [1, 4]})
    x, y = tie_rows()
    add('softmax/ties/c5', 'softmax', x, y, 'index', options={'topk': [1, 3, 5], 'confusion': 'dense'})
    n = 'softmax/probs/c10'
    probs = qtargets(n, [16, 10], q=4)
    add(n, 'softmax', qlogits(n, [16, 10], 4, q=4096), probs, 'dense', options={'confusion': 'dense'})
    add('large/softmax/probs/c400', 'softmax', G('logits', 4010, shape=[1024, 400], scale=4),
        G('probs', 4011, shape=[1024, 400], power=8), 'dense')
    n = 'temporal/softmax/index'
    add(n, 'softmax', qlogits(n, [4, 5, 6], 3, q=4096), [[v % 5 for v in qlabels(n, 6, 10, tag=f'y{i}')] for i in range(4)],
        'index', options={'topk': [1, 2]})
    n = 'temporal/softmax/index-ignored'
    ys = [[v % 5 for v in qlabels(n, 6, 10, tag=f'y{i}')] for i in range(4)]
    ys[1][2] = ys[3][0] = ys[3][5] = -100
    add(n, 'softmax', qlogits(n, [4, 5, 6], 3, q=4096), ys, 'index', options={'confusion': 'dense'})
    n = 'temporal/softmax/probs'
    add(n, 'softmax', qlogits(n, [3, 4, 5], 3, q=4096), qtargets(n, [3, 4, 5], q=4), 'dense', options={'topk': [1, 2]})
    add('large/temporal/softmax/index', 'softmax', G('logits', 4012, shape=[64, 40, 50], scale=4),
        G('index', 4013, n=64, t=50, classes=40, ignoreEvery=11), 'index')

    n = 'multilabel/index/c5-ignored'
    add(n, 'sigmoid', qlogits(n, [16, 5], 3), qlabels(n, 16, 5, ignore=(3, 9)), 'index')
    n = 'multilabel/dense/c10-ties'
    for th in (None, 5, 100):
        add(f'{n}/thresholds-{th}', 'sigmoid', qlogits(n, [32, 10], 3, q=2), qbinary(n, [32, 10], p=0.3), 'dense',
            options={} if th is None else {'thresholds': th})
    n = 'multilabel/soft/c6'
    add(n, 'sigmoid', qlogits(n, [12, 6], 4), qtargets(n, [12, 6], q=4), 'dense')
    add('multilabel/dense/one-kind-columns', 'sigmoid', [[1, -1, 0.5], [2, 0, -0.5], [-1, 1, 0], [0, 3, 1]],
        [[1, 0, 1], [1, 0, 0], [1, 0, 1], [1, 0, 0]], 'dense')
    for th in (None, 200):
        add(f'large/multilabel/dense/c400-thresholds-{th}', 'sigmoid', G('logits', 4014, shape=[1024, 400], scale=4),
            G('binary', 4015, shape=[1024, 400], p=0.02), 'dense', options={} if th is None else {'thresholds': th})
    add('large/multilabel/index/c10-ignored', 'sigmoid', G('logits', 4016, shape=[1024, 10], scale=4),
        G('index', 4017, n=1024, classes=10, ignoreEvery=5), 'index', options={'thresholds': 50})

    add('binary/n1', 'sigmoid', [0.75], [1], 'dense')
    n = 'binary/ties'
    for th in (None, 11):
        add(f'{n}/thresholds-{th}', 'sigmoid', qlogits(n, [64], 2, q=2), qbinary(n, [64]), 'dense',
            options={'calibrationBins': 10} if th is None else {'thresholds': th, 'calibrationBins': 10})
    add('binary/edges', 'sigmoid', [0, 0, 0, 40, -40, 1], [1, 0, 0, 1, 0, 1], 'dense', options={'calibrationBins': 2})
    add('binary/one-kind', 'sigmoid', [0.5, -0.25, 1], [0, 0, 0], 'dense')
    add('large/binary', 'sigmoid', G('logits', 4018, shape=[1024], scale=4), G('binary', 4019, shape=[1024], p=0.3), 'dense')
    add('large/binary/thresholds-100', 'sigmoid', G('logits', 4018, shape=[1024], scale=4), G('binary', 4019, shape=[1024], p=0.3), 'dense',
        options={'thresholds': 100})
    return out


def fingerprints(cases):
    found = {}

    def walk(v):
        if isinstance(v, dict):
            if set(v) == {'$gen'}:
                found[json.dumps(v['$gen'], sort_keys=True)] = v['$gen']
            else:
                for a in v.values():
                    walk(a)
        elif isinstance(v, list):
            for a in v:
                walk(a)
    for c in cases:
        walk(c['request'])
    out = []
    for key in sorted(found):
        vals = flat_values(gen_cached(found[key]))
        out.append({'$gen': found[key], 'count': len(vals), 'fnv1a': fnv1a(vals, found[key]['kind'] in ('index', 'binary'))})
    return out


def check_linspace():
    """The TS emulation of torch.linspace (src/evaluation/bins.ts), redone in Python for every steps."""
    import numpy as np

    def fr(v):
        return float(np.float32(v))
    for steps in range(2, 10002):
        step, half = fr(1 / (steps - 1)), steps // 2
        at = (lambda i: fr(step * i) if i < half else fr(1 - step * (steps - i - 1)))
        out, i = [0.0] * steps, 0
        while i <= steps - 16:
            for b in (i, i + 8):
                base = at(b)
                for j in range(8):
                    out[b + j] = fr(base + fr(j * step))
            i += 16
        for i in range(i, steps):
            out[i] = at(i)
        assert out == linspace32(steps), steps
    print('linspace emulation equals torch.linspace for steps 2..10001')


def main():
    if '--check-linspace' in sys.argv[1:]:
        check_linspace()
    cases, edges = [], 0
    for name, req in specs():
        kind = 'multiclass' if req['activation'] == 'softmax' else 'binary' if not isinstance(materialize(req['logits'])[0], list) else 'multilabel'
        exp, on_edge = {'multiclass': multiclass_case, 'multilabel': multilabel_case, 'binary': binary_case}[kind](req)
        edges += on_edge
        cases.append({'name': name, 'kind': kind, 'request': req, 'expected': exp, 'onBinEdge': on_edge})
    doc = {'generator': 'test/golden/generate_metrics.py', 'torch': torch.__version__, 'torchmetrics': torchmetrics.__version__,
           'linspace': {str(s): linspace32(s) for s in LINSPACE_VALUES},
           'linspaceFnv1a': {str(s): fnv1a(linspace32(s), False) for s in LINSPACE_PRINTS}, 'gens': fingerprints(cases), 'cases': cases}
    path = os.path.join(HERE, 'metrics.json')
    with open(path, 'w') as fh:
        fh.write('{\n' + ',\n'.join(f' {json.dumps(k)}: ' + (
            '[\n' + ',\n'.join('  ' + json.dumps(c, separators=(',', ':'), allow_nan=False) for c in v) + '\n ]'
            if k == 'cases' else json.dumps(v, separators=(',', ':'))) for k, v in doc.items()) + '\n}\n')
    kinds = {}
    for c in cases:
        kinds[c['kind']] = kinds.get(c['kind'], 0) + 1
    print(f'metrics.json: {len(cases)} cases {kinds}, {edges} confidences exactly on a bin boundary, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
