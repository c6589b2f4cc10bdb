#!/usr/bin/python3
"""PyTorch reference for bench/byel_bench.ts: the same networks and steps, timed the same way.

Never a runtime dependency of byel. Install with `apt-get install -y python3-torch
libopenblas0-pthread` and run with the system interpreter (bench/compare.ts does):

    /usr/bin/python3 bench/reference_torch.py --quick-json "$(deno run bench/spec.ts)"
        [--rows r18,quick] [--kinds supervised,byel,inference] [--sizes 64,112]
        [--widths 1,0.5] [--batch 32] [--steps 3] [--threads N]
        [--memory-format channels_last|contiguous] [--blas auto|keep|preload]
    /usr/bin/python3 bench/reference_torch.py --quick-json SPEC --count-params

Prints progress rows to stderr and, as its last line, one JSON object {"bench": "torch",
"torch_version", "blas", "blas_detail", "memory_format", "threads", "rows": [{"name", "img_s",
"step_ms", "spec"}, ...]}. `--count-params` prints the trainable parameter counts of the spec's
networks instead (the tests compare them with byel's).

PyTorch at its best on a CPU:
- `torch.set_num_threads(--threads)`, default os.cpu_count();
- models and inputs in `torch.channels_last` (NHWC, the layout oneDNN's convolutions prefer and
  the layout tfjs uses; `--memory-format contiguous` times PyTorch's NCHW default);
- OpenBLAS with one thread of its own: after a matmul the libraries mapped into the process
  (/proc/self/maps) say which BLAS PyTorch called. OpenBLAS gets `openblas_set_num_threads(1)`
  (its pthreads on top of PyTorch's would oversubscribe the cores); any other BLAS but MKL
  makes the script run itself again with `LD_PRELOAD` of Debian's OpenBLAS pthread library
  and `OPENBLAS_NUM_THREADS=1`. When that is impossible it says so and goes on. `--blas keep`
  leaves the BLAS alone (to time the difference); `--blas preload` always re-executes.

The rows, all built from a spec (bench/spec.ts's BenchSpec: network, batches, heads,
optimizers, augmentations of a byel config):
- `kind/quick`: the quick preset's spec, as given by `--quick-json`;
- `kind/r18-w<width>/<size>`: the same spec on a ResNet-18 (ImageNet stem, BatchNorm, ImageNet
  normalisation) of that width and size, `--batch` images per step in both stages, one pass
  per step (bench/spec.ts's r18Config, mirrored here by r18_spec()).
Each row reports its spec; bench/compare.ts compares a row only when both sides timed the same.

The networks mirror src/model: resnet.ts (torchvision's ResNet-18/50, 7x7/2 stem without bias +
BN + ReLU + 3x3/2 max-pool, or the 3x3/1 CIFAR stem; stride on the first 3x3 conv of a basic
block and on the 3x3 of a bottleneck; 1x1 conv + BN shortcut where the shape changes), vgg.ts
(four stages of two 3x3 conv without bias + norm + ReLU and a 2x2 max-pool; with norm `ibn`,
affine instance norm without running statistics in the first two stages, BatchNorm after),
stage widths max(1, round(64, 128, 256, 512 x width)) rounded half up as JavaScript does,
global average pool; heads.ts (projector and predictor Linear-BN1d-ReLU-Linear; emotion
classifier p @ W [D, 6] then BN1d(6); fine-tuning head Dropout + Linear(F, 6) with bias). The
steps mirror bench/steps.ts, i.e. src/train/step.ts:
- supervised: one augmented view (finetune.augment), train-mode classifier with dropout,
  cross-entropy, backward, the finetune.optimizer step;
- byel: two augmented views (pretrain.augment); the target (a copy of encoder + projector) on
  both views under no_grad in train mode, running statistics untouched; online forward of both
  views; loss = w.cls (CE(cls(p1)) + CE(cls(p2))) + w.byol (byol(EVS(p1), z2) + byol(EVS(p2),
  z1)) + w.orth sum|I - W^T W|; backward; the pretrain.optimizer step; EMA of the target;
- inference: normalisation, eval-mode classifier, softmax, argmax read back, under
  torch.inference_mode;
- optimizers as src/train: adam and sgd are PyTorch's own (L2 decay on weights only), lars is
  src/train/lars.ts; micro-batches (`microBatch`) accumulate gradients as byel does;
- augmentation as src/data/augment.ts, per image on the batch: one projective warp (random
  resized crop, zoom, rotation, shift, flip) by affine_grid + grid_sample, brightness, contrast,
  saturation, hue (a 3x3 YIQ rotation), grayscale, 3x3 Gaussian blur, then the input
  normalisation; parameters drawn per image in Python as byel draws them in JavaScript.

Known differences, none of which changes the arithmetic much: the learning rate is the stage's
base rate (byel follows its schedule; the cost is the same); the first conv's input gradient is
not computed by PyTorch (tfjs's tape computes it); PyTorch's augmentation and dropout masks
are drawn by its own generators.
"""

