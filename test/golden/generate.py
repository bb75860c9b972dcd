#!/usr/bin/python3
"""Golden request/expected pairs for POST /loss/ce and POST /loss/focal.

Covers every mode of the API (see test/golden/README.md): cross-entropy with softmax (class-index
labels with weight / ignoreIndex / label smoothing incl. the pytorch#104776 weight quirk,
probability labels, all rows ignored, C = 1, 2, 400, N = 1, 1024, logits up to +-1e4), cross-entropy
with sigmoid (dense binary/soft targets, 1-D logits, weight, posWeight, smoothing, one-hot index
labels with ignored rows), sigmoid focal loss (gamma 0/0.5/2/5, alpha 0.25/null/per-class, soft and
index targets, smoothing, 1-D), softmax focal loss (Keras formula; alpha scalar/null/vector, ignore,
probability labels, smoothing), identity pairs (focal gamma=0 alpha=null == ce on the same inputs),
and, in temporal.json, [N][C][T] logits with [N][T] labels.

analysis.json covers the analysis options of /loss/ce and /loss/focal (breakdown -> perClass,
hardest -> the k hardest rows, classBalance -> Cui et al. class-balanced weights, echoed as
classWeights) and POST /loss/compare (both losses of one batch); see analysis_specs() and the
definitions above it, and README.md.

Reference values are computed in float64 with the real reference functions
(torch.nn.functional.cross_entropy, binary_cross_entropy_with_logits,
torchvision.ops.sigmoid_focal_loss) or, where no library function exists (per-class alpha in the
sigmoid focal loss, the Keras softmax focal loss), with the same formula written in float64 torch ops.
"sum" is math.fsum of the float64 per-row/per-element losses and a "mean" loss is sum / normalizer;
both are asserted to agree with torch's own reduction to 1e-12. Every input is float32-representable.

The same calls are repeated on float32 tensors; the largest float32-vs-float64 errors are printed
(README.md quotes them) but not stored.

Large inputs are stored as {"$gen": {...}} placeholders expanded by a mulberry32 PRNG; inputs.ts
is the TypeScript twin of gen() below and must stay bit-identical (test/unit/golden-inputs.test.ts checks it).

Run (PyTorch 1.13 / torchvision 0.14 from Debian, hence /usr/bin/python3):
    /usr/bin/python3 test/golden/generate.py            # writes cases.json, temporal.json, analysis.json
    /usr/bin/python3 test/golden/generate.py --verify   # also checks small cases against mpmath (50 digits)
Output is deterministic: rerunning gives byte-identical files.
"""
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import sigmoid_focal_loss

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
M32 = 0xFFFFFFFF
REDS = ('mean', 'sum', 'none')
SUMMARY_OVER = 256        # reduction "none" outputs with more values than this are summarised
F64, F32 = torch.float64, torch.float32


# ----------------------------------------------------------------------------------------------
# PRNG and $gen placeholders (mirror of inputs.ts)

class Mulberry32:
    def __init__(self, seed):
        self.state = seed & M32

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & M32
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296


def fround(x):
    return float(np.float32(x))


def ipow(u, k):
    """u**k by repeated multiplication, left to right (bit-identical in JS; pow() is not)."""
    p = u
    for _ in range(k - 1):
        p *= u
    return p


