#!/usr/bin/python3
"""Golden cases for the losses of issue 10: Poly-1, logit-adjusted, LDAM, asymmetric, seesaw.

References, in float64 torch (Debian's torch 1.13):
  poly            the paper's listings (Leng et al. 2022): base + eps * (1 - p_t)^k, the base being
                  generate.py's cross-entropy / focal references (F.cross_entropy,
                  F.binary_cross_entropy_with_logits, torchvision sigmoid_focal_loss, the Keras
                  softmax focal formula); p_t = sum_c t'_c softmax(x)_c, or p t + (1-p)(1-t) (sigmoid)
  logit_adjusted  Menon et al. 2021: F.cross_entropy(x + tau * log(n / sum n), y, ...)
  ldam            LDAMLoss of kaidic/LDAM-DRW losses.py, loaded from $LDAM_DRW_SRC/losses.py; its
                  torch.cuda.FloatTensor is replaced by the CPU torch.FloatTensor (so m_list stays
                  float32, as in the reference) and its F.cross_entropy call is intercepted to get the
                  logits it builds, s * where(onehot, x - batch_m, x); 'mean' is the class's own
                  output, 'none' / 'sum' are F.cross_entropy of those logits
  asymmetric      AsymmetricLoss of Alibaba-MIIL/ASL src/loss_functions/losses.py, loaded from
                  $ASL_SRC; its output is the 'sum'; the per-element values are its forward written
                  out line by line (asl_elements), asserted to sum to the class's output
  seesaw          seesaw_ce_loss of open-mmlab/mmpretrain mmpretrain/models/losses/seesaw_loss.py,
                  loaded from $MMPRETRAIN_SRC with mmpretrain.registry stubbed (only its decorator is
                  used) and its .utils (weight_reduce_loss) loaded from the same tree

Run (the three repositories checked out anywhere; nothing of them is committed):
    LDAM_DRW_SRC=/path/LDAM-DRW ASL_SRC=/path/ASL MMPRETRAIN_SRC=/path/mmpretrain \\
        /usr/bin/python3 test/golden/generate_losses.py
Writes test/golden/losses.json; deterministic. Inputs reuse generate.py's $gen placeholders and
quantised small inputs. Every case is also computed on float32 tensors; the largest
float32-vs-float64 differences are printed.
"""
import importlib.util
import json
import math
import os
import sys
import types

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate as g  # noqa: E402  (the PRNG, placeholders and the ce / focal references)

F64, F32 = torch.float64, torch.float32
REDS = ('mean', 'sum', 'none')


def load(name, path, package=None):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    if package is not None:
        mod.__package__ = package
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def need_env(var):
    v = os.environ.get(var)
    if not v:
        sys.exit(f'{var} must name a checkout of the reference repository (see test/golden/README.md)')
    return v


def load_references():
    torch.cuda.FloatTensor = torch.FloatTensor   # LDAM-DRW builds its margins as CUDA tensors
    ldam = load('ldam_drw_losses', os.path.join(need_env('LDAM_DRW_SRC'), 'losses.py'))
    asl = load('asl_losses', os.path.join(need_env('ASL_SRC'), 'src', 'loss_functions', 'losses.py'))
    root = os.path.join(need_env('MMPRETRAIN_SRC'), 'mmpretrain', 'models', 'losses')
    for pkg in ('mmpretrain', 'mmpretrain.models', 'mmpretrain.models.losses'):
        m = types.ModuleType(pkg)
        m.__path__ = []
        sys.modules[pkg] = m
    registry = types.ModuleType('mmpretrain.registry')
    registry.MODELS = types.SimpleNamespace(register_module=lambda *a, **k: (lambda cls: cls))
    sys.modules['mmpretrain.registry'] = registry
    load('mmpretrain.models.losses.utils', os.path.join(root, 'utils.py'), 'mmpretrain.models.losses')
    seesaw = load('mmpretrain.models.losses.seesaw_loss', os.path.join(root, 'seesaw_loss.py'), 'mmpretrain.models.losses')
    return ldam, asl, seesaw


LDAM, ASL, SEESAW = load_references()


def T(v, dt):
    return torch.tensor(v, dtype=dt)


def index_labels(req, x):
    return g.is_index(x, req['labels'])


# ----------------------------------------------------------------------------------------------
# References: each returns (per-row or per-element float tensor, normalizer, reference text)