import argparse
import copy
import ctypes
import glob
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 6
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ROW_GROUPS = ("r18", "quick")
KINDS = ("supervised", "byel", "inference")

# Timing protocol shared with bench/byel_bench.ts.
WARMUP = 2
MIN_TIMED_MS = 2000
MAX_STEPS = 30

# --- BLAS --------------------------------------------------------------------------------------

_REEXEC_MARK = "BYEL_BENCH_REEXEC"


def _mapped_libraries():
    """Paths of the shared libraries mapped into this process."""
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "/" in line and ".so" in line})


def detect_blas():
    """Which BLAS PyTorch calls: ("openblas" | "mkl" | "blis" | "reference" | "unknown", path)."""
    a = torch.randn(64, 64)
    (a @ a).sum().item()  # loads the BLAS if it is loaded lazily
    libs = _mapped_libraries()
    for kind, pattern in (("openblas", r"openblas"), ("mkl", r"libmkl"), ("blis", r"blis")):
        hits = [p for p in libs if re.search(pattern, os.path.basename(p)) or
                (kind == "openblas" and "/openblas" in p)]
        if hits:
            return kind, hits
    blas = [p for p in libs if re.search(r"libblas\.so", p)]
    if blas:
        return "reference", blas
    return "unknown", []


def find_openblas_pthread():
    """Debian's OpenBLAS pthread libblas, or None."""
    for p in sorted(glob.glob("/usr/lib/*/openblas-pthread/libblas.so.3")):
        if os.path.exists(p):
            return p
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        m = re.search(r"(libopenblasp?\S*\.so\S*) .*=> (\S+)", line)
        if m:
            return m.group(2)
    return None


def _openblas_handle(paths):
    """ctypes handle of the loaded OpenBLAS (the library exporting openblas_set_num_threads)."""
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
            lib.openblas_set_num_threads
            return lib
        except (OSError, AttributeError):
            continue
    return None


def setup_blas(mode):
    """Makes PyTorch call single-threaded OpenBLAS when it can; returns what was done."""
    kind, paths = detect_blas()
    note = None
    again = os.environ.get(_REEXEC_MARK) == "1"
    if mode == "keep":
        note = "left as loaded (--blas keep)"
    elif (mode == "preload" or kind not in ("openblas", "mkl")) and not again:
        lib = find_openblas_pthread()
        if lib:
            env = dict(os.environ)
            env["LD_PRELOAD"] = ":".join(p for p in (lib, env.get("LD_PRELOAD")) if p)
            env["OPENBLAS_NUM_THREADS"] = "1"
            env[_REEXEC_MARK] = "1"
            print(f"blas: {kind} loaded; running again with LD_PRELOAD={lib}", file=sys.stderr,
                  flush=True)
            os.execve(sys.executable, [sys.executable] + sys.argv, env)
        note = (f"{kind} BLAS loaded and no OpenBLAS pthread library found "
                "(apt-get install -y libopenblas0-pthread); timing with it")
    elif kind not in ("openblas", "mkl"):
        note = f"LD_PRELOAD of OpenBLAS did not take: {kind} BLAS still loaded"
    detail = {"libraries": paths}
    if kind == "openblas":
        lib = _openblas_handle(paths)
        if lib is not None:
            if mode != "keep":
                lib.openblas_set_num_threads(1)
            try:
                lib.openblas_get_config.restype = ctypes.c_char_p
                detail["config"] = lib.openblas_get_config().decode()
                detail["threads"] = lib.openblas_get_num_threads()
            except AttributeError:
                pass
    if again:
        detail["preloaded"] = os.environ.get("LD_PRELOAD")
    if note:
        print(f"blas: {note}", file=sys.stderr, flush=True)
        detail["note"] = note
    return kind, detail