def nest(flat, shape):
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def gen(spec):
    kind, rng = spec['kind'], Mulberry32(spec['seed'])
    if kind == 'index':
        n, classes = spec['n'], spec['classes']
        shape = [n] if spec.get('t') is None else [n, spec['t']]
        tail, every = spec.get('longTail', 1), spec.get('ignoreEvery', 0)
        ignore = spec.get('ignoreValue', -100)
        flat = []
        for i in range(prod(shape)):
            label = math.floor(classes * ipow(rng.next(), tail))
            flat.append(ignore if every > 0 and i % every == every - 1 else label)
        return nest(flat, shape)
    shape = spec['shape']
    count = prod(shape)
    if kind == 'logits':
        scale = spec['scale']
        flat = [fround(scale * (2 * rng.next() - 1)) for _ in range(count)]
    elif kind == 'targets':
        flat = [fround(rng.next()) for _ in range(count)]
    elif kind == 'binary':
        p = spec.get('p', 0.5)
        flat = [1 if rng.next() < p else 0 for _ in range(count)]
    elif kind == 'uniform':
        low, high = spec['low'], spec['high']
        flat = [fround(low + (high - low) * rng.next()) for _ in range(count)]
    elif kind == 'probs':
        power, c = spec.get('power', 1), shape[-1]
        flat = []
        for _ in range(count // c):
            v = [fround(ipow(1 - rng.next(), power)) for _ in range(c)]
            s = 0.0
            for a in v:
                s += a
            flat.extend(fround(a / s) for a in v)
    else:
        raise ValueError(kind)
    return nest(flat, shape)


_GEN_CACHE = {}


def gen_cached(spec):
    key = json.dumps(spec, sort_keys=True)
    if key not in _GEN_CACHE:
        _GEN_CACHE[key] = gen(spec)
    return _GEN_CACHE[key]


def materialize(v):
    if isinstance(v, dict):
        if set(v) == {'$gen'}:
            return gen_cached(v['$gen'])
        return {k: materialize(a) for k, a in v.items()}
    if isinstance(v, list):
        return [materialize(a) for a in v]
    return v


def flat_values(v):
    if isinstance(v, list):
        out = []
        for a in v:
            out.extend(flat_values(a))
        return out
    return [v]


def fnv1a(values, integer):
    """FNV-1a over 32-bit patterns: two's complement if integer (index, binary), else float32 bits."""
    h = 0x811C9DC5
    for v in values:
        bits = v & M32 if integer else struct.unpack('<I', struct.pack('<f', v))[0]
        h = ((h ^ bits) * 16777619) & M32
    return h


def G(kind, seed, **kw):
    return {'$gen': {'kind': kind, 'seed': seed, **kw}}


# ----------------------------------------------------------------------------------------------
# Small explicit inputs: short, exactly representable numbers, seeded by the case name

def rng_for(name, tag):
    return Mulberry32(zlib.crc32(f'{name}#{tag}'.encode()))


def qlogits(name, shape, scale, q=16, tag='x'):
    """Multiples of scale/q in [-scale, scale] (exact in float32 and short in JSON)."""
    r = rng_for(name, tag)
    return nest([scale * round((2 * r.next() - 1) * q) / q for _ in range(prod(shape))], shape)


def qtargets(name, shape, q=16, tag='t'):
    r = rng_for(name, tag)
    return nest([round(r.next() * q) / q for _ in range(prod(shape))], shape)


def qbinary(name, shape, p=0.5, tag='b'):
    r = rng_for(name, tag)
    return nest([1 if r.next() < p else 0 for _ in range(prod(shape))], shape)


def qlabels(name, n, classes, tag='y', ignore=(), ignore_value=-100):
    r = rng_for(name, tag)
    ys = [math.floor(classes * r.next()) for _ in range(n)]
    for i in ignore:
        ys[i] = ignore_value
    return ys


def qprobs(name, shape, power=2, tag='p'):
    return gen({'kind': 'probs', 'seed': zlib.crc32(f'{name}#{tag}'.encode()), 'shape': shape,
                'power': power})


# ----------------------------------------------------------------------------------------------
# Reference computations. Each returns ({'none','sum','mean'} tensors, normalizer, reference text).

def T(v, dt):
    return torch.tensor(v, dtype=dt)


def is_index(x, labels):
    return np.asarray(labels).ndim == x.dim() - 1


def check_index(y, ii, classes):
    bad = (y != ii) & ((y < 0) | (y >= classes))
    assert not bool(bad.any()), 'label outside [0, C) that is not ignoreIndex'


def opt_vec(req, key, dt):
    v = req.get(key)
    return None if v is None else T(v, dt)


def ce_softmax(req, dt):
    x = T(req['logits'], dt)
    C = x.shape[1]
    w = opt_vec(req, 'weight', dt)
    eps = float(req.get('labelSmoothing', 0.0))
    kw = ', weight=w' if w is not None else ''
    if is_index(x, req['labels']):
        ii = int(req.get('ignoreIndex', -100))
        y = torch.tensor(req['labels'], dtype=torch.long)
        check_index(y, ii, C)
        outs = {r: F.cross_entropy(x, y, weight=w, ignore_index=ii, reduction=r, label_smoothing=eps)
                for r in REDS}
        mask = y != ii
        norm = float(mask.sum()) if w is None else math.fsum(w.double()[y[mask]].tolist())
        ref = f'F.cross_entropy(x, y{kw}, ignore_index={ii}, label_smoothing={eps}, reduction=R)'
    else:
        t = T(req['labels'], dt)
        outs = {r: F.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=eps) for r in REDS}
        norm = float(x.numel() // C)
        ref = f'F.cross_entropy(x, probs{kw}, label_smoothing={eps}, reduction=R)'
    return outs, norm, ref


def sigmoid_targets(req, x, dt):
    """(kept logits, targets incl. smoothing, kept-row mask or None, text)."""
    eps = float(req.get('labelSmoothing', 0.0))
    if is_index(x, req['labels']):
        assert x.dim() == 2
        ii = int(req.get('ignoreIndex', -100))
        y = torch.tensor(req['labels'], dtype=torch.long)
        check_index(y, ii, x.shape[1])
        mask = y != ii
        xk, t = x[mask], F.one_hot(y[mask], x.shape[1]).to(dt)
        text = f'x[y != {ii}], one_hot(y[y != {ii}], C)'
    else:
        mask, xk, t, text = None, x, T(req['labels'], dt), 'x, t'
    if eps:
        t = t * (1 - eps) + eps / 2
        text += f' * (1 - {eps}) + {eps}/2'
    return xk, t, mask, text


def scatter_rows(x, mask, vals):
    if mask is None:
        return vals
    out = torch.zeros_like(x)
    out[mask] = vals
    return out


def ce_sigmoid(req, dt):
    x = T(req['logits'], dt)
    w, pw = opt_vec(req, 'weight', dt), opt_vec(req, 'posWeight', dt)
    assert x.dim() == 2 or (w is None and pw is None)
    xk, t, mask, text = sigmoid_targets(req, x, dt)
    outs = {r: F.binary_cross_entropy_with_logits(xk, t, weight=w, pos_weight=pw, reduction=r)
            for r in REDS}
    outs['none'] = scatter_rows(x, mask, outs['none'])
    kw = (', weight=w' if w is not None else '') + (', pos_weight=pw' if pw is not None else '')
    ref = f'F.binary_cross_entropy_with_logits({text}{kw}, reduction=R)'
    return outs, float(xk.numel()), ref


def parse_focal(req):
    gamma = float(req.get('gamma', 2.0))
    alpha = req['alpha'] if 'alpha' in req else 0.25
    return gamma, alpha


def focal_sigmoid_formula(x, t, a, gamma):
    """torchvision.ops.sigmoid_focal_loss line by line, alpha a tensor broadcast over the last dim."""
    p = torch.sigmoid(x)
    ce_loss = F.binary_cross_entropy_with_logits(x, t, reduction='none')
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce_loss * ((1 - p_t) ** gamma)
    alpha_t = a * t + (1 - a) * (1 - t)
    return alpha_t * loss


def focal_sigmoid(req, dt):
    x = T(req['logits'], dt)
    gamma, alpha = parse_focal(req)
    xk, t, mask, text = sigmoid_targets(req, x, dt)
    if isinstance(alpha, list):
        assert x.dim() == 2
        a = T(alpha, dt)
        none = focal_sigmoid_formula(xk, t, a, gamma)
        outs = {'none': none, 'sum': none.sum(), 'mean': none.mean()}
        ref = (f'torchvision sigmoid_focal_loss formula ({text}, gamma={gamma}) with per-class '
               'alpha_t = a[c]*t + (1-a[c])*(1-t)')
    else:
        a = -1 if alpha is None else float(alpha)
        outs = {r: sigmoid_focal_loss(xk, t, alpha=a, gamma=gamma, reduction=r) for r in REDS}
        if dt == F64 and a >= 0:   # the formula used for vectors reproduces torchvision exactly
            mine = focal_sigmoid_formula(xk, t, torch.full((), a, dtype=dt), gamma)
            assert torch.equal(mine, outs['none'])
        ref = f'torchvision.ops.sigmoid_focal_loss({text}, alpha={a}, gamma={gamma}, reduction=R)'
    outs['none'] = scatter_rows(x, mask, outs['none'])
    return outs, float(xk.numel()), ref


def focal_softmax(req, dt):
    x = T(req['logits'], dt)
    C = x.shape[1]
    gamma, alpha = parse_focal(req)
    eps = float(req.get('labelSmoothing', 0.0))
    lp = F.log_softmax(x, dim=1)
    one_minus_p = -torch.expm1(lp)
    if is_index(x, req['labels']):
        ii = int(req.get('ignoreIndex', -100))
        y = torch.tensor(req['labels'], dtype=torch.long)
        check_index(y, ii, C)
        mask = y != ii
        t = F.one_hot(torch.where(mask, y, 0), C).movedim(-1, 1).to(dt)
        norm = float(mask.sum())
        what = f'one_hot(y), rows with y == {ii} dropped'
    else:
        mask, t, norm = None, T(req['labels'], dt), float(x.numel() // C)
        what = 'probs'
    if eps:
        t = t * (1 - eps) + eps / C
    if mask is not None:
        t = t * mask.unsqueeze(1).to(dt)
    elem = t * one_minus_p ** gamma * -lp
    if alpha is not None:
        a = T(alpha, dt) if isinstance(alpha, list) else torch.full((C,), float(alpha), dtype=dt)
        elem = a.view([1, C] + [1] * (x.dim() - 2)) * elem
    none = elem.sum(dim=1)
    s = none.sum()
    outs = {'none': none, 'sum': s, 'mean': s / norm if norm else torch.tensor(math.nan, dtype=dt)}
    ref = (f'Keras CategoricalFocalCrossentropy(from_logits=True) without clipping, torch ops: '
           f'sum_c a_c t_c (-expm1(log_softmax(x)))^{gamma} (-log_softmax(x)); t = {what}, '
           f'smoothed t(1-{eps})+{eps}/C; alpha={alpha if not isinstance(alpha, list) else "a[c]"}')
    return outs, norm, ref


def compute(endpoint, req, dt):
    act = req.get('activation', 'softmax')
    if endpoint == 'ce':
        return ce_softmax(req, dt) if act == 'softmax' else ce_sigmoid(req, dt)
    return focal_softmax(req, dt) if act == 'softmax' else focal_sigmoid(req, dt)


# ----------------------------------------------------------------------------------------------
# mpmath cross-check of the float64 references (--verify), straight from the definitions

def mp_verify(endpoint, req, per64):
    import mpmath as mp
    mp.mp.dps = 50
    x = np.asarray(req['logits'], dtype=np.float64)
    act = req.get('activation', 'softmax')
    eps = mp.mpf(req.get('labelSmoothing', 0.0))
    gamma, alpha = parse_focal(req)
    gamma = mp.mpf(gamma)
    ii = req.get('ignoreIndex', -100)
    got = per64.numpy()
    labels = np.asarray(req['labels'])
    if act == 'softmax':
        C = x.shape[1]
        rows = np.moveaxis(x, 1, -1).reshape(-1, C)
        index = labels.ndim == x.ndim - 1
        tg = labels.reshape(-1) if index else np.moveaxis(labels, 1, -1).reshape(-1, C)
        w = req.get('weight') or [1.0] * C
        if alpha is None:
            av = [1] * C
        else:
            av = alpha if isinstance(alpha, list) else [alpha] * C
        want = []
        for r, row in enumerate(rows):
            v = [mp.mpf(float(a)) for a in row]
            m = max(v)
            lse = m + mp.log(mp.fsum(mp.exp(a - m) for a in v))
            lp = [a - lse for a in v]
            if index and int(tg[r]) == ii:
                want.append(mp.mpf(0))
                continue
            if index:
                t = [mp.mpf(1 if c == int(tg[r]) else 0) for c in range(C)]
            else:
                t = [mp.mpf(float(a)) for a in tg[r]]
            if endpoint == 'ce' and index:
                y = int(tg[r])
                want.append((1 - eps) * -w[y] * lp[y] - eps / C * mp.fsum(w[c] * lp[c] for c in range(C)))
                continue
            ts = [a * (1 - eps) + eps / C for a in t]
            if endpoint == 'ce':
                want.append(-mp.fsum(w[c] * ts[c] * lp[c] for c in range(C)))
            else:
                want.append(mp.fsum(mp.mpf(av[c]) * ts[c] * (-mp.expm1(lp[c])) ** gamma * -lp[c]
                                    for c in range(C)))
        want = np.array([float(a) for a in want]).reshape(got.shape)
    else:
        C = x.shape[-1] if x.ndim == 2 else 1
        if labels.ndim == x.ndim - 1:
            dense = np.zeros_like(x)
            keep = labels != ii
            dense[keep, labels[keep]] = 1
        else:
            dense, keep = labels.astype(np.float64), None
        w = req.get('weight') or [1.0] * C
        pw = req.get('posWeight') or [1.0] * C
        flat_x, flat_t = x.reshape(-1), dense.reshape(-1)
        want = []
        for k in range(flat_x.size):
            if keep is not None and not keep[k // C]:
                want.append(mp.mpf(0))
                continue
            c = k % C
            xv = mp.mpf(float(flat_x[k]))
            t = mp.mpf(float(flat_t[k])) * (1 - eps) + eps / 2
            log_p, log_q = -mp.log1p(mp.exp(-xv)), -mp.log1p(mp.exp(xv))
            if endpoint == 'ce':
                want.append(-w[c] * (pw[c] * t * log_p + (1 - t) * log_q))
                continue
            p, q = mp.exp(log_p), mp.exp(log_q)
            loss = -(t * log_p + (1 - t) * log_q) * (q * t + p * (1 - t)) ** gamma
            if alpha is not None:
                a = mp.mpf(alpha[c] if isinstance(alpha, list) else alpha)
                loss *= a * t + (1 - a) * (1 - t)
            want.append(loss)
        want = np.array([float(a) for a in want]).reshape(got.shape)
    err = np.abs(got - want) / np.maximum(np.abs(want), 1.0)
    return float(err.max()) if err.size else 0.0


# ----------------------------------------------------------------------------------------------
# Expected values

def clean(v):
    if isinstance(v, list):
        return [clean(a) for a in v]
    v = float(v)
    assert math.isfinite(v), v
    return 0.0 if v == 0 else v


def close(a, b, tol=1e-12):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-300) or a == b


def summarize(per):
    flat = per.reshape(-1).tolist()
    n = len(flat)
    idx = sorted({(k * (n - 1)) // 15 for k in range(16)})
    return {'$summary': {'count': n, 'shape': list(per.shape), 'sum': clean(math.fsum(flat)),
                         'sumAbs': clean(math.fsum(abs(a) for a in flat)), 'max': clean(max(flat)),
                         'sample': [[i, clean(flat[i])] for i in idx]}}


class Stats:
    def __init__(self):
        self.scalar = {}    # group -> (max rel err, case)
        self.elem = {}      # group -> (max err/max(|ref|,1), case)
        self.elem_rel = {}  # group -> (max rel err where |ref| >= 1e-3, case)
        self.atol = {}      # group -> (max(|d| - 1e-6*|ref|) over none elements, case)
        self.mp = (0.0, '')

    @staticmethod
    def _bump(d, group, val, name):
        for g in (group, 'all'):
            if val > d.get(g, (-1.0, ''))[0]:
                d[g] = (val, name)

    def add(self, group, name, red, outs32, per64, loss64, sum64):
        s32 = float(outs32['sum'])
        self._bump(self.scalar, group, abs(s32 - sum64) / abs(sum64) if sum64 else abs(s32), name)
        if red == 'mean' and loss64 is not None:
            m32 = float(outs32['mean'])
            self._bump(self.scalar, group, abs(m32 - loss64) / abs(loss64) if loss64 else abs(m32), name)
        if red == 'none':
            a, b = outs32['none'].double().numpy(), per64.numpy()
            d = np.abs(a - b)
            self._bump(self.elem, group, float((d / np.maximum(np.abs(b), 1.0)).max()), name)
            self._bump(self.atol, group, float((d - 1e-6 * np.abs(b)).max()), name)
            big = np.abs(b) >= 1e-3
            if big.any():
                self._bump(self.elem_rel, group, float((d[big] / np.abs(b[big])).max()), name)


def build(specs, stats, verify):
    cases, names = [], set()
    for name, endpoint, request in specs:
        assert name not in names, name
        names.add(name)
        req = materialize(request)
        red = req.get('reduction', 'mean')
        outs, norm, ref = compute(endpoint, req, F64)
        per = outs['none']
        flat = per.reshape(-1).tolist()
        s = math.fsum(flat)
        assert close(s, float(outs['sum']), 1e-11) or abs(s - float(outs['sum'])) < 1e-300, (name, s)
        if red == 'mean':
            if norm == 0:
                assert math.isnan(float(outs['mean'])) and s == 0, name
                loss = None
            else:
                loss = s / norm
                assert close(loss, float(outs['mean']), 1e-11), (name, loss, float(outs['mean']))
        elif red == 'sum':
            loss = s
        else:
            loss = summarize(per) if per.numel() > SUMMARY_OVER else clean(per.tolist())
        act = req.get('activation', 'softmax')
        outs32, _, _ = compute(endpoint, req, F32)
        stats.add(f'{endpoint}/{act}', name, red, outs32, per, loss if red == 'mean' else s, s)
        if verify and np.asarray(req['logits']).size <= 20000:
            err = mp_verify(endpoint, req, per)
            if err > stats.mp[0]:
                stats.mp = (err, name)
        cases.append({'name': name, 'endpoint': endpoint, 'request': request,
                      'expected': {'loss': clean(loss) if isinstance(loss, float) else loss,
                                   'sum': clean(s), 'normalizer': clean(norm)},
                      'reference': ref.replace('reduction=R', f"reduction='{red}'") + ', float64'})
    return cases


# ----------------------------------------------------------------------------------------------
# The cases

REDS3 = ('mean', 'sum', 'none')


def spec_adder(out, full=None):
    """add(name, ...) appends one case per reduction (None = field omitted, i.e. the default mean).
    Without explicit reductions a case gets all three if `full` is None or holds its name, else
    mean + none (expected.sum and .normalizer are stored for every case, so "sum" adds little)."""
    def add(name, endpoint, request, reds=None):
        if reds is None:
            reds = REDS3 if full is None or name in full else ('mean', 'none')
        for r in reds:
            body = dict(request)
            if r is not None:
                body['reduction'] = r
            out.append((f'{name}/{r or "default-mean"}', endpoint, body))
    return add


def main_specs():
    specs = []
    add = spec_adder(specs, full={
        'ce/softmax/index/weight', 'ce/softmax/index/ignore-default-weight',
        'ce/softmax/index/smoothing-weight-quirk', 'ce/softmax/probs/basic', 'ce/softmax/index/all-ignored',
        'ce/softmax/extreme/1e3/index', 'ce/softmax/large/index', 'ce/sigmoid/dense/binary',
        'ce/sigmoid/dense/weight-pos-weight', 'ce/sigmoid/index/ignore', 'ce/sigmoid/1d/binary',
        'ce/sigmoid/index/all-ignored', 'ce/sigmoid/large/binary-sparse', 'focal/sigmoid/binary/alpha-vector',
        'focal/sigmoid/index/ignore', 'focal/sigmoid/large/binary-sparse', 'focal/softmax/index/alpha-vector',
        'focal/softmax/index/ignore', 'focal/softmax/index/all-ignored', 'focal/softmax/large/index'})
    W5 = [1.0, 0.5, 2.0, 0.25, 1.5]
    BIG_N, BIG_C = 1024, 400

    # ---- ce / softmax ------------------------------------------------------------------------
    S = 'ce/softmax'
    n = f'{S}/index/basic'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5)}, (None,) + REDS3)
    n = f'{S}/index/n1'
    add(n, 'ce', {'logits': qlogits(n, [1, 3], 4), 'labels': [2], 'activation': 'softmax'})
    n = f'{S}/index/c2'
    add(n, 'ce', {'logits': qlogits(n, [6, 2], 4), 'labels': qlabels(n, 6, 2)})
    n = f'{S}/index/c1'
    add(n, 'ce', {'logits': qlogits(n, [4, 1], 4), 'labels': [0, 0, 0, 0]}, ('mean', 'none'))
    n = f'{S}/index/weight'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5), 'weight': W5})
    n = f'{S}/index/weight-with-zeros'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': [0, 1, 2, 3, 4, 0, 1, 2],
                  'weight': [0.0, 1.0, 0.0, 2.0, 0.5]}, ('mean',))
    n = f'{S}/index/weight-zero-on-every-target'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4), 'labels': [0, 2, 0, 2], 'weight': [0.0, 1.5, 0.0]},
        ('mean', 'sum'))
    n = f'{S}/index/ignore-default'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(1, 6))})
    n = f'{S}/index/ignore-default-weight'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(0, 3)),
                  'weight': W5})
    n = f'{S}/index/ignore-explicit--100'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(2,)),
                  'ignoreIndex': -100}, ('mean',))
    n = f'{S}/index/ignore-custom-3-in-range'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': [3, 0, 3, 1, 4, 2, 3, 4],
                  'ignoreIndex': 3})
    n = f'{S}/index/ignore-custom-3-weight'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': [3, 0, 3, 1, 4, 2, 3, 4],
                  'ignoreIndex': 3, 'weight': W5}, ('mean',))
    n = f'{S}/index/ignore-255'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4),
                  'labels': qlabels(n, 6, 4, ignore=(1, 4), ignore_value=255), 'ignoreIndex': 255},
        ('mean', 'none'))
    n = f'{S}/index/smoothing'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5), 'labelSmoothing': 0.125})
    n = f'{S}/index/smoothing-0.1'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5), 'labelSmoothing': 0.1},
        ('mean',))
    n = f'{S}/index/smoothing-weight-quirk'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5), 'labelSmoothing': 0.25,
                  'weight': W5})
    n = f'{S}/index/smoothing-weight-ignore'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(2, 5)),
                  'labelSmoothing': 0.125, 'weight': W5})
    n = f'{S}/index/smoothing-ignore-custom-3'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': [3, 0, 3, 1, 4, 2, 3, 4],
                  'ignoreIndex': 3, 'labelSmoothing': 0.25}, ('mean', 'none'))
    n = f'{S}/index/smoothing-1'
    add(n, 'ce', {'logits': qlogits(n, [5, 4], 4), 'labels': qlabels(n, 5, 4), 'labelSmoothing': 1.0},
        ('mean', 'none'))
    n = f'{S}/index/smoothing-c1'
    add(n, 'ce', {'logits': qlogits(n, [3, 1], 4), 'labels': [0, 0, 0], 'labelSmoothing': 0.25},
        ('mean',))
    n = f'{S}/index/all-ignored'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4), 'labels': [-100] * 4})
    n = f'{S}/index/all-ignored-weight'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4), 'labels': [-100] * 4, 'weight': [1.0, 2.0, 0.5]},
        ('mean',))
    n = f'{S}/index/all-ignored-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4), 'labels': [-100] * 4, 'labelSmoothing': 0.125},
        ('mean', 'none'))
    n = f'{S}/probs/basic'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4])})
    n = f'{S}/probs/weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 5], 4), 'labels': qprobs(n, [6, 5]), 'weight': W5})
    n = f'{S}/probs/smoothing'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), 'labelSmoothing': 0.125})
    n = f'{S}/probs/weight-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [6, 5], 4), 'labels': qprobs(n, [6, 5]), 'labelSmoothing': 0.25,
                  'weight': W5}, ('mean', 'none'))
    n = f'{S}/probs/one-hot'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4),
                  'labels': [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]},
        ('mean',))
    n = f'{S}/probs/n1-c1'
    add(n, 'ce', {'logits': [[2.5]], 'labels': [[1.0]]}, ('mean',))
    n = f'{S}/extreme/1e3/index'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 1000, q=8), 'labels': qlabels(n, 6, 4)})
    n = f'{S}/extreme/1e3/index-smoothing-weight-ignore'
    add(n, 'ce', {'logits': qlogits(n, [6, 5], 1000, q=8), 'labels': qlabels(n, 6, 5, ignore=(4,)),
                  'labelSmoothing': 0.125, 'weight': W5}, ('mean', 'none'))
    n = f'{S}/extreme/1e3/probs'
    add(n, 'ce', {'logits': qlogits(n, [4, 4], 1000, q=8), 'labels': qprobs(n, [4, 4])}, ('mean', 'none'))
    n = f'{S}/extreme/1e4/index'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 10000, q=8), 'labels': qlabels(n, 6, 4)}, ('mean', 'none'))
    n = f'{S}/extreme/1e4/index-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 10000, q=8), 'labels': qlabels(n, 6, 4),
                  'labelSmoothing': 0.125}, ('mean',))
    L = f'{S}/large'
    add(f'{L}/index', 'ce', {'logits': G('logits', 101, shape=[BIG_N, BIG_C], scale=8),
                             'labels': G('index', 102, n=BIG_N, classes=BIG_C, longTail=3)})
    add(f'{L}/index-weight-ignore', 'ce', {
        'logits': G('logits', 103, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 104, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=7),
        'weight': G('uniform', 105, shape=[BIG_C], low=0.25, high=4)})
    add(f'{L}/index-smoothing-weight-ignore', 'ce', {
        'logits': G('logits', 106, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 107, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=5),
        'weight': G('uniform', 108, shape=[BIG_C], low=0.25, high=4), 'labelSmoothing': 0.1},
        ('mean', 'none'))
    add(f'{L}/probs', 'ce', {'logits': G('logits', 109, shape=[BIG_N, BIG_C], scale=8),
                             'labels': G('probs', 110, shape=[BIG_N, BIG_C], power=4)}, ('mean', 'none'))
    add(f'{L}/probs-weight-smoothing', 'ce', {
        'logits': G('logits', 111, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('probs', 112, shape=[BIG_N, BIG_C]),
        'weight': G('uniform', 113, shape=[BIG_C], low=0, high=2), 'labelSmoothing': 0.2}, ('mean',))
    add(f'{L}/c2', 'ce', {'logits': G('logits', 114, shape=[BIG_N, 2], scale=8),
                          'labels': G('index', 115, n=BIG_N, classes=2)}, ('mean',))
    add(f'{L}/n1-c400', 'ce', {'logits': G('logits', 116, shape=[1, BIG_C], scale=8), 'labels': [17]},
        ('mean', 'none'))
    add(f'{L}/extreme-1e3', 'ce', {'logits': G('logits', 117, shape=[BIG_N, BIG_C], scale=1000),
                                   'labels': G('index', 118, n=BIG_N, classes=BIG_C, longTail=3)},
        ('mean',))

    # ---- ce / sigmoid ------------------------------------------------------------------------
    S = 'ce/sigmoid'
    sig = {'activation': 'sigmoid'}
    n = f'{S}/dense/binary'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), **sig})
    n = f'{S}/dense/soft'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]), **sig})
    n = f'{S}/dense/n1'
    add(n, 'ce', {'logits': qlogits(n, [1, 5], 4), 'labels': [[0, 1, 0, 0, 1]], **sig}, ('mean',))
    n = f'{S}/dense/c1'
    add(n, 'ce', {'logits': qlogits(n, [5, 1], 4), 'labels': qbinary(n, [5, 1]), **sig}, ('mean', 'none'))
    n = f'{S}/1d/binary'
    add(n, 'ce', {'logits': qlogits(n, [8], 4), 'labels': qbinary(n, [8]), **sig})
    n = f'{S}/1d/soft-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [8], 4), 'labels': qtargets(n, [8]), 'labelSmoothing': 0.125,
                  **sig}, ('mean', 'none'))
    n = f'{S}/dense/weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]),
                  'weight': [1.0, 0.5, 2.0, 0.0], **sig})
    n = f'{S}/dense/pos-weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]),
                  'posWeight': [3.0, 1.0, 0.5, 10.0], **sig})
    n = f'{S}/dense/weight-pos-weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]),
                  'weight': [1.0, 0.5, 2.0, 0.25], 'posWeight': [3.0, 1.0, 0.5, 10.0], **sig})
    n = f'{S}/dense/smoothing'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'labelSmoothing': 0.125,
                  **sig})
    n = f'{S}/dense/smoothing-weight-pos-weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'labelSmoothing': 0.1,
                  'weight': [1.0, 0.5, 2.0, 0.25], 'posWeight': [3.0, 1.0, 0.5, 10.0], **sig}, ('mean',))
    n = f'{S}/index/no-ignore'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4), **sig}, ('mean', 'none'))
    n = f'{S}/index/ignore'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(1, 4)), **sig})
    n = f'{S}/index/ignore-custom-2'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': [2, 0, 2, 3, 1, 0], 'ignoreIndex': 2, **sig},
        ('mean', 'none'))
    n = f'{S}/index/smoothing-weight-pos-weight-ignore'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(3,)),
                  'labelSmoothing': 0.125, 'weight': [1.0, 0.5, 2.0, 0.25],
                  'posWeight': [3.0, 1.0, 0.5, 10.0], **sig}, ('mean', 'none'))
    n = f'{S}/index/all-ignored'
    add(n, 'ce', {'logits': qlogits(n, [3, 4], 4), 'labels': [-100] * 3, **sig})
    n = f'{S}/extreme/1e3/binary'
    add(n, 'ce', {'logits': qlogits(n, [4, 4], 1000, q=8), 'labels': qbinary(n, [4, 4]), **sig})
    n = f'{S}/extreme/1e3/soft-pos-weight'
    add(n, 'ce', {'logits': qlogits(n, [4, 4], 1000, q=8), 'labels': qtargets(n, [4, 4]),
                  'posWeight': [3.0, 1.0, 0.5, 10.0], **sig}, ('mean', 'none'))
    n = f'{S}/extreme/1e4/binary'
    add(n, 'ce', {'logits': qlogits(n, [4, 4], 10000, q=8), 'labels': qbinary(n, [4, 4]), **sig},
        ('mean', 'none'))
    n = f'{S}/extreme/1e4/1d-soft'
    add(n, 'ce', {'logits': qlogits(n, [6], 10000, q=8), 'labels': qtargets(n, [6]), **sig}, ('mean',))
    L = f'{S}/large'
    add(f'{L}/binary-sparse', 'ce', {'logits': G('logits', 201, shape=[BIG_N, BIG_C], scale=8),
                                     'labels': G('binary', 202, shape=[BIG_N, BIG_C], p=0.02), **sig})
    add(f'{L}/soft-weight-pos-weight', 'ce', {
        'logits': G('logits', 203, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('targets', 204, shape=[BIG_N, BIG_C]),
        'weight': G('uniform', 205, shape=[BIG_C], low=0, high=2),
        'posWeight': G('uniform', 206, shape=[BIG_C], low=0.5, high=20), **sig}, ('mean', 'sum'))
    add(f'{L}/index-ignore-smoothing', 'ce', {
        'logits': G('logits', 207, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 208, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=9),
        'labelSmoothing': 0.1, **sig}, ('mean', 'none'))
    add(f'{L}/1d', 'ce', {'logits': G('logits', 209, shape=[4096], scale=8),
                          'labels': G('binary', 210, shape=[4096], p=0.3), **sig}, ('mean', 'none'))

    # ---- focal / sigmoid ---------------------------------------------------------------------
    S = 'focal/sigmoid'
    for g, reds in ((0, ('mean',)), (0.5, ('mean', 'none')), (2, REDS3), (5, ('mean', 'none'))):
        n = f'{S}/binary/gamma-{g}'
        add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'gamma': g,
                         'alpha': 0.25, **sig}, reds)
    n = f'{S}/binary/defaults'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), **sig}, (None,))
    n = f'{S}/binary/alpha-null'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'alpha': None, **sig})
    n = f'{S}/binary/alpha-0.75-gamma-1.5'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'alpha': 0.75,
                     'gamma': 1.5, **sig}, ('mean',))
    n = f'{S}/binary/alpha-vector'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]),
                     'alpha': [0.25, 0.5, 0.75, 1.0], **sig})
    n = f'{S}/soft/gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]), 'gamma': 0.5, **sig})
    n = f'{S}/soft/gamma-2-alpha-vector'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]),
                     'alpha': [0.125, 0.25, 0.5, 0.0], **sig}, ('mean', 'none'))
    n = f'{S}/index/ignore'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(0, 4)), **sig})
    n = f'{S}/index/alpha-vector-ignore-custom'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': [1, 3, 0, 3, 2, 1], 'ignoreIndex': 3,
                     'alpha': [0.25, 0.5, 0.75, 1.0], 'gamma': 0.5, **sig}, ('mean', 'none'))
    n = f'{S}/index/all-ignored'
    add(n, 'focal', {'logits': qlogits(n, [3, 4], 4), 'labels': [-100] * 3, **sig}, ('mean', 'none'))
    n = f'{S}/smoothing'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]),
                     'labelSmoothing': 0.125, **sig})
    n = f'{S}/smoothing-alpha-vector-gamma-5'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]),
                     'labelSmoothing': 0.25, 'alpha': [0.25, 0.5, 0.75, 1.0], 'gamma': 5, **sig}, ('mean',))
    n = f'{S}/smoothing-index-alpha-null'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(5,)),
                     'labelSmoothing': 0.1, 'alpha': None, **sig}, ('mean', 'none'))
    n = f'{S}/1d/binary'
    add(n, 'focal', {'logits': qlogits(n, [8], 4), 'labels': qbinary(n, [8]), **sig})
    n = f'{S}/1d/soft-smoothing-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [8], 4), 'labels': qtargets(n, [8]), 'labelSmoothing': 0.125,
                     'gamma': 0.5, **sig}, ('mean',))
    n = f'{S}/extreme/1e3/binary'
    add(n, 'focal', {'logits': qlogits(n, [4, 4], 1000, q=8), 'labels': qbinary(n, [4, 4]), **sig})
    n = f'{S}/extreme/1e3/soft-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [4, 4], 1000, q=8), 'labels': qtargets(n, [4, 4]),
                     'gamma': 0.5, **sig}, ('mean', 'none'))
    n = f'{S}/extreme/1e4/soft-alpha-vector'
    add(n, 'focal', {'logits': qlogits(n, [4, 4], 10000, q=8), 'labels': qtargets(n, [4, 4]),
                     'alpha': [0.25, 0.5, 0.75, 1.0], **sig}, ('mean', 'none'))
    L = f'{S}/large'
    add(f'{L}/binary-sparse', 'focal', {'logits': G('logits', 301, shape=[BIG_N, BIG_C], scale=8),
                                        'labels': G('binary', 302, shape=[BIG_N, BIG_C], p=0.02), **sig})
    add(f'{L}/index-alpha-vector-ignore', 'focal', {
        'logits': G('logits', 303, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 304, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=6),
        'alpha': G('uniform', 305, shape=[BIG_C], low=0, high=1), **sig}, ('mean', 'none'))
    add(f'{L}/soft-gamma-0.5-smoothing', 'focal', {
        'logits': G('logits', 306, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('targets', 307, shape=[BIG_N, BIG_C]), 'gamma': 0.5, 'labelSmoothing': 0.1, **sig},
        ('mean',))

    # ---- focal / softmax ---------------------------------------------------------------------
    S = 'focal/softmax'
    sm = {'activation': 'softmax'}
    for g, reds in ((0, ('mean',)), (0.5, ('mean', 'none')), (2, REDS3)):
        n = f'{S}/index/gamma-{g}'
        add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5), 'gamma': g,
                         'alpha': 0.25, **sm}, reds)
    n = f'{S}/index/defaults'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5)}, (None,))
    n = f'{S}/index/alpha-null'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5), 'alpha': None, **sm})
    n = f'{S}/index/alpha-vector'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5),
                     'alpha': [0.25, 0.5, 1.0, 0.125, 0.75], **sm})
    n = f'{S}/index/ignore'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5, ignore=(1, 2)), **sm})
    n = f'{S}/index/ignore-custom-0-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': [0, 1, 0, 4, 2, 3], 'ignoreIndex': 0,
                     'gamma': 0.5, **sm}, ('mean', 'none'))
    n = f'{S}/index/all-ignored'
    add(n, 'focal', {'logits': qlogits(n, [3, 4], 4), 'labels': [-100] * 3, **sm})
    n = f'{S}/index/smoothing'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5), 'labelSmoothing': 0.125,
                     **sm})
    n = f'{S}/index/smoothing-alpha-vector-ignore'
    add(n, 'focal', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5, ignore=(3,)),
                     'labelSmoothing': 0.25, 'alpha': [0.25, 0.5, 1.0, 0.125, 0.75], 'gamma': 0.5, **sm},
        ('mean', 'none'))
    n = f'{S}/index/c1'
    add(n, 'focal', {'logits': qlogits(n, [4, 1], 4), 'labels': [0, 0, 0, 0], **sm}, ('mean', 'none'))
    n = f'{S}/index/c2'
    add(n, 'focal', {'logits': qlogits(n, [6, 2], 4), 'labels': qlabels(n, 6, 2), **sm})
    n = f'{S}/index/n1'
    add(n, 'focal', {'logits': qlogits(n, [1, 5], 4), 'labels': [3], 'gamma': 0.5, **sm}, ('mean', 'none'))
    n = f'{S}/probs/basic'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), **sm})
    n = f'{S}/probs/smoothing-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), 'labelSmoothing': 0.125,
                     'gamma': 0.5, **sm}, ('mean', 'none'))
    n = f'{S}/probs/alpha-vector'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]),
                     'alpha': [0.25, 0.5, 1.0, 0.75], **sm}, ('mean',))
    n = f'{S}/extreme/1e3/index'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 1000, q=8), 'labels': qlabels(n, 6, 4), **sm})
    n = f'{S}/extreme/1e3/probs-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [4, 4], 1000, q=8), 'labels': qprobs(n, [4, 4]), 'gamma': 0.5,
                     **sm}, ('mean', 'none'))
    n = f'{S}/extreme/1e4/index-smoothing'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 10000, q=8), 'labels': qlabels(n, 6, 4),
                     'labelSmoothing': 0.125, **sm}, ('mean', 'none'))
    L = f'{S}/large'
    add(f'{L}/index', 'focal', {'logits': G('logits', 401, shape=[BIG_N, BIG_C], scale=8),
                                'labels': G('index', 402, n=BIG_N, classes=BIG_C, longTail=3), **sm})
    add(f'{L}/index-alpha-vector-ignore', 'focal', {
        'logits': G('logits', 403, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 404, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=4),
        'alpha': G('uniform', 405, shape=[BIG_C], low=0, high=1), 'gamma': 0.5, **sm}, ('mean', 'none'))
    add(f'{L}/probs-smoothing', 'focal', {
        'logits': G('logits', 406, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('probs', 407, shape=[BIG_N, BIG_C], power=4), 'labelSmoothing': 0.1, **sm}, ('mean',))
    add(f'{L}/c2', 'focal', {'logits': G('logits', 408, shape=[BIG_N, 2], scale=8),
                             'labels': G('index', 409, n=BIG_N, classes=2), **sm}, ('mean',))
    add(f'{L}/n1-c400', 'focal', {'logits': G('logits', 410, shape=[1, BIG_C], scale=8), 'labels': [3],
                                  **sm}, ('mean',))

    # ---- identity pairs: focal(gamma=0, alpha=null) == ce, identical inputs -------------------
    def pair(group, request, reds=('mean', 'none')):
        add(f'identity/{group}/ce', 'ce', request, reds)
        add(f'identity/{group}/focal', 'focal', {**request, 'gamma': 0, 'alpha': None}, reds)

    n = 'identity/softmax/index'
    pair('softmax/index', {'logits': qlogits(n, [6, 5], 4), 'labels': qlabels(n, 6, 5)})
    n = 'identity/softmax/index-ignore-smoothing'
    pair('softmax/index-ignore-smoothing', {'logits': qlogits(n, [6, 5], 4),
                                            'labels': qlabels(n, 6, 5, ignore=(2,)),
                                            'labelSmoothing': 0.125, 'activation': 'softmax'})
    n = 'identity/softmax/probs'
    pair('softmax/probs', {'logits': qlogits(n, [5, 4], 4), 'labels': qprobs(n, [5, 4])}, ('mean',))
    n = 'identity/softmax/c2-extreme'
    pair('softmax/c2-extreme', {'logits': qlogits(n, [4, 2], 1000, q=8), 'labels': qlabels(n, 4, 2)},
         ('mean',))
    pair('softmax/large-index-ignore', {
        'logits': G('logits', 501, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 502, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=10)}, ('mean',))
    n = 'identity/sigmoid/binary'
    pair('sigmoid/binary', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), **sig})
    n = 'identity/sigmoid/soft-smoothing'
    pair('sigmoid/soft-smoothing', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]),
                                    'labelSmoothing': 0.125, **sig}, ('mean',))
    n = 'identity/sigmoid/index-ignore'
    pair('sigmoid/index-ignore', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(3,)),
                                  **sig})
    n = 'identity/sigmoid/1d'
    pair('sigmoid/1d', {'logits': qlogits(n, [8], 4), 'labels': qbinary(n, [8]), **sig}, ('mean',))
    pair('sigmoid/large-binary', {'logits': G('logits', 503, shape=[BIG_N, BIG_C], scale=8),
                                  'labels': G('binary', 504, shape=[BIG_N, BIG_C], p=0.05), **sig},
         ('mean',))
    return specs