def base_request(req):
    """The request of the poly base as generate.py's compute() reads it."""
    return {k: v for k, v in req.items() if k not in ('base', 'epsilon', 'loss')}


def poly(req, dt):
    kind = req.get('base', 'ce')
    eps = float(req.get('epsilon', 1.0))
    gamma = float(req.get('gamma', 2.0))
    power = 1.0 if kind == 'ce' else gamma + 1
    outs, norm, ref = g.compute(kind, base_request(req), dt)
    x = T(req['logits'], dt)
    smooth = float(req.get('labelSmoothing', 0.0))
    if req.get('activation', 'softmax') == 'sigmoid':
        xk, t, mask, _ = g.sigmoid_targets(req, x, dt)
        p = torch.sigmoid(xk)
        pt = t * p + (1 - t) * (1 - p)
        term = g.scatter_rows(x, mask, (1 - pt) ** power)
        text = 'p_t = t p + (1-t)(1-p), p = sigmoid(x)'
    else:
        C = x.shape[1]
        if index_labels(req, x):
            ii = int(req.get('ignoreIndex', -100))
            y = torch.tensor(req['labels'], dtype=torch.long)
            mask = y != ii
            t = F.one_hot(torch.where(mask, y, 0), C).movedim(-1, 1).to(dt)
            t = t * (1 - smooth) + smooth / C
            t = t * mask.unsqueeze(1).to(dt)
        else:
            t = T(req['labels'], dt) * (1 - smooth) + smooth / C
            mask = None
        pt = (t * torch.softmax(x, dim=1)).sum(dim=1)
        term = (1 - pt) ** power
        if mask is not None:
            term = term * mask.to(dt)
        text = "p_t = sum_c t'_c softmax(x)_c"
    none = outs['none'] + eps * term
    return none, norm, f'Poly-1 (Leng et al. 2022): [{ref}] + {eps} * (1 - p_t)^{power}, {text}'


def logit_adjusted(req, dt):
    x = T(req['logits'], F64)
    n = T(req['classCounts'], F64)
    tau = float(req.get('tau', 1.0))
    adj = x + tau * torch.log(n / n.sum()) if tau != 0 else x
    outs, norm, ref = g.ce_softmax(dict(base_request(req), logits=adj.to(dt).tolist()), dt)
    return outs['none'], norm, f'Menon et al. 2021: {ref} on x + {tau} * log(n / sum n)'


def ldam(req, dt):
    x = T(req['logits'], dt)
    y = torch.tensor(req['labels'], dtype=torch.long)
    ii = int(req.get('ignoreIndex', -100))
    mask = y != ii
    w = g.opt_vec(req, 'weight', dt)
    loss = LDAM.LDAMLoss(req['classCounts'], max_m=float(req.get('maxMargin', 0.5)), weight=w,
                         s=float(req.get('scale', 30)))
    seen = {}
    real = F.cross_entropy

    def capture(inp, target, weight=None):
        seen['z'] = inp
        return real(inp, target, weight=weight)
    LDAM.F = types.SimpleNamespace(cross_entropy=capture)
    try:
        mean = loss(x, torch.where(mask, y, 0))   # LDAMLoss cannot take -100: those rows are dropped below
    finally:
        LDAM.F = F
    z = seen['z']
    none = F.cross_entropy(z, y, weight=w, ignore_index=ii, reduction='none')
    norm = float(mask.sum()) if w is None else math.fsum(w.double()[y[mask]].tolist())
    if bool(mask.all()):
        assert g.close(float(mean), math.fsum(none.tolist()) / norm, 1e-11 if dt == F64 else 1e-5)
    return none, norm, (f"LDAM-DRW LDAMLoss({req['classCounts'] if len(req['classCounts']) <= 10 else 'n'}, "
                        f"max_m={req.get('maxMargin', 0.5)}, s={req.get('scale', 30)}"
                        f"{', weight=w' if w is not None else ''}) logits, F.cross_entropy(ignore_index={ii}, reduction=R)")


def asl_elements(x, y, gamma_neg, gamma_pos, clip, eps):
    """AsymmetricLoss.forward line by line, without its final -sum."""
    x_sigmoid = torch.sigmoid(x)
    xs_pos = x_sigmoid
    xs_neg = 1 - x_sigmoid
    if clip is not None and clip > 0:
        xs_neg = (xs_neg + clip).clamp(max=1)
    los_pos = y * torch.log(xs_pos.clamp(min=eps))
    los_neg = (1 - y) * torch.log(xs_neg.clamp(min=eps))
    loss = los_pos + los_neg
    if gamma_neg > 0 or gamma_pos > 0:
        pt = xs_pos * y + xs_neg * (1 - y)
        one_sided_gamma = gamma_pos * y + gamma_neg * (1 - y)
        loss = loss * torch.pow(1 - pt, one_sided_gamma)
    return -loss