# --- networks ----------------------------------------------------------------------------------

def js_round(x):
    """Math.round of JavaScript: halves go up."""
    return int(math.floor(x + 0.5))


def stage_widths(width):
    """src/model/resnet.ts stageWidths."""
    return [max(1, js_round(c * width)) for c in (64, 128, 256, 512)]


class BasicBlock(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.down = None
        if stride != 1 or cin != c:
            self.down = nn.Sequential(nn.Conv2d(cin, c, 1, stride, 0, bias=False),
                                      nn.BatchNorm2d(c))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.down(x) if self.down is not None else x))


class Bottleneck(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 1, 1, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, 4 * c, 1, 1, 0, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * c)
        self.down = None
        if stride != 1 or cin != 4 * c:
            self.down = nn.Sequential(nn.Conv2d(cin, 4 * c, 1, stride, 0, bias=False),
                                      nn.BatchNorm2d(4 * c))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    """src/model/resnet.ts: depth 18 or 50, imagenet or cifar stem."""

    def __init__(self, arch):
        super().__init__()
        widths = stage_widths(arch["width"])
        stem = max(1, js_round(64 * arch["width"]))
        imagenet = arch["stem"] == "imagenet"
        layers = [nn.Conv2d(3, stem, 7 if imagenet else 3, 2 if imagenet else 1,
                            3 if imagenet else 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU()]
        if imagenet:
            layers.append(nn.MaxPool2d(3, 2, 1))
        self.stem = nn.Sequential(*layers)
        block, expansion = (BasicBlock, 1) if arch["depth"] == 18 else (Bottleneck, 4)
        counts = [2, 2, 2, 2] if arch["depth"] == 18 else [3, 4, 6, 3]
        blocks, cin = [], stem
        for s, (c, n) in enumerate(zip(widths, counts)):
            for b in range(n):
                blocks.append(block(cin, c, 2 if b == 0 and s > 0 else 1))
                cin = c * expansion
        self.blocks = nn.Sequential(*blocks)
        self.dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.blocks(self.stem(x)).mean((2, 3))


class Vgg(nn.Module):
    """src/model/vgg.ts: four stages of two (3x3 conv, norm, ReLU) and a 2x2 max-pool."""

    def __init__(self, arch):
        super().__init__()
        layers, cin = [], 3
        for s, c in enumerate(stage_widths(arch["width"])):
            instance = arch.get("norm") == "ibn" and s < 2  # vgg.ts _IN_STAGES
            for _ in range(2):
                norm = (nn.InstanceNorm2d(c, affine=True, track_running_stats=False) if instance
                        else nn.BatchNorm2d(c))
                layers += [nn.Conv2d(cin, c, 3, 1, 1, bias=False), norm, nn.ReLU()]
                cin = c
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.features(x).mean((2, 3))


def make_encoder(arch):
    """src/model/encoder.ts encoderInit."""
    if arch["family"] == "vgg":
        return Vgg(arch)
    if arch["family"] == "resnet":
        return ResNet(arch)
    raise ValueError(f"arch.family = {arch['family']!r}: expected resnet or vgg")


def mlp(din, hidden, dout):
    return nn.Sequential(nn.Linear(din, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, dout))


class Classifier(nn.Module):
    """src/model/networks.ts classifierForward: encoder, Dropout, Linear(F, 6)."""

    def __init__(self, arch, dropout):
        super().__init__()
        self.encoder = make_encoder(arch)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.dim, NUM_CLASSES)

    def forward(self, x):
        return self.head(self.dropout(self.encoder(x)))