def temporal_specs():
    specs = []
    add = spec_adder(specs)
    W4 = [1.0, 0.5, 2.0, 0.25]
    N, C, Tn = 3, 4, 5

    def x(name, scale=4):
        return qlogits(name, [N, C, Tn], scale)

    def y(name, ignore=(), value=-100):
        flat = qlabels(name, N * Tn, C, ignore=ignore, ignore_value=value)
        return nest(flat, [N, Tn])

    def p(name):   # [N][C][T] probabilities, normalised over C
        rows = qprobs(name, [N * Tn, C])
        return [[[rows[i * Tn + k][c] for k in range(Tn)] for c in range(C)] for i in range(N)]

    S = 'temporal/ce/softmax'
    n = f'{S}/index'
    add(n, 'ce', {'logits': x(n), 'labels': y(n)})
    n = f'{S}/index/weight'
    add(n, 'ce', {'logits': x(n), 'labels': y(n), 'weight': W4})
    n = f'{S}/index/ignore'
    add(n, 'ce', {'logits': x(n), 'labels': y(n, ignore=(0, 7, 8))})
    n = f'{S}/index/smoothing'
    add(n, 'ce', {'logits': x(n), 'labels': y(n), 'labelSmoothing': 0.125})
    n = f'{S}/index/smoothing-weight-ignore'
    add(n, 'ce', {'logits': x(n), 'labels': y(n, ignore=(3, 11)), 'labelSmoothing': 0.25, 'weight': W4})
    n = f'{S}/index/ignore-custom-1-weight'
    add(n, 'ce', {'logits': x(n), 'labels': y(n), 'ignoreIndex': 1, 'weight': W4}, ('mean', 'none'))
    n = f'{S}/index/all-ignored'
    add(n, 'ce', {'logits': x(n), 'labels': [[-100] * Tn] * N}, ('mean', 'none'))
    n = f'{S}/index/extreme-1e3'
    add(n, 'ce', {'logits': x(n, 1000), 'labels': y(n, ignore=(4,))}, ('mean', 'none'))
    n = f'{S}/probs'
    add(n, 'ce', {'logits': x(n), 'labels': p(n)}, ('mean', 'none'))
    n = f'{S}/probs/weight-smoothing'
    add(n, 'ce', {'logits': x(n), 'labels': p(n), 'weight': W4, 'labelSmoothing': 0.125}, ('mean',))
    add(f'{S}/large/index-weight-ignore-smoothing', 'ce', {
        'logits': G('logits', 601, shape=[64, 40, 50], scale=8),
        'labels': G('index', 602, n=64, t=50, classes=40, longTail=2, ignoreEvery=11),
        'weight': G('uniform', 603, shape=[40], low=0.25, high=4), 'labelSmoothing': 0.1}, REDS3)

    S = 'temporal/focal/softmax'
    n = f'{S}/index'
    add(n, 'focal', {'logits': x(n), 'labels': y(n)})
    n = f'{S}/index/alpha-null-gamma-0.5'
    add(n, 'focal', {'logits': x(n), 'labels': y(n), 'alpha': None, 'gamma': 0.5}, ('mean', 'none'))
    n = f'{S}/index/alpha-vector-ignore'
    add(n, 'focal', {'logits': x(n), 'labels': y(n, ignore=(2, 9)), 'alpha': [0.25, 0.5, 1.0, 0.75]},
        ('mean', 'none'))
    n = f'{S}/index/smoothing-ignore'
    add(n, 'focal', {'logits': x(n), 'labels': y(n, ignore=(5,)), 'labelSmoothing': 0.125})
    n = f'{S}/index/all-ignored'
    add(n, 'focal', {'logits': x(n), 'labels': [[-100] * Tn] * N}, ('mean',))
    n = f'{S}/probs'
    add(n, 'focal', {'logits': x(n), 'labels': p(n), 'gamma': 0.5}, ('mean', 'none'))
    add(f'{S}/large/index-alpha-vector-ignore', 'focal', {
        'logits': G('logits', 604, shape=[64, 40, 50], scale=8),
        'labels': G('index', 605, n=64, t=50, classes=40, longTail=2, ignoreEvery=11),
        'alpha': G('uniform', 606, shape=[40], low=0, high=1)}, ('mean', 'none'))

    n = 'temporal/identity/index-ignore-smoothing'
    req = {'logits': x(n), 'labels': y(n, ignore=(1, 12)), 'labelSmoothing': 0.125}
    add(f'{n}/ce', 'ce', req, ('mean', 'none'))
    add(f'{n}/focal', 'focal', {**req, 'gamma': 0, 'alpha': None}, ('mean', 'none'))
    return specs