def asymmetric(req, dt):
    x = T(req['logits'], dt)
    xk, t, mask, text = g.sigmoid_targets(req, x, dt)
    kw = dict(gamma_neg=float(req.get('gammaNeg', 4)), gamma_pos=float(req.get('gammaPos', 1)),
              clip=float(req.get('clip', 0.05)), eps=float(req.get('eps', 1e-8)))
    total = ASL.AsymmetricLoss(**kw)(xk, t)
    elem = asl_elements(xk, t, **kw)
    assert g.close(float(total), math.fsum(elem.reshape(-1).tolist()), 1e-11 if dt == F64 else 1e-4), (float(total), float(elem.sum()))
    return g.scatter_rows(x, mask, elem), float(xk.numel()), f'ASL AsymmetricLoss({", ".join(f"{k}={v}" for k, v in kw.items())})({text}) = R'


def seesaw(req, dt):
    x = T(req['logits'], dt)
    y = torch.tensor(req['labels'], dtype=torch.long)
    ii = int(req.get('ignoreIndex', -100))
    mask = y != ii
    C = x.shape[1]
    kw = dict(p=float(req.get('p', 0.8)), q=float(req.get('q', 2.0)), eps=float(req.get('eps', 1e-2)))
    cum = T(req['classCounts'], dt)
    xk, yk = x[mask], y[mask]
    weight = yk.new_ones(yk.size(), dtype=torch.float)   # what SeesawLoss.forward passes
    none = SEESAW.seesaw_ce_loss(xk, yk, weight, cum, C, reduction='none', **kw)
    mean = SEESAW.seesaw_ce_loss(xk, yk, weight, cum, C, reduction='mean', **kw)
    if xk.shape[0]:
        assert g.close(float(mean), math.fsum(none.tolist()) / xk.shape[0], 1e-11 if dt == F64 else 1e-5)
    full = torch.zeros(y.shape, dtype=dt)
    full[mask] = none.to(dt)
    return full, float(mask.sum()), f'mmpretrain seesaw_ce_loss(x, y, ones, cum_samples=n, C, {", ".join(f"{k}={v}" for k, v in kw.items())}, reduction=R)'


REFS = {'poly': poly, 'logit_adjusted': logit_adjusted, 'ldam': ldam, 'asymmetric': asymmetric, 'seesaw': seesaw}


# ----------------------------------------------------------------------------------------------
# The cases

def counts_tail(C, top=5000, low=0.001):
    return [round(top * low ** (c / (C - 1))) for c in range(C)]