def l2n(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def regression(p, z):
    return (2 - 2 * (l2n(p) * l2n(z)).sum(1)).mean()


class Byel(nn.Module):
    """src/model/networks.ts initPretrainNets with the emotion classifier."""

    def __init__(self, arch, hidden, d):
        super().__init__()
        self.encoder = make_encoder(arch)
        self.projector = mlp(self.encoder.dim, hidden, d)
        self.predictor = mlp(d, hidden, d)
        self.emotion_w = nn.Parameter(torch.linalg.qr(torch.randn(d, NUM_CLASSES))[0])
        self.emotion_bn = nn.BatchNorm1d(NUM_CLASSES)
        self.target = nn.ModuleDict({
            "encoder": copy.deepcopy(self.encoder), "projector": copy.deepcopy(self.projector)})
        for q in self.target.parameters():
            q.requires_grad_(False)
        for m in self.target.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.momentum = 0.0  # batch statistics, running ones untouched, as byel's target

    def online(self):
        return [(n, q) for n, q in self.named_parameters() if not n.startswith("target.")]

    def loss(self, v1, v2, labels, weights):
        with torch.no_grad():  # stop-gradient: the target is a constant for the loss
            z1 = self.target["projector"](self.target["encoder"](v1))
            z2 = self.target["projector"](self.target["encoder"](v2))
        p1 = self.predictor(self.projector(self.encoder(v1)))
        p2 = self.predictor(self.projector(self.encoder(v2)))
        w = self.emotion_w
        cls = (F.cross_entropy(self.emotion_bn(p1 @ w), labels)
               + F.cross_entropy(self.emotion_bn(p2 @ w), labels))
        e = F.one_hot(labels, NUM_CLASSES).float() @ w.t()  # [B, D] emotion vectors
        p1e = p1 - p1.norm(dim=1, keepdim=True) * e
        p2e = p2 - p2.norm(dim=1, keepdim=True) * e
        orth = (torch.eye(NUM_CLASSES) - w.t() @ w).abs().sum()
        byol = regression(p1e, z2) + regression(p2e, z1)
        return weights["byol"] * byol + weights["cls"] * cls + weights["orth"] * orth

    @torch.no_grad()
    def update_target(self, decay):
        pairs = [(self.target["encoder"], self.encoder), (self.target["projector"], self.projector)]
        for t_mod, o_mod in pairs:
            for t, o in zip(t_mod.parameters(), o_mod.parameters()):
                t.mul_(decay).add_(o, alpha=1 - decay)


def count_trainable(module_or_params):
    params = module_or_params.parameters() if isinstance(module_or_params, nn.Module) \
        else module_or_params
    return sum(q.numel() for q in params if q.requires_grad)


# --- optimizers --------------------------------------------------------------------------------

class Lars:
    """src/train/lars.ts: weights (byel's `.w`, dim > 1) get decay and the trust ratio."""

    def __init__(self, params, lr, weight_decay, momentum, trust, eps=1e-8):
        self.params = params
        self.lr, self.wd, self.momentum = lr, weight_decay, momentum
        self.trust, self.eps = trust, eps
        self.buf = {}

    @torch.no_grad()
    def step(self):
        for i, q in enumerate(self.params):
            if q.grad is None:
                continue
            d = q.grad
            if q.dim() > 1:
                if self.wd > 0:
                    d = d + self.wd * q
                pn, dn = q.norm(), d.norm()
                if pn > 0 and dn > 0:
                    d = d * (self.trust * pn / (dn + self.eps))
            if self.momentum > 0:
                b = self.buf.get(i)
                self.buf[i] = b = d.clone() if b is None else b.mul_(self.momentum).add_(d)
                d = b
            q.sub_(self.lr * d)


def make_optimizer(stage, params, trust=1e-3):
    """The optimizer a stage's spec names, over `params` (decay on weights only)."""
    kind, lr, wd = stage["optimizer"], stage["lr"], stage["weightDecay"]
    if kind == "lars":
        return Lars(params, lr, wd, stage["momentum"], trust)
    groups = [{"params": [q for q in params if q.dim() > 1], "weight_decay": wd},
              {"params": [q for q in params if q.dim() <= 1], "weight_decay": 0.0}]
    if kind == "adam":
        try:  # the multi-tensor implementation where this PyTorch has it
            return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=True)
        except TypeError:
            return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=stage["momentum"])
    raise ValueError(f"optimizer = {kind!r}: expected lars, adam or sgd")


# --- augmentation ------------------------------------------------------------------------------

def _random_resized_crop(size, scale, ratio, rng):
    area = size * size
    lr0, lr1 = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        a = area * rng.uniform(scale[0], scale[1])
        r = math.exp(rng.uniform(lr0, lr1))
        w, h = js_round(math.sqrt(a * r)), js_round(math.sqrt(a / r))
        if 0 < w <= size and 0 < h <= size:
            return rng.randrange(size - h + 1), rng.randrange(size - w + 1), h, w
    return 0, 0, size, size