# ----------------------------------------------------------------------------------------------
# analysis.json: breakdown (perClass), hardest, classBalance and POST /loss/compare
#
# Definitions (README.md repeats them). A "row" is a row n of [N][C] / [N] logits, or a frame (n, t)
# of [N][C][T] logits, numbered n*T + t. Per-row loss: the float64 reduction="none" value (softmax),
# or math.fsum of the row's element losses (sigmoid). Ignored rows (index label == ignoreIndex) are
# left out of everything; probability/target labels ignore nothing.
#   perClass, softmax: class c -> rows whose class is c (the label, or the argmax of the target row,
#     lowest index on ties); count, sum of their per-row losses, mean = sum / count (null if 0).
#   perClass, sigmoid: class c -> count = rows whose target in column c is >= 0.5 (one-hot for index
#     labels); sum = column c's element losses summed over the rows; mean = sum / rows (null if 0).
#   hardest k: the k rows with the largest per-row loss, largest first, ties by lower row number;
#     {index: n or [n, t], label: class as above, loss}. Fewer than k if fewer rows are not ignored.
#   classBalance {counts, beta}: w_c = (1-beta) / -expm1(n_c log beta) (1 if beta = 0), times
#     C / (left-to-right sum); rounded to float32, echoed as classWeights and used as ce `weight`,
#     softmax-focal alpha vector, or (sigmoid focal) alpha = null and column c multiplied by w_c.
#   compare: ce gets the common fields + weight/posWeight, focal the common fields + gamma/alpha;
#     both get classBalance; perClass merges the two breakdowns (count is the same for both).