def specs():
    out = []

    def add(name, loss, request, reds=REDS):
        for r in reds:
            body = dict(request)
            if r is not None:
                body['reduction'] = r
            out.append((f'{loss}/{name}/{r or "default"}', loss, body))

    ql, qy, qt = g.qlogits, g.qlabels, g.qtargets
    big_x = g.G('logits', 101, shape=[1024, 400], scale=8)
    big_y = g.G('index', 102, n=1024, classes=400, longTail=3)
    big_y_ignore = g.G('index', 103, n=1024, classes=400, longTail=3, ignoreEvery=7)
    big_b = g.G('binary', 104, shape=[1024, 400], p=0.02)
    w10 = [0.5 + c / 8 for c in range(10)]
    n10 = [5000, 2000, 800, 300, 120, 50, 20, 8, 3, 1]
    n400 = counts_tail(400)

    # Poly-1, softmax
    for name, extra in (('ce', {}), ('ce-eps-neg1', {'epsilon': -1}), ('ce-eps-2.5', {'epsilon': 2.5}),
                        ('ce-weight-ignore', {'weight': w10, 'ignoreIndex': 3}),
                        ('ce-smoothing', {'labelSmoothing': 0.1, 'epsilon': 2}),
                        ('ce-smoothing-weight-ignore', {'labelSmoothing': 0.2, 'weight': w10, 'ignoreIndex': 3}),
                        ('focal', {'base': 'focal'}),
                        ('focal-g0.5-alpha-null', {'base': 'focal', 'gamma': 0.5, 'alpha': None, 'epsilon': -0.5}),
                        ('focal-alpha-vec-ignore', {'base': 'focal', 'gamma': 3, 'alpha': w10, 'ignoreIndex': 3}),
                        ('focal-smoothing', {'base': 'focal', 'gamma': 1.5, 'labelSmoothing': 0.1})):
        n = f'softmax/index/{name}'
        add(n, 'poly', {'logits': ql(n, [8, 10], 4), 'labels': qy(n, 8, 10), 'activation': 'softmax', 'base': 'ce', **extra})
    for name, extra in (('ce', {}), ('ce-smoothing', {'labelSmoothing': 0.3}), ('focal', {'base': 'focal', 'gamma': 2.5})):
        n = f'softmax/probs/{name}'
        add(n, 'poly', {'logits': ql(n, [6, 5], 3), 'labels': g.qprobs(n, [6, 5]), **extra})
    n = 'softmax/temporal/ce'
    add(n, 'poly', {'logits': ql(n, [2, 4, 3], 3), 'labels': [qy(n, 3, 4, tag='a'), qy(n, 3, 4, tag='b')]})
    add('softmax/defaults', 'poly', {'logits': ql('pd', [4, 3], 2), 'labels': qy('pd', 4, 3)}, reds=(None,))
    add('softmax/n1-c2', 'poly', {'logits': [[0.5, -1.25]], 'labels': [1], 'epsilon': 1.5})
    add('softmax/logits-1e3/ce', 'poly', {'logits': ql('p3', [6, 10], 1000, q=4), 'labels': qy('p3', 6, 10)})
    add('softmax/logits-1e3/focal', 'poly', {'logits': ql('p3', [6, 10], 1000, q=4), 'labels': qy('p3', 6, 10), 'base': 'focal', 'gamma': 0.5})
    add('softmax/large/ce', 'poly', {'logits': big_x, 'labels': big_y_ignore, 'epsilon': 2}, reds=('mean', 'none'))
    add('softmax/large/focal', 'poly', {'logits': big_x, 'labels': big_y, 'base': 'focal', 'gamma': 2}, reds=('mean',))
    # Poly-1, sigmoid
    for name, extra in (('ce', {}), ('ce-weight-posweight', {'weight': w10[:6], 'posWeight': [2, 1, 1, 3, 1, 0.5]}),
                        ('focal', {'base': 'focal'}), ('focal-alpha-null-g1.5', {'base': 'focal', 'alpha': None, 'gamma': 1.5, 'epsilon': -1}),
                        ('focal-smoothing', {'base': 'focal', 'labelSmoothing': 0.1, 'epsilon': 3})):
        n = f'sigmoid/targets/{name}'
        add(n, 'poly', {'logits': ql(n, [5, 6], 6), 'labels': qt(n, [5, 6]), 'activation': 'sigmoid', **extra})
    n = 'sigmoid/index-ignore/focal'
    add(n, 'poly', {'logits': ql(n, [6, 4], 5), 'labels': qy(n, 6, 4, ignore=(2,)), 'activation': 'sigmoid', 'base': 'focal'})
    add('sigmoid/binary-1d/ce', 'poly', {'logits': [3.5, -2, 0.25, 7], 'labels': [1, 0, 1, 0], 'activation': 'sigmoid'})
    add('sigmoid/large/focal', 'poly', {'logits': big_x, 'labels': big_b, 'activation': 'sigmoid', 'base': 'focal'}, reds=('mean', 'none'))
    # identities: epsilon = 0 equals the base
    for base, act, labels in (('ce', 'softmax', qy('pi', 8, 10)), ('focal', 'softmax', qy('pi', 8, 10)),
                              ('ce', 'sigmoid', qt('pi', [8, 10])), ('focal', 'sigmoid', qt('pi', [8, 10]))):
        add(f'identity/{act}/{base}', 'poly', {'logits': ql('pi', [8, 10], 5), 'labels': labels, 'activation': act, 'base': base, 'epsilon': 0})

    # Logit adjustment
    for name, extra in (('default', {}), ('tau-0.5', {'tau': 0.5}), ('tau-2-weight', {'tau': 2, 'weight': w10}),
                        ('ignore-smoothing', {'ignoreIndex': 9, 'labelSmoothing': 0.1}), ('tau-neg', {'tau': -1})):
        n = f'index/{name}'
        add(n, 'logit_adjusted', {'logits': ql(n, [8, 10], 4), 'labels': qy(n, 8, 10), 'classCounts': n10, **extra})
    n = 'probs/tau-1'
    add(n, 'logit_adjusted', {'logits': ql(n, [6, 5], 3), 'labels': g.qprobs(n, [6, 5]), 'classCounts': [100, 50, 20, 5, 1]})
    add('absent-class-tau-0', 'logit_adjusted', {'logits': ql('la0', [4, 3], 2), 'labels': [0, 1, 1, 2], 'classCounts': [10, 0, 5], 'tau': 0})
    add('n1-c2', 'logit_adjusted', {'logits': [[2.5, -0.75]], 'labels': [0], 'classCounts': [9, 1]})
    add('logits-1e3', 'logit_adjusted', {'logits': ql('la3', [6, 10], 1000, q=4), 'labels': qy('la3', 6, 10), 'classCounts': n10})
    add('large', 'logit_adjusted', {'logits': big_x, 'labels': big_y_ignore, 'classCounts': n400}, reds=('mean', 'none'))
    add('identity/tau-0', 'logit_adjusted', {'logits': ql('lai', [8, 10], 4), 'labels': qy('lai', 8, 10), 'classCounts': n10, 'tau': 0})

    # LDAM
    for name, extra in (('default', {}), ('margin-0.3-scale-10', {'maxMargin': 0.3, 'scale': 10}),
                        ('drw-weight', {'weight': w10}), ('ignore', {'ignoreIndex': 4, 'scale': 5}),
                        ('margin-1-scale-0.5', {'maxMargin': 1, 'scale': 0.5})):
        n = f'index/{name}'
        add(n, 'ldam', {'logits': ql(n, [8, 10], 2), 'labels': qy(n, 8, 10), 'classCounts': n10, **extra})
    add('n1-c2', 'ldam', {'logits': [[0.25, 0.5]], 'labels': [1], 'classCounts': [100, 3]})
    add('logits-1e3', 'ldam', {'logits': ql('ld3', [6, 10], 1000, q=4), 'labels': qy('ld3', 6, 10), 'classCounts': n10, 'scale': 1})
    add('rare-classes', 'ldam', {'logits': ql('ldr', [8, 10], 2), 'labels': [9, 9, 8, 0, 1, 9, 7, 8], 'classCounts': n10})
    add('large', 'ldam', {'logits': big_x, 'labels': big_y, 'classCounts': n400, 'scale': 4}, reds=('mean', 'none'))
    add('identity/margin-0-scale-1', 'ldam', {'logits': ql('ldi', [8, 10], 4), 'labels': qy('ldi', 8, 10), 'classCounts': n10, 'maxMargin': 0, 'scale': 1})

    # Asymmetric
    for name, extra in (('default', {}), ('g0-2-clip0', {'gammaPos': 0, 'gammaNeg': 2, 'clip': 0}),
                        ('g2-2-clip0.2', {'gammaPos': 2, 'gammaNeg': 2, 'clip': 0.2}),
                        ('eps-1e-3', {'eps': 1e-3, 'gammaNeg': 0.5}), ('smoothing', {'labelSmoothing': 0.1})):
        n = f'binary/{name}'
        add(n, 'asymmetric', {'logits': ql(n, [6, 7], 6), 'labels': g.qbinary(n, [6, 7], p=0.3), 'activation': 'sigmoid', **extra}, reds=(None, 'mean', 'none'))
    n = 'soft-targets'
    add(n, 'asymmetric', {'logits': ql(n, [5, 4], 4), 'labels': qt(n, [5, 4]), 'activation': 'sigmoid', 'gammaPos': 0.5, 'gammaNeg': 3})
    n = 'index-ignore'
    add(n, 'asymmetric', {'logits': ql(n, [6, 5], 4), 'labels': qy(n, 6, 5, ignore=(1, 4)), 'activation': 'sigmoid'})
    add('binary-1d', 'asymmetric', {'logits': [4, -3, 0.5, -0.25, 9], 'labels': [1, 0, 0, 1, 1], 'activation': 'sigmoid'})
    add('n1-c2', 'asymmetric', {'logits': [[1.5, -2.5]], 'labels': [[1, 0]], 'activation': 'sigmoid'})
    add('logits-1e3', 'asymmetric', {'logits': ql('as3', [6, 10], 1000, q=4), 'labels': g.qbinary('as3', [6, 10]), 'activation': 'sigmoid'})
    add('logits-1e3-clip0', 'asymmetric', {'logits': ql('as3', [6, 10], 1000, q=4), 'labels': g.qbinary('as3', [6, 10]), 'activation': 'sigmoid', 'clip': 0})
    add('large', 'asymmetric', {'logits': big_x, 'labels': big_b, 'activation': 'sigmoid'}, reds=(None, 'mean', 'none'))
    add('identity/bce', 'asymmetric', {'logits': ql('asi', [8, 10], 8), 'labels': qt('asi', [8, 10]), 'activation': 'sigmoid', 'gammaPos': 0, 'gammaNeg': 0, 'clip': 0})

    # Seesaw
    for name, extra in (('default', {}), ('p0-q2', {'p': 0}), ('p0.8-q0', {'q': 0}), ('eps-0.1-q1', {'eps': 0.1, 'q': 1}),
                        ('ignore', {'ignoreIndex': 5})):
        n = f'index/{name}'
        add(n, 'seesaw', {'logits': ql(n, [8, 10], 4), 'labels': qy(n, 8, 10), 'classCounts': n10, **extra})
    add('absent-classes', 'seesaw', {'logits': ql('ssa', [6, 5], 3), 'labels': [0, 1, 4, 2, 0, 3], 'classCounts': [50, 0, 7, 0, 1]})
    add('n1-c2', 'seesaw', {'logits': [[-1, 1.5]], 'labels': [0], 'classCounts': [3, 40]})
    add('logits-1e3', 'seesaw', {'logits': ql('ss3', [6, 10], 1000, q=4), 'labels': qy('ss3', 6, 10), 'classCounts': n10})
    add('large', 'seesaw', {'logits': big_x, 'labels': big_y_ignore, 'classCounts': n400}, reds=('mean', 'none'))
    add('identity/p0-q0', 'seesaw', {'logits': ql('ssi', [8, 10], 4), 'labels': qy('ssi', 8, 10), 'classCounts': n10, 'p': 0, 'q': 0})
    return out