def _draw(cfg, n, size, rng):
    """src/data/augment.ts drawAugmentParams."""
    out = []
    for _ in range(n):
        crop = _random_resized_crop(size, cfg["cropScale"], cfg["cropRatio"], rng)
        flip = rng.random() < cfg["flipP"]
        zoom = rng.uniform(*cfg["zoom"])
        rot = rng.uniform(-1, 1) * cfg["rotation"] * math.pi / 180
        shift = (rng.uniform(-cfg["shift"], cfg["shift"]), rng.uniform(-cfg["shift"], cfg["shift"]))
        jitter = rng.random() < cfg["jitterP"]

        def f(s):
            return rng.uniform(max(0.0, 1 - s), 1 + s) if jitter else 1.0
        b, c, s = f(cfg["brightness"]), f(cfg["contrast"]), f(cfg["saturation"])
        hue = rng.uniform(-cfg["hue"], cfg["hue"]) if jitter else 0.0
        gray = rng.random() < cfg["grayscaleP"]
        blur = rng.uniform(*cfg["blurSigma"]) if rng.random() < cfg["blurP"] else 0.0
        out.append(dict(crop=crop, flip=flip, zoom=zoom, rot=rot, shift=shift, b=b, c=c, s=s,
                        hue=hue, gray=gray, blur=blur))
    return out


def _theta(p, src, out):
    """augment.ts affineTransform (pixel coordinates) as affine_grid's normalised theta."""
    top, left, h, w = p["crop"]
    t, c, s = out, math.cos(p["rot"]), math.sin(p["rot"])
    f = -1 if p["flip"] else 1
    a, b = c * w * f / p["zoom"], -s * h / p["zoom"]
    cc, d = s * w * f / p["zoom"], c * h / p["zoom"]
    cx, cy = left + w / 2 - p["shift"][0] * w, top + h / 2 - p["shift"][1] * h
    k = (t - 1) / (2 * t)
    m = [[a / t, b / t, cx - 0.5 - (a + b) * k], [cc / t, d / t, cy - 0.5 - (cc + d) * k]]
    # source normalised = (2 xs + 1) / src - 1, output pixel x = (t u + t - 1) / 2.
    rows = []
    for r in m:
        gx, gy, g0 = r[0] * t / 2, r[1] * t / 2, r[0] * (t - 1) / 2 + r[1] * (t - 1) / 2 + r[2]
        rows.append([2 * gx / src, 2 * gy / src, (2 * g0 + 1) / src - 1])
    return rows


_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                        dtype=torch.float64)
_YIQ2RGB = torch.linalg.inv(_RGB2YIQ)
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def _hue_matrix(turns):
    th = 2 * math.pi * turns
    r = torch.tensor([[1, 0, 0], [0, math.cos(th), -math.sin(th)], [0, math.sin(th), math.cos(th)]],
                     dtype=torch.float64)
    return (_YIQ2RGB @ r @ _RGB2YIQ).float()


def _gray(x):
    return (x * _LUMA).sum(1, keepdim=True)  # [B, 1, H, W]