PERCLASS_SUMMARY_OVER = 64   # perClass lists longer than this are summarised
COMMON_KEYS = ('logits', 'labels', 'activation', 'reduction', 'ignoreIndex', 'labelSmoothing')
ENDPOINT_KEYS = {'ce': COMMON_KEYS + ('weight', 'posWeight'), 'focal': COMMON_KEYS + ('gamma', 'alpha')}
HARDEST_MARGIN = 2e-5        # distinct losses at ranks <= k differ by > 2*(1e-5|a| + 1e-6): float32-safe


def class_count(req):
    shape = np.asarray(req['logits']).shape
    return 1 if len(shape) == 1 else shape[1]


def balanced_weights(cb, classes):
    """Cui et al. 2019 class-balanced weights: float64 as the service computes them, then float32."""
    counts, beta = cb['counts'], float(cb['beta'])
    assert len(counts) == classes and 0 <= beta < 1 and all(n > 0 for n in counts)
    raw = [1.0 if beta == 0 else (1 - beta) / -math.expm1(n * math.log(beta)) for n in counts]
    total = 0.0
    for r in raw:              # left to right, as the service does
        total += r
    w64 = [r * classes / total for r in raw]
    w32 = [fround(w) for w in w64]
    for w, f in zip(w64, w32):   # far from a float32 rounding midpoint: a few-ulp float64 difference
        f32 = np.float32(f)      # in another libm cannot change the float32 value
        lo = float(np.nextafter(f32, np.float32(-np.inf)))
        hi = float(np.nextafter(f32, np.float32(np.inf)))
        margin = min(w - (f + lo) / 2, (f + hi) / 2 - w)
        assert margin > 1e-12 * w, ('class weight too close to a float32 rounding midpoint', w)
    assert abs(math.fsum(w64) - classes) < 1e-12 * classes
    return w32


def balance(endpoint, req):
    """The plain /loss/ce or /loss/focal body that classBalance stands for, the float32 weights,
    and (sigmoid focal only) the per-column multiplier."""
    base = {k: v for k, v in req.items() if k in ENDPOINT_KEYS[endpoint]}
    cb = req.get('classBalance')
    if cb is None:
        return base, None, None
    assert 'weight' not in req and 'alpha' not in req, 'classBalance replaces weight / alpha'
    w32 = balanced_weights(cb, class_count(req))
    if endpoint == 'ce':
        return {**base, 'weight': w32}, w32, None
    if req.get('activation', 'softmax') == 'softmax':
        return {**base, 'alpha': w32}, w32, None
    return {**base, 'alpha': None}, w32, w32


def evaluate(endpoint, req, dt):
    base, w32, mult = balance(endpoint, req)
    outs, norm, ref = compute(endpoint, base, dt)
    if w32 is not None:
        beta = req['classBalance']['beta']
        what = 'weight' if endpoint == 'ce' else 'alpha' if mult is None else 'multiplier of column c (alpha=-1)'
        ref += f'; classBalance beta={beta}: float32 w_c as {what}'
    if mult is not None:
        none = outs['none'] * T(mult, dt)
        s = none.sum()
        outs = {'none': none, 'sum': s, 'mean': s / norm if norm else torch.tensor(math.nan, dtype=dt)}
        ref = ref.replace("reduction=R", "reduction='none'") + ' * w[c], then reduced'
    return outs, norm, ref, w32, base, mult


def row_info(req, outs):
    """Per-row class (-1 if ignored), kept mask, per-row losses; sigmoid: element losses, positives."""
    x_shape = np.asarray(req['logits']).shape
    labels = np.asarray(req['labels'], dtype=np.float64)
    act = req.get('activation', 'softmax')
    ii = int(req.get('ignoreIndex', -100))
    index = labels.ndim == len(x_shape) - 1
    C = 1 if len(x_shape) == 1 else x_shape[1]
    info = {'C': C, 'T': x_shape[2] if len(x_shape) == 3 else None, 'act': act}
    if index:
        y = labels.reshape(-1).astype(np.int64)
        kept = y != ii
        cls = np.where(kept, y, -1)
    elif act == 'softmax':
        t = np.moveaxis(labels, 1, -1).reshape(-1, C)
        cls, kept = np.argmax(t, axis=1), np.ones(t.shape[0], dtype=bool)   # argmax: first maximum
    else:
        t = labels.reshape(x_shape[0], C)
        cls, kept = np.argmax(t, axis=1), np.ones(t.shape[0], dtype=bool)
    none = outs['none'].numpy()
    if act == 'softmax':
        per = none.reshape(-1)
    else:
        E = none.reshape(x_shape[0], C)
        per = np.array([math.fsum(r) for r in E.tolist()])
        if index:
            pos = np.zeros((x_shape[0], C), dtype=bool)
            pos[np.nonzero(kept)[0], y[kept]] = True
        else:
            pos = t >= 0.5
        info.update(E=E, pos=pos)
    assert not (per[~kept] != 0).any()
    info.update(cls=cls, kept=kept, per=per)
    return info