def identity_base(loss, req):
    """The generate.py endpoint an identity case must equal: poly's base, else cross-entropy."""
    return req.get('base', 'ce') if loss == 'poly' else 'ce'


def build():
    cases, worst = [], {}
    for name, loss, request in specs():
        req = g.materialize(request)
        red = req.get('reduction', 'sum' if loss == 'asymmetric' else 'mean')
        per, norm, ref = REFS[loss](req, F64)
        assert torch.isfinite(per).all(), name
        s = math.fsum(per.reshape(-1).tolist())
        loss_value = (None if norm == 0 else s / norm) if red == 'mean' else s if red == 'sum' else None
        if red == 'none':
            expected_loss = g.summarize(per) if per.numel() > g.SUMMARY_OVER else g.clean(per.tolist())
        else:
            expected_loss = None if loss_value is None else g.clean(loss_value)
        if '/identity/' in f'/{name}':
            bouts, bnorm, _ = g.compute(identity_base(loss, req), base_request(req), F64)
            assert bnorm == norm, name
            assert torch.allclose(per, bouts['none'], rtol=1e-13, atol=1e-300), (name, (per - bouts['none']).abs().max())
        per32, _, _ = REFS[loss](req, F32)
        d = (per32.double() - per).abs() / per.abs().clamp(min=1)
        err = float(d.max()) if d.numel() else 0.0
        if err > worst.get(loss, (-1, ''))[0]:
            worst[loss] = (err, name)
        cases.append({'name': name, 'loss': loss, 'request': request,
                      'expected': {'loss': expected_loss, 'sum': g.clean(s), 'normalizer': g.clean(norm)},
                      'reference': ref.replace('reduction=R', f"reduction='{red}'").replace(' = R', f' ({red})') + ', float64'})
    return cases, worst


def main():
    cases, worst = build()
    path = os.path.join(HERE, 'losses.json')
    r = g.Mulberry32(7)
    prng = {'seed': 7, 'first': [r.next() for _ in range(8)]}
    g.dump(path, cases, prng, g.gen_fingerprints(cases))
    groups = {}
    for c in cases:
        groups[c['loss']] = groups.get(c['loss'], 0) + 1
    print(f'losses.json: {len(cases)} cases {groups}, {os.path.getsize(path)} bytes')
    print('float32 torch vs float64 reference, per-row/element |d| / max(|ref|, 1):')
    for loss, (err, name) in sorted(worst.items()):
        print(f'    {loss:16s} {err:.3e}  {name}')


if __name__ == '__main__':
    main()