def normalize_input(x, norm):
    """augment.ts normalizeInput."""
    if norm == "imagenet":
        return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
            IMAGENET_STD).view(1, 3, 1, 1)
    t = _gray(x).expand(-1, 3, -1, -1) if norm == "gray" else x
    var, mean = torch.var_mean(t, dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (t - mean) / (var.sqrt() + 1e-3)


def augment(x, cfg, arch, rng, memory_format):
    """augment.ts augmentBatch on [B, 3, S, S] in [0, 1]: warp, colour, blur, normalisation."""
    n, src, out = x.shape[0], x.shape[2], arch["inputSize"]
    ps = _draw(cfg, n, src, rng)
    per = lambda key: torch.tensor([p[key] for p in ps], dtype=torch.float32).view(n, 1, 1, 1)
    theta = torch.tensor([_theta(p, src, out) for p in ps], dtype=torch.float32)
    grid = F.affine_grid(theta, [n, 3, out, out], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if any(p["b"] != 1 for p in ps):
        x = (x * per("b")).clamp(0, 1)
    if any(p["c"] != 1 for p in ps):
        m = _gray(x).mean((1, 2, 3), keepdim=True)
        x = ((x - m) * per("c") + m).clamp(0, 1)
    if any(p["s"] != 1 for p in ps):
        g = _gray(x)
        x = ((x - g) * per("s") + g).clamp(0, 1)
    if any(p["hue"] != 0 for p in ps):
        mats = torch.stack([_hue_matrix(p["hue"]) for p in ps])  # [B, 3, 3]
        x = torch.einsum("bij,bjhw->bihw", mats, x).clamp(0, 1)
    if any(p["gray"] for p in ps):
        k = per("gray")
        x = _gray(x).expand(-1, 3, -1, -1) * k + x * (1 - k)
    if any(p["blur"] > 0 for p in ps):
        a = torch.tensor([math.exp(-1 / (2 * p["blur"] ** 2)) if p["blur"] > 0 else 0.0
                          for p in ps]).view(n, 1, 1, 1)
        z2 = (1 + 2 * a) ** 2
        pad = F.pad(x, (1, 1, 1, 1), mode="reflect")
        h, w = x.shape[2], x.shape[3]
        at = lambda dy, dx: pad[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        edges = at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1)
        corners = at(-1, -1) + at(-1, 1) + at(1, -1) + at(1, 1)
        x = x / z2 + edges * (a / z2) + corners * (a * a / z2)
    return normalize_input(x, arch["inputNorm"]).contiguous(memory_format=memory_format)


# --- steps -------------------------------------------------------------------------------------

def r18_spec(base, width, size, batch):
    """bench/spec.ts r18Config on a spec."""
    spec = copy.deepcopy(base)
    spec["arch"] = {"family": "resnet", "depth": 18, "width": width, "stem": "imagenet",
                    "inputSize": size, "inputNorm": "imagenet", "norm": "batch"}
    for stage in ("pretrain", "finetune"):
        spec[stage]["batch"] = batch
        spec[stage]["microBatch"] = 0
    return spec


def _chunks(n, micro):
    micro = micro if micro > 0 else n
    return [(i, min(n, i + micro)) for i in range(0, n, micro)]


def build(kind, spec, memory_format):
    """A step of `kind` for `spec`: a function that runs it once and reads its result."""
    torch.manual_seed(1)
    rng = random.Random(1)
    arch = spec["arch"]
    stage = spec["pretrain"] if kind == "byel" else spec["finetune"]
    batch = stage["batch"]
    labels = torch.arange(batch) % NUM_CLASSES
    images = torch.rand(batch, 3, arch["inputSize"], arch["inputSize"]).contiguous(
        memory_format=memory_format)
    if kind == "byel":
        net = Byel(arch, stage["hidden"], stage["projectionDim"]).to(
            memory_format=memory_format).train()
        online = [q for _, q in net.online()]
        opt = make_optimizer(stage, online, trust=stage["trust"])
        parts = _chunks(batch, stage["microBatch"])

        def step():
            for q in online:
                q.grad = None
            total = 0.0
            for a, b in parts:
                x = images[a:b]
                v1 = augment(x, stage["augment"], arch, rng, memory_format)
                v2 = augment(x, stage["augment"], arch, rng, memory_format)
                loss = net.loss(v1, v2, labels[a:b], stage["lossWeights"]) / len(parts)
                loss.backward()
                total += loss.detach()
            value = float(total)  # byel reads the loss terms once per step
            opt.step()
            net.update_target(stage["emaDecay"])
            return value
        return step, count_trainable(online)
    clf = Classifier(arch, stage["dropout"]).to(memory_format=memory_format)
    if kind == "inference":
        clf.eval()

        def infer():
            with torch.inference_mode():
                x = normalize_input(images, arch["inputNorm"]).contiguous(
                    memory_format=memory_format)
                return F.softmax(clf(x), dim=1).argmax(1).tolist()
        return infer, count_trainable(clf)
    clf.train()
    params = list(clf.parameters())
    opt = make_optimizer(stage, params)
    parts = _chunks(batch, stage["microBatch"])

    def supervised():
        for q in params:
            q.grad = None
        total = 0.0
        for a, b in parts:
            view = augment(images[a:b], stage["augment"], arch, rng, memory_format)
            loss = F.cross_entropy(clf(view), labels[a:b]) / len(parts)
            loss.backward()
            total += loss.detach()
        value = float(total)
        opt.step()
        return value
    return supervised, count_trainable(params)


def param_counts(spec):
    """Trainable scalars of the spec's networks, by byel's parameter prefixes."""
    arch, p, f = spec["arch"], spec["pretrain"], spec["finetune"]
    byel = Byel(arch, p["hidden"], p["projectionDim"])
    clf = Classifier(arch, f["dropout"])
    stats = sum(b.numel() for n, b in clf.encoder.named_buffers()
                if n.endswith(("running_mean", "running_var")))
    return {
        "encoder": count_trainable(clf.encoder),
        # With BatchNorm's running statistics (instance norm keeps none), as byel's Params.count.
        "encoder_with_statistics": count_trainable(clf.encoder) + stats,
        "classifier": count_trainable(clf),
        "online": count_trainable([q for _, q in byel.online()]),
        # Learned but moved only by the EMA (byel's `target.*` minus running statistics).
        "target": sum(q.numel() for q in byel.target.parameters()),
    }


def time_step(step, steps):
    ms, s = [], 0
    # WARMUP untimed steps, then at least `steps` timed ones and, for fast steps, more until
    # MIN_TIMED_MS of timed work (at most MAX_STEPS), as byel_bench.ts.
    while s < WARMUP + steps or (sum(ms) < MIN_TIMED_MS and len(ms) < MAX_STEPS):
        t0 = time.perf_counter()
        step()
        if s >= WARMUP:
            ms.append((time.perf_counter() - t0) * 1000)
        s += 1
    return ms


def width_name(wtxt):
    """The width as JavaScript prints it (1.0 -> "1", 0.50 -> "0.5")."""
    v = float(wtxt)
    return str(int(v)) if v == int(v) else repr(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick-json", help="the quick rows' spec (deno run bench/spec.ts)")
    ap.add_argument("--rows", default=",".join(ROW_GROUPS))
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--sizes", default="64,112")
    ap.add_argument("--widths", default="1,0.5")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--memory-format", choices=("channels_last", "contiguous"),
                    default="channels_last")
    ap.add_argument("--blas", choices=("auto", "keep", "preload"), default="auto")
    ap.add_argument("--count-params", action="store_true")
    a = ap.parse_args()
    if not a.quick_json:
        ap.error("--quick-json is required: bench/compare.ts passes it; by hand, "
                 "--quick-json \"$(deno run bench/spec.ts)\"")
    quick = json.loads(a.quick_json)
    if a.count_params:
        print(json.dumps(param_counts(quick)))
        return
    blas, blas_detail = setup_blas(a.blas)
    torch.set_num_threads(a.threads)
    memory_format = getattr(torch, a.memory_format.replace("contiguous", "contiguous_format"))
    split = lambda s: [v for v in s.split(",") if v]
    groups, kinds = split(a.rows), split(a.kinds)
    for k in kinds:
        if k not in KINDS:
            ap.error(f"--kinds: {k} is not one of {','.join(KINDS)}")
    todo = []
    if "quick" in groups:
        todo += [(f"{k}/quick", k, quick) for k in kinds]
    if "r18" in groups:
        for size in [int(s) for s in split(a.sizes)]:
            for wtxt in split(a.widths):
                w = float(wtxt)
                spec = r18_spec(quick, int(w) if w == int(w) else w, size, a.batch)
                todo += [(f"{k}/r18-w{width_name(wtxt)}/{size}", k, spec) for k in kinds]
    rows = []
    for name, kind, spec in todo:
        try:
            step, params = build(kind, spec, memory_format)
            ms = time_step(step, a.steps)
        except Exception as e:  # one row's failure is reported, the others still run
            rows.append({"name": name, "error": f"{type(e).__name__}: {e}"})
            print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            continue
        batch = (spec["pretrain"] if kind == "byel" else spec["finetune"])["batch"]
        med = sorted(ms)[len(ms) // 2]
        row = {"name": name, "img_s": round(batch / (med / 1000), 2),
               "step_ms": [round(v) for v in ms], "params": params}
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append({**row, "spec": spec})
    print(json.dumps({
        "bench": "torch", "torch_version": torch.__version__, "blas": blas,
        "blas_detail": blas_detail, "memory_format": a.memory_format, "threads": a.threads,
        "onednn": torch.backends.mkldnn.is_available(), "batch": a.batch, "steps": a.steps,
        "rows": rows}))


if __name__ == "__main__":
    main()