def per_class(info):
    out, C, kept = [], info['C'], info['kept']
    if info['act'] == 'softmax':
        for c in range(C):
            sel = (info['cls'] == c) & kept
            n, s = int(sel.sum()), math.fsum(info['per'][sel].tolist())
            out.append({'class': c, 'count': n, 'sum': clean(s), 'mean': clean(s / n) if n else None})
    else:
        rows = int(kept.sum())
        for c in range(C):
            n, s = int(info['pos'][kept, c].sum()), math.fsum(info['E'][kept, c].tolist())
            out.append({'class': c, 'count': n, 'sum': clean(s), 'mean': clean(s / rows) if rows else None})
    return out


def ranking(info):
    per = info['per']
    return sorted(np.nonzero(info['kept'])[0].tolist(), key=lambda i: (-per[i], i))


def hardest_rows(info, k):
    Tn = info['T']
    return [{'index': i if Tn is None else [i // Tn, i % Tn], 'label': int(info['cls'][i]),
             'loss': clean(info['per'][i])} for i in ranking(info)[:k]]


def check_hardest(name, info64, info32, k):
    """The top k (and the row after it) must not depend on float32 rounding: distinct losses differ
    by more than twice the recommended tolerance, and exactly tied rows are tied in float32 too."""
    order, per, per32 = ranking(info64), info64['per'], info32['per']
    assert ranking(info32)[:k] == order[:k], name
    ties = 0
    for j in range(min(k, len(order) - 1)):
        a, b = order[j], order[j + 1]
        if per[a] == per[b]:
            assert per32[a] == per32[b], name
            ties += 1 if j == k - 1 else 0
        else:
            assert per[a] - per[b] > HARDEST_MARGIN * abs(per[a]) + 2e-6, (name, j, per[a], per[b])
    if '/hardest-ties' in name:
        assert ties, f'{name}: the row after the k-th should tie with it'


def tolerance_used(got, want):
    return abs(got - want) / (1e-5 * abs(want) + 1e-6)


def summarize_classes(entries):
    C = len(entries)
    compare = 'ce' in entries[0]

    def mean_of(e):
        return e['ce']['mean'] if compare else e['mean']
    picks = {(k * (C - 1)) // 15 for k in range(16)}
    picks.add(max(range(C), key=lambda c: (entries[c]['count'], -c)))
    nulls = [c for c in range(C) if mean_of(entries[c]) is None]
    if nulls:
        picks.add(nulls[0])
    if compare:
        picks.add(max(range(C), key=lambda c: (entries[c]['ce']['sum'], -c)))
        totals = {'count': sum(e['count'] for e in entries)}
        for part in ('ce', 'focal'):
            assert all((e[part]['mean'] is None) == (e['ce']['mean'] is None) for e in entries)
            totals[part] = {'sum': clean(math.fsum(e[part]['sum'] for e in entries)),
                            'mean': clean(math.fsum(e[part]['mean'] or 0.0 for e in entries))}
    else:
        picks.add(max(range(C), key=lambda c: (entries[c]['sum'], -c)))
        totals = {'count': sum(e['count'] for e in entries),
                  'sum': clean(math.fsum(e['sum'] for e in entries)),
                  'mean': clean(math.fsum(e['mean'] or 0.0 for e in entries))}
    totals['nullMeans'] = len(nulls)
    return {'$summary': {'length': C, 'totals': totals, 'sample': [entries[c] for c in sorted(picks)]}}


class AnalysisStats:
    def __init__(self):
        self.used = {}   # quantity -> (max fraction of 1e-5*|want| + 1e-6 used by float32 torch, case)
        self.mp = (0.0, '')

    def bump(self, what, val, name):
        if val > self.used.get(what, (-1.0, ''))[0]:
            self.used[what] = (val, name)


def one_loss(name, endpoint, req, stats, verify):
    """Expected reply of /loss/ce or /loss/focal for a materialised body (+ the float32 rerun checks)."""
    red = req.get('reduction', 'mean')
    outs, norm, ref, w32, base, mult = evaluate(endpoint, req, F64)
    per = outs['none']
    s = math.fsum(per.reshape(-1).tolist())
    assert close(s, float(outs['sum']), 1e-11) or abs(s - float(outs['sum'])) < 1e-300, (name, s)
    if red == 'mean':
        if norm == 0:
            assert math.isnan(float(outs['mean'])) and s == 0, name
            loss = None
        else:
            loss = s / norm
            assert close(loss, float(outs['mean']), 1e-11), (name, loss, float(outs['mean']))
    elif red == 'sum':
        loss = s
    else:
        loss = summarize(per) if per.numel() > SUMMARY_OVER else clean(per.tolist())
    exp = {'loss': clean(loss) if isinstance(loss, float) else loss, 'reduction': red, 'sum': clean(s),
           'normalizer': clean(norm)}
    outs32 = evaluate(endpoint, req, F32)[0]
    info, info32 = row_info(req, outs), row_info(req, outs32)
    stats.bump('sum', tolerance_used(float(outs32['sum']), s), name)
    pc = None
    if req.get('breakdown', False):
        pc = per_class(info)
        pc32 = per_class(info32)
        total = math.fsum(e['sum'] for e in pc)
        assert close(total, s, 1e-12) or abs(total - s) < 1e-300, (name, total, s)   # every loss is in a class
        for a, b in zip(pc, pc32):
            assert a['count'] == b['count'], name
            stats.bump('perClass sum', tolerance_used(b['sum'], a['sum']), name)
            if a['mean'] is not None:
                stats.bump('perClass mean', tolerance_used(b['mean'], a['mean']), name)
    k = req.get('hardest')
    if k is not None:
        rows = len(info['per'])
        assert 1 <= k <= rows, name
        check_hardest(name, info, info32, k)
        exp['hardest'] = hardest_rows(info, k)
        for h in hardest_rows(info32, k):
            i = h['index'] if info['T'] is None else h['index'][0] * info['T'] + h['index'][1]
            stats.bump('hardest loss', tolerance_used(h['loss'], info['per'][i]), name)
    if verify and np.asarray(req['logits']).size <= 20000:
        err = mp_verify(endpoint, base, per if mult is None else per / T(mult, F64))
        if err > stats.mp[0]:
            stats.mp = (err, name)
    return exp, pc, w32, ref


def analysis_case(name, endpoint, request, stats, verify):
    req = materialize(request)
    red = req.get('reduction', 'mean')
    if endpoint != 'compare':
        exp, pc, w32, ref = one_loss(name, endpoint, req, stats, verify)
        if pc is not None:
            exp['perClass'] = summarize_classes(pc) if len(pc) > PERCLASS_SUMMARY_OVER else pc
        if w32 is not None:
            exp['classWeights'] = w32
        ref = ref.replace('reduction=R', f"reduction='{red}'") + ', float64'
        return {'name': name, 'endpoint': endpoint, 'request': request, 'expected': exp, 'reference': ref}
    parts, pcs, refs, weights = {}, {}, [], None
    for ep in ('ce', 'focal'):
        sub = {k: v for k, v in req.items() if k in ENDPOINT_KEYS[ep] + ('classBalance', 'breakdown', 'hardest')}
        parts[ep], pcs[ep], weights, ref = one_loss(f'{name}#{ep}', ep, sub, stats, verify)
        refs.append(f"{ep}: {ref.replace('reduction=R', f'reduction={red!r}')}")
    exp = {'ce': parts['ce'], 'focal': parts['focal']}
    if pcs['ce'] is not None:
        merged = []
        for a, b in zip(pcs['ce'], pcs['focal']):
            assert a['class'] == b['class'] and a['count'] == b['count'], name
            merged.append({'class': a['class'], 'count': a['count'], 'ce': {'sum': a['sum'], 'mean': a['mean']},
                           'focal': {'sum': b['sum'], 'mean': b['mean']}})
        exp['perClass'] = summarize_classes(merged) if len(merged) > PERCLASS_SUMMARY_OVER else merged
    if weights is not None:
        exp['classWeights'] = weights
    if req.get('gamma') == 0 and 'alpha' in req and req['alpha'] is None and not any(
            k in req for k in ('weight', 'posWeight', 'classBalance')):
        a, b = parts['ce'], parts['focal']   # identity: focal(gamma=0, alpha=null) == ce
        assert close(a['sum'], b['sum'], 1e-13) and a['normalizer'] == b['normalizer'], name
        if 'perClass' in exp and isinstance(exp['perClass'], list):
            for e in exp['perClass']:
                assert close(e['ce']['sum'], e['focal']['sum'], 1e-13) or abs(e['ce']['sum'] - e['focal']['sum']) < 1e-15, name
    return {'name': name, 'endpoint': 'compare', 'request': request, 'expected': exp,
            'reference': '; '.join(refs) + ', float64'}


def build_analysis(specs, stats, verify):
    cases, names = [], set()
    for name, endpoint, request in specs:
        assert name not in names, name
        names.add(name)
        cases.append(analysis_case(name, endpoint, request, stats, verify))
    return cases


def tie_rows(x, labels, rows, hard_label, scale):
    """Make `rows` exact duplicates that are the hardest rows: the label's logit is -scale, every
    other logit +scale/2 (softmax); all logits -scale with an all-ones target row (sigmoid)."""
    for r in rows:
        if isinstance(labels[0], list):      # sigmoid dense targets
            x[r] = [-scale] * len(x[r])
            labels[r] = [1] * len(labels[r])
        else:
            x[r] = [-scale if c == hard_label else scale / 2 for c in range(len(x[r]))]
            labels[r] = hard_label
    return x, labels


def analysis_specs():
    specs = []
    add = spec_adder(specs)
    sm, sig = {'activation': 'softmax'}, {'activation': 'sigmoid'}
    W4, W5 = [1.0, 0.5, 2.0, 0.25], [1.0, 0.5, 2.0, 0.25, 1.5]
    PW4 = [3.0, 1.0, 0.5, 10.0]
    A4, A5 = [0.25, 0.5, 0.75, 1.0], [0.25, 0.5, 1.0, 0.125, 0.75]
    BIG_N, BIG_C = 1024, 400
    LT4 = [5000, 500, 50, 5]
    LT400 = [max(1, round(5000 * 0.001 ** (c / (BIG_C - 1)))) for c in range(BIG_C)]   # 5000 .. 5
    BR, HK = {'breakdown': True}, lambda k: {'hardest': k}
    N, C, Tn = 3, 4, 5       # temporal

    def tx(name, scale=4):
        return qlogits(name, [N, C, Tn], scale)

    def ty(name, ignore=()):
        return nest(qlabels(name, N * Tn, C, ignore=ignore), [N, Tn])

    def tp(name):
        rows = qprobs(name, [N * Tn, C])
        return [[[rows[i * Tn + k][c] for k in range(Tn)] for c in range(C)] for i in range(N)]

    # ---- breakdown ---------------------------------------------------------------------------
    S = 'ce/softmax/breakdown'
    n = f'{S}/index-empty-classes'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': [0, 2, 2, 4, 0, 2, 4, 0], **BR}, ('mean', 'none'))
    n = f'{S}/index-weight-ignore-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(2, 5)), 'weight': W5,
                  'labelSmoothing': 0.125, **BR}, ('mean', 'sum'))
    n = f'{S}/index-ignore-custom-3-weight'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': [3, 0, 3, 1, 4, 2, 3, 4], 'ignoreIndex': 3,
                  'weight': W5, **sm, **BR}, ('mean',))
    n = f'{S}/probs-argmax-ties'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4),
                  'labels': [[0.5, 0.5, 0.0, 0.0], [0.0, 0.25, 0.375, 0.375], [0.25, 0.25, 0.25, 0.25],
                             [0.0, 0.0, 0.0, 1.0], [0.125, 0.625, 0.125, 0.125], [0.375, 0.0, 0.375, 0.25]],
                  **BR}, ('mean', 'none'))
    n = f'{S}/probs-weight-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [6, 5], 4), 'labels': qprobs(n, [6, 5]), 'weight': W5,
                  'labelSmoothing': 0.25, **BR}, ('mean',))
    n = f'{S}/all-ignored'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4), 'labels': [-100] * 4, **BR}, ('mean',))
    n = f'{S}/explicit-false'
    add(n, 'ce', {'logits': qlogits(n, [4, 3], 4), 'labels': [0, 1, 2, 1], 'breakdown': False}, ('mean',))

    S = 'ce/sigmoid/breakdown'
    n = f'{S}/binary'
    lab = qbinary(n, [6, 4])
    lab[2], lab[4] = [0, 0, 0, 0], [1, 1, 1, 1]
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': lab, **sig, **BR}, ('mean', 'none'))
    n = f'{S}/soft-threshold-weight-pos-weight'
    lab = qtargets(n, [6, 4])
    lab[0][0], lab[1][2], lab[2][1], lab[3][3] = 0.5, 0.5, 0.4375, 0.5625
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': lab, 'weight': W4, 'posWeight': PW4, **sig, **BR},
        ('mean',))
    n = f'{S}/index-ignore-custom-2'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': [2, 0, 2, 3, 1, 0], 'ignoreIndex': 2, **sig, **BR},
        ('mean', 'none'))
    n = f'{S}/index-ignore-smoothing'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(1, 4)),
                  'labelSmoothing': 0.1, **sig, **BR}, ('mean',))
    n = f'{S}/1d'
    lab = qtargets(n, [8])
    lab[1], lab[5] = 0.5, 0.4375
    add(n, 'ce', {'logits': qlogits(n, [8], 4), 'labels': lab, **sig, **BR}, ('mean', 'none'))
    n = f'{S}/all-ignored'
    add(n, 'ce', {'logits': qlogits(n, [3, 4], 4), 'labels': [-100] * 3, **sig, **BR}, ('mean',))

    S = 'focal/softmax/breakdown'
    n = f'{S}/index-alpha-vector-ignore'
    add(n, 'focal', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(1,)), 'alpha': A5,
                     'gamma': 0.5, **sm, **BR}, ('mean', 'none'))
    n = f'{S}/probs-smoothing'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), 'labelSmoothing': 0.125,
                     **sm, **BR}, ('mean',))
    n = f'{S}/index-defaults'
    add(n, 'focal', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5), **BR}, (None,))

    S = 'focal/sigmoid/breakdown'
    n = f'{S}/binary-alpha-vector'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'alpha': A4, **sig, **BR},
        ('mean', 'none'))
    n = f'{S}/index-ignore-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(0, 3)), 'gamma': 0.5,
                     **sig, **BR}, ('mean', 'sum'))
    n = f'{S}/soft-alpha-null'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]), 'alpha': None,
                     **sig, **BR}, ('mean',))

    S = 'temporal'
    n = f'{S}/ce/softmax/breakdown/index-weight-ignore'
    add(n, 'ce', {'logits': tx(n), 'labels': ty(n, ignore=(0, 7, 8)), 'weight': W4, **BR}, ('mean', 'none'))
    n = f'{S}/ce/softmax/breakdown/probs-smoothing'
    add(n, 'ce', {'logits': tx(n), 'labels': tp(n), 'labelSmoothing': 0.125, **BR}, ('mean',))
    n = f'{S}/focal/softmax/breakdown/index-alpha-vector-ignore'
    add(n, 'focal', {'logits': tx(n), 'labels': ty(n, ignore=(2, 9)), 'alpha': A4, **BR}, ('mean',))

    # ---- hardest -----------------------------------------------------------------------------
    S = 'ce/softmax/hardest'
    n = f'{S}/hardest-ties'
    x, y = tie_rows(qlogits(n, [8, 5], 4), qlabels(n, 8, 5), (1, 4, 6), 2, 6)
    add(n, 'ce', {'logits': x, 'labels': y, **HK(2)}, ('mean', 'none'))
    n = f'{S}/ignore-weight-smoothing-k-all'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(2, 5)), 'weight': W5,
                  'labelSmoothing': 0.125, **HK(8)}, ('mean',))
    n = f'{S}/probs-weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 5], 4), 'labels': qprobs(n, [6, 5]), 'weight': W5, **HK(3)}, ('sum',))
    n = f'{S}/k1'
    add(n, 'ce', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5), **HK(1)}, (None,))
    S = 'focal/softmax/hardest'
    n = f'{S}/hardest-ties-alpha-vector'
    x, y = tie_rows(qlogits(n, [8, 5], 4), qlabels(n, 8, 5), (0, 3, 7), 2, 6)   # alpha[2] = 1
    add(n, 'focal', {'logits': x, 'labels': y, 'alpha': A5, **HK(1)}, ('mean',))
    n = f'{S}/middle-ties-k-all'
    x, y = qlogits(n, [8, 5], 4), qlabels(n, 8, 5)
    x[6], y[6] = list(x[2]), y[2]
    x[7], y[7] = list(x[2]), y[2]
    add(n, 'focal', {'logits': x, 'labels': y, 'gamma': 0.5, **sm, **HK(8)}, ('mean',))
    S = 'ce/sigmoid/hardest'
    n = f'{S}/hardest-ties-dense'
    x, lab = tie_rows(qlogits(n, [6, 4], 4), qbinary(n, [6, 4]), (1, 3, 4), None, 6)
    lab[0], lab[5] = [0, 0, 0, 0], [0, 1, 0, 1]
    add(n, 'ce', {'logits': x, 'labels': lab, **sig, **HK(2)}, ('mean', 'none'))
    n = f'{S}/dense-k-all'
    lab = qbinary(n, [6, 4])
    lab[2] = [0, 0, 0, 0]
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': lab, 'posWeight': PW4, **sig, **HK(6)}, ('mean',))
    S = 'focal/sigmoid/hardest'
    n = f'{S}/index-ignore-alpha-vector-k-all'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(0, 3)), 'alpha': A4,
                     **sig, **HK(6)}, ('mean',))
    n = f'{S}/soft-gamma-0.5'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]), 'gamma': 0.5,
                     **sig, **HK(3)}, ('sum',))
    S = 'temporal'
    n = f'{S}/ce/softmax/hardest/hardest-ties'
    x, y = tx(n), ty(n)
    for (i, t) in ((0, 3), (1, 2), (2, 0)):      # frames (1, 2) and (0, 3): row-major order decides
        for c in range(C):
            x[i][c][t] = -6 if c == 1 else 3
        y[i][t] = 1
    add(n, 'ce', {'logits': x, 'labels': y, **HK(2)}, ('mean', 'none'))
    n = f'{S}/focal/softmax/hardest/probs'
    add(n, 'focal', {'logits': tx(n), 'labels': tp(n), 'gamma': 0.5, **HK(4)}, ('mean',))
    n = f'{S}/ce/softmax/hardest/ignore-k-all'
    add(n, 'ce', {'logits': tx(n), 'labels': ty(n, ignore=(1, 6, 13)), 'labelSmoothing': 0.1, **HK(N * Tn)},
        ('mean',))

    # ---- large: C = 400, N = 1024 ------------------------------------------------------------
    L = 'large'
    add(f'{L}/ce/softmax/breakdown-hardest/index-weight-ignore', 'ce', {
        'logits': G('logits', 701, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 702, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=7),
        'weight': G('uniform', 703, shape=[BIG_C], low=0.25, high=4), **BR, **HK(10)}, ('mean', 'none'))
    add(f'{L}/ce/softmax/breakdown/probs-smoothing', 'ce', {
        'logits': G('logits', 704, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('probs', 705, shape=[BIG_N, BIG_C], power=4), 'labelSmoothing': 0.1, **BR}, ('mean',))
    add(f'{L}/focal/softmax/breakdown-hardest/index-alpha-vector', 'focal', {
        'logits': G('logits', 706, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 707, n=BIG_N, classes=BIG_C, longTail=3),
        'alpha': G('uniform', 708, shape=[BIG_C], low=0, high=1), **BR, **HK(10)}, ('mean',))
    add(f'{L}/ce/sigmoid/breakdown-hardest/binary-sparse', 'ce', {
        'logits': G('logits', 709, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('binary', 710, shape=[BIG_N, BIG_C], p=0.02), **sig, **BR, **HK(10)}, ('mean',))
    add(f'{L}/focal/sigmoid/breakdown-hardest/index-ignore', 'focal', {
        'logits': G('logits', 711, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 712, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=6), **sig, **BR, **HK(4)},
        ('mean', 'sum'))
    add(f'{L}/temporal/ce/softmax/breakdown-hardest/index-ignore-smoothing', 'ce', {
        'logits': G('logits', 713, shape=[64, 40, 50], scale=8),
        'labels': G('index', 714, n=64, t=50, classes=40, longTail=2, ignoreEvery=11),
        'labelSmoothing': 0.1, **BR, **HK(8)}, ('mean',))

    # ---- classBalance ------------------------------------------------------------------------
    def cb(counts, beta):
        return {'classBalance': {'counts': counts, 'beta': beta}}

    S = 'ce/softmax/class-balance'
    base = f'{S}/lt4'
    x4, y4 = qlogits(base, [8, 4], 4), qlabels(base, 8, 4)
    for beta, reds in ((0, ('mean',)), (0.9, ('mean',)), (0.999, REDS3), (0.9999, ('mean',))):
        add(f'{base}/beta-{beta}', 'ce', {'logits': x4, 'labels': y4, **cb(LT4, beta)}, reds)
    n = f'{S}/lt4-beta-0.999-ignore-smoothing-breakdown'
    add(n, 'ce', {'logits': qlogits(n, [8, 4], 4), 'labels': qlabels(n, 8, 4, ignore=(3, 6)),
                  'labelSmoothing': 0.125, **cb(LT4, 0.999), **BR}, ('mean',))
    n = f'{S}/probs-beta-0.99'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), **cb([40, 30, 20, 10], 0.99)},
        ('mean',))
    add('large/ce/softmax/class-balance/lt400-beta-0.999', 'ce', {
        'logits': G('logits', 801, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 802, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=9), **cb(LT400, 0.999)},
        ('mean', 'none'))
    S = 'ce/sigmoid/class-balance'
    n = f'{S}/binary-beta-0.999-pos-weight'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'posWeight': PW4,
                  **cb(LT4, 0.999), **sig}, ('mean', 'none'))
    n = f'{S}/index-ignore-beta-0.9999'
    add(n, 'ce', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(2,)),
                  **cb(LT4, 0.9999), **sig}, ('mean',))
    S = 'focal/softmax/class-balance'
    base = f'{S}/lt4'
    x4, y4 = qlogits(base, [8, 4], 4), qlabels(base, 8, 4)
    for beta, reds in ((0, ('mean',)), (0.9, ('mean',)), (0.999, ('mean', 'none')), (0.9999, ('mean',))):
        add(f'{base}/beta-{beta}', 'focal', {'logits': x4, 'labels': y4, **cb(LT4, beta), **sm}, reds)
    n = f'{S}/probs-smoothing-gamma-0.5-beta-0.99'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), 'labelSmoothing': 0.1,
                     'gamma': 0.5, **cb([40, 30, 20, 10], 0.99)}, ('mean',))
    add('large/focal/softmax/class-balance/lt400-beta-0.9999-breakdown', 'focal', {
        'logits': G('logits', 803, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 804, n=BIG_N, classes=BIG_C, longTail=3), 'gamma': 0.5,
        **cb(LT400, 0.9999), **BR}, ('mean',))
    S = 'focal/sigmoid/class-balance'
    base = f'{S}/lt4'
    x4, b4 = qlogits(base, [6, 4], 4), qbinary(base, [6, 4])
    for beta, reds in ((0, ('mean',)), (0.9, ('mean',)), (0.999, REDS3), (0.9999, ('mean',))):
        add(f'{base}/beta-{beta}', 'focal', {'logits': x4, 'labels': b4, **cb(LT4, beta), **sig}, reds)
    n = f'{S}/index-ignore-smoothing-beta-0.99-breakdown'
    add(n, 'focal', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(1,)),
                     'labelSmoothing': 0.1, 'gamma': 1.5, **cb([40, 30, 20, 10], 0.99), **sig, **BR},
        ('mean', 'none'))
    add('large/focal/sigmoid/class-balance/lt400-beta-0.999-breakdown-hardest', 'focal', {
        'logits': G('logits', 805, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('binary', 806, shape=[BIG_N, BIG_C], p=0.02), **cb(LT400, 0.999), **sig, **BR, **HK(5)},
        ('mean',))
    n = 'temporal/ce/softmax/class-balance/beta-0.999-ignore-breakdown'
    add(n, 'ce', {'logits': tx(n), 'labels': ty(n, ignore=(4, 10)), **cb(LT4, 0.999), **BR}, ('mean', 'none'))

    # ---- compare -----------------------------------------------------------------------------
    S = 'compare/softmax'
    n = f'{S}/index/defaults'
    add(n, 'compare', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5)}, (None, 'sum', 'none'))
    n = f'{S}/index/weight-alpha-vector-ignore-smoothing'
    add(n, 'compare', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(0, 6)),
                       'weight': W5, 'alpha': A5, 'gamma': 0.5, 'labelSmoothing': 0.125, **sm}, ('mean', 'none'))
    n = f'{S}/index/ignore-custom-3-breakdown-explicit-false'
    add(n, 'compare', {'logits': qlogits(n, [8, 5], 4), 'labels': [3, 0, 3, 1, 4, 2, 3, 4], 'ignoreIndex': 3,
                       'weight': W5, 'breakdown': False}, ('mean',))
    n = f'{S}/probs/gamma-0.5-alpha-null'
    add(n, 'compare', {'logits': qlogits(n, [6, 4], 4), 'labels': qprobs(n, [6, 4]), 'gamma': 0.5,
                       'alpha': None, 'weight': W4}, ('mean',))
    n = f'{S}/index/identity-gamma-0-alpha-null'
    add(n, 'compare', {'logits': qlogits(n, [8, 5], 4), 'labels': qlabels(n, 8, 5, ignore=(3,)), 'gamma': 0,
                       'alpha': None, 'labelSmoothing': 0.1, **BR, **HK(3)}, ('mean', 'none'))
    n = f'{S}/index/breakdown-hardest'
    add(n, 'compare', {'logits': qlogits(n, [8, 5], 4), 'labels': [0, 2, 2, 4, 0, 2, 4, 0], 'weight': W5,
                       'alpha': A5, **BR, **HK(3)}, ('mean',))
    n = f'{S}/index/class-balance-beta-0.999-breakdown'
    add(n, 'compare', {'logits': qlogits(n, [8, 4], 4), 'labels': qlabels(n, 8, 4, ignore=(5,)), 'gamma': 1,
                       **cb(LT4, 0.999), **BR}, ('mean', 'sum'))
    n = f'{S}/index/all-ignored-breakdown'
    add(n, 'compare', {'logits': qlogits(n, [4, 3], 4), 'labels': [-100] * 4, 'weight': [1.0, 2.0, 0.5], **BR},
        ('mean',))
    n = 'temporal/compare/softmax/index-ignore-breakdown-hardest'
    add(n, 'compare', {'logits': tx(n), 'labels': ty(n, ignore=(3, 11)), 'weight': W4, 'alpha': A4,
                       **BR, **HK(4)}, ('mean', 'none'))
    add('large/compare/softmax/class-balance-lt400-beta-0.999-breakdown-hardest', 'compare', {
        'logits': G('logits', 901, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('index', 902, n=BIG_N, classes=BIG_C, longTail=3, ignoreEvery=8), 'gamma': 2,
        **cb(LT400, 0.999), **BR, **HK(5)}, ('mean',))
    S = 'compare/sigmoid'
    n = f'{S}/binary/weight-pos-weight-alpha-vector'
    add(n, 'compare', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'weight': W4,
                       'posWeight': PW4, 'alpha': A4, 'gamma': 0.5, **sig}, ('mean', 'none'))
    n = f'{S}/index/ignore-smoothing-breakdown-hardest'
    add(n, 'compare', {'logits': qlogits(n, [6, 4], 4), 'labels': qlabels(n, 6, 4, ignore=(2, 5)),
                       'labelSmoothing': 0.1, **sig, **BR, **HK(6)}, ('mean', 'sum'))
    n = f'{S}/soft/class-balance-beta-0.9999-pos-weight-breakdown'
    add(n, 'compare', {'logits': qlogits(n, [6, 4], 4), 'labels': qtargets(n, [6, 4]), 'posWeight': PW4,
                       **cb(LT4, 0.9999), **sig, **BR, **HK(2)}, ('mean',))
    n = f'{S}/1d/breakdown'
    add(n, 'compare', {'logits': qlogits(n, [8], 4), 'labels': qbinary(n, [8]), **sig, **BR}, ('mean', 'none'))
    n = f'{S}/binary/identity-gamma-0-alpha-null'
    add(n, 'compare', {'logits': qlogits(n, [6, 4], 4), 'labels': qbinary(n, [6, 4]), 'gamma': 0, 'alpha': None,
                       **sig, **BR}, ('mean',))
    n = f'{S}/index/all-ignored'
    add(n, 'compare', {'logits': qlogits(n, [3, 4], 4), 'labels': [-100] * 3, **sig, **BR}, ('mean',))
    add('large/compare/sigmoid/binary-sparse-breakdown-hardest', 'compare', {
        'logits': G('logits', 903, shape=[BIG_N, BIG_C], scale=8),
        'labels': G('binary', 904, shape=[BIG_N, BIG_C], p=0.02),
        'posWeight': G('uniform', 905, shape=[BIG_C], low=0.5, high=20), **sig, **BR, **HK(5)}, ('mean',))
    return specs


# ----------------------------------------------------------------------------------------------
# Output

def check_identities(cases):
    by = {c['name']: c for c in cases}
    count = 0
    for name, c in by.items():
        if '/identity/' not in f'/{name}' or '/ce/' not in name:
            continue
        f = by[name.replace('/ce/', '/focal/')]
        a, b = c['expected'], f['expected']
        for k in ('sum', 'normalizer'):
            assert close(a[k], b[k], 1e-13), (name, k, a[k], b[k])
        la, lb = flat_values(a['loss']) if isinstance(a['loss'], list) else [a['loss']], \
            flat_values(b['loss']) if isinstance(b['loss'], list) else [b['loss']]
        if isinstance(a['loss'], dict):
            la, lb = [a['loss']['$summary']['sum']], [b['loss']['$summary']['sum']]
        assert all(close(u, v, 1e-13) or abs(u - v) < 1e-15 for u, v in zip(la, lb)), name
        count += 1
    return count


def gen_fingerprints(cases):
    specs = {}

    def walk(v):
        if isinstance(v, dict):
            if set(v) == {'$gen'}:
                specs[json.dumps(v['$gen'], sort_keys=True)] = v['$gen']
            else:
                for a in v.values():
                    walk(a)
        elif isinstance(v, list):
            for a in v:
                walk(a)
    for c in cases:
        walk(c['request'])
    out = []
    for key in sorted(specs):
        vals = flat_values(gen_cached(specs[key]))
        out.append({'$gen': specs[key], 'count': len(vals), 'fnv1a': fnv1a(vals, specs[key]['kind'] in ('index', 'binary')), 'first': vals[:4]})
    return out


def dump(path, cases, prng, gens):
    lines = ['{',
             f' "generator": "test/golden/generate.py",',
             f' "torch": {json.dumps(torch.__version__)},',
             f' "torchvision": {json.dumps(torchvision.__version__)},',
             f' "prng": {json.dumps(prng, separators=(",", ":"))},',
             f' "gens": [',
             ',\n'.join('  ' + json.dumps(g, separators=(',', ':')) for g in gens),
             ' ],',
             ' "cases": [',
             ',\n'.join('  ' + json.dumps(c, separators=(',', ':'), allow_nan=False) for c in cases),
             ' ]',
             '}']
    with open(path, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')


def main():
    verify = '--verify' in sys.argv[1:]
    stats = Stats()
    r = Mulberry32(7)
    r2 = Mulberry32(0xDEADBEEF)
    prng = {'seed': 7, 'first': [r.next() for _ in range(8)],
            'more': [{'seed': 0xDEADBEEF, 'first': [r2.next() for _ in range(4)]},
                     {'seed': 0, 'first': [Mulberry32(0).next()]}]}
    for fname, specs in (('cases.json', main_specs()), ('temporal.json', temporal_specs())):
        cases = build(specs, stats, verify)
        pairs = check_identities(cases)
        path = os.path.join(HERE, fname)
        dump(path, cases, prng, gen_fingerprints(cases))
        groups = {}
        for c in cases:
            act = c['request'].get('activation', 'softmax')
            groups[f"{c['endpoint']}/{act}"] = groups.get(f"{c['endpoint']}/{act}", 0) + 1
        print(f'{fname}: {len(cases)} cases {groups}, {pairs} identity pairs checked, '
              f'{os.path.getsize(path)} bytes')
    print('float32 torch vs float64 reference (group: value, case):')
    for label, d in (('  mean/sum/"sum" rel err', stats.scalar),
                     ('  none elementwise |d|/max(|ref|,1)', stats.elem),
                     ('  none elementwise rel err (|ref|>=1e-3)', stats.elem_rel),
                     ('  none elementwise atol needed with rtol=1e-6', stats.atol)):
        print(label)
        for g in sorted(d):
            print(f'    {g:16s} {d[g][0]:.3e}  {d[g][1]}')
    if verify:
        print(f'mpmath check of float64 references: max |d|/max(|exact|,1) = {stats.mp[0]:.3e} '
              f'({stats.mp[1]})')

    astats = AnalysisStats()
    cases = build_analysis(analysis_specs(), astats, verify)
    path = os.path.join(HERE, 'analysis.json')
    dump(path, cases, prng, gen_fingerprints(cases))
    groups = {}
    for c in cases:
        g = f"{c['endpoint']}/{c['request'].get('activation', 'softmax')}"
        groups[g] = groups.get(g, 0) + 1
    print(f'analysis.json: {len(cases)} cases {groups}, {os.path.getsize(path)} bytes')
    print('analysis.json, float32 torch vs float64 reference: max |got - want| / (1e-5 |want| + 1e-6):')
    for what in sorted(astats.used):
        print(f'    {what:16s} {astats.used[what][0]:.3e}  {astats.used[what][1]}')
    if verify:
        print(f'analysis.json mpmath check: max |d|/max(|exact|,1) = {astats.mp[0]:.3e} ({astats.mp[1]})')


if __name__ == '__main__':
    main()
