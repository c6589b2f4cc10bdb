#!/usr/bin/python3
"""PyTorch reference for bench/byel_bench.ts: the same networks and steps, timed the same way.

Never a runtime dependency of byel. Install with `apt-get install -y python3-torch` and run
with the system interpreter:

    /usr/bin/python3 bench/reference_torch.py [--sizes 64,112] [--widths 1,0.5]
        [--kinds supervised,byel,inference] [--batch 32] [--steps 3] [--threads 2]

Prints progress rows to stderr and, as its last line, one JSON object {"bench": "torch",
"rows": [{"name", "img_s", "step_ms"}, ...]}. Row names match byel's
(`kind/r18-w<width>/<size>`).

The networks mirror src/model/resnet.ts, heads.ts and networks.ts: torchvision's ResNet-18
(7x7/2 stem conv without bias, BatchNorm, ReLU, 3x3/2 max-pool, basic blocks with the stride on
the first 3x3 conv and a 1x1 conv + BN shortcut where the shape changes), stage widths
round(64, 128, 256, 512 x width), global average pool; projector and predictor
Linear-BN1d-ReLU-Linear (hidden 512, D 256, the quick preset's heads); emotion classifier
p @ W [D, 6] then BN1d(6). The steps mirror bench/steps.ts:

- supervised: train-mode forward, cross-entropy on a bias-free 6-way linear head, backward,
  plain SGD (lr 0.01);
- byel: target (a copy of encoder + projector) on both views under no_grad in train mode;
  online forward of both views; loss = CE(cls(p1)) + CE(cls(p2)) + byol(EVS(p1), z2) +
  byol(EVS(p2), z1) + sum|I - W^T W|; backward; LARS (trust 0.001, weight decay 1.5e-6 on
  weights, plain SGD on biases and BN, lr 3, as the quick preset); EMA of the target (0.99);
- inference: eval-mode encoder + head under torch.inference_mode.

Known differences, none of which changes the arithmetic: PyTorch runs NCHW (its default, and
its fastest CPU layout) where tfjs runs NHWC; PyTorch's target BatchNorm also updates its
running statistics (byel's target does not keep them); the first conv's input gradient is not
computed by PyTorch (tfjs's tape computes it).
"""

import argparse
import copy
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 6


class BasicBlock(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.down = None
        if stride != 1 or cin != c:
            self.down = nn.Sequential(nn.Conv2d(cin, c, 1, stride, 0, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    """src/model/resnet.ts, depth 18, imagenet stem."""

    def __init__(self, width):
        super().__init__()
        widths = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        stem = max(1, round(64 * width))
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem, 7, 2, 3, bias=False), nn.BatchNorm2d(stem), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], stem
        for s, c in enumerate(widths):
            for b in range(2):
                blocks.append(BasicBlock(cin, c, 2 if b == 0 and s > 0 else 1))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.blocks(self.stem(x)).mean((2, 3))


# Timing protocol shared with bench/byel_bench.ts.
WARMUP = 2
MIN_TIMED_MS = 2000
MAX_STEPS = 30

def mlp(din, hidden, dout):
    return nn.Sequential(nn.Linear(din, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, dout))


def l2n(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def regression(p, z):
    return (2 - 2 * (l2n(p) * l2n(z)).sum(1)).mean()


class Byel(nn.Module):
    def __init__(self, width, hidden=512, d=256):
        super().__init__()
        self.encoder = ResNet18(width)
        self.projector = mlp(self.encoder.dim, hidden, d)
        self.predictor = mlp(d, hidden, d)
        self.emotion_w = nn.Parameter(torch.linalg.qr(torch.randn(d, NUM_CLASSES))[0])
        self.emotion_bn = nn.BatchNorm1d(NUM_CLASSES)
        self.target = nn.ModuleDict({
            "encoder": copy.deepcopy(self.encoder), "projector": copy.deepcopy(self.projector)})
        for q in self.target.parameters():
            q.requires_grad_(False)

    def online(self):
        return [q for n, q in self.named_parameters() if not n.startswith("target.")]

    def loss(self, v1, v2, labels):
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
        return regression(p1e, z2) + regression(p2e, z1) + cls + orth

    @torch.no_grad()
    def update_target(self, decay):
        pairs = [(self.target["encoder"], self.encoder), (self.target["projector"], self.projector)]
        for t_mod, o_mod in pairs:
            for t, o in zip(t_mod.parameters(), o_mod.parameters()):
                t.mul_(decay).add_(o, alpha=1 - decay)


@torch.no_grad()
def lars_(params, names, lr, wd=1.5e-6, trust=1e-3, eps=1e-8):
    """src/train/lars.ts with momentum 0."""
    for name, q in zip(names, params):
        if q.grad is None:
            continue
        d = q.grad
        if q.dim() > 1:  # weights (".w" in byel): decay and adaptation
            d = d + wd * q
            pn, dn = q.norm(), d.norm()
            if pn > 0 and dn > 0:
                d = d * (trust * pn / (dn + eps))
        q.sub_(lr * d)


def build(kind, width, size, batch):
    torch.manual_seed(1)
    labels = torch.arange(batch) % NUM_CLASSES
    v1 = torch.rand(batch, 3, size, size)
    v2 = torch.rand(batch, 3, size, size)
    if kind == "byel":
        net = Byel(width).train()
        online = net.online()
        names = [n for n, _ in net.named_parameters() if not n.startswith("target.")]

        def step():
            for q in online:
                q.grad = None
            loss = net.loss(v1, v2, labels)
            loss.backward()
            lars_(online, names, lr=3.0)
            net.update_target(0.99)
            return loss.item()
        return step
    enc = ResNet18(width)
    head = nn.Linear(enc.dim, NUM_CLASSES, bias=False)
    if kind == "inference":
        enc.eval()

        def infer():
            with torch.inference_mode():
                return head(enc(v1)).sum().item()
        return infer
    enc.train()
    params = list(enc.parameters()) + list(head.parameters())

    def supervised():
        for q in params:
            q.grad = None
        loss = F.cross_entropy(head(enc(v1)), labels)
        loss.backward()
        with torch.no_grad():
            for q in params:
                q.sub_(0.01 * q.grad)
        return loss.item()
    return supervised


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="64,112")
    ap.add_argument("--widths", default="1,0.5")
    ap.add_argument("--kinds", default="supervised,byel,inference")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for size in [int(s) for s in a.sizes.split(",") if s]:
        for wtxt in [w for w in a.widths.split(",") if w]:
            width = float(wtxt)
            for kind in [k for k in a.kinds.split(",") if k]:
                step = build(kind, width, size, a.batch)
                ms = []
                s = 0
                # WARMUP untimed steps, then at least --steps timed ones and, for fast steps,
                # more until MIN_TIMED_MS of timed work (at most MAX_STEPS), as byel_bench.ts.
                while s < WARMUP + a.steps or (sum(ms) < MIN_TIMED_MS and len(ms) < MAX_STEPS):
                    t0 = time.perf_counter()
                    step()
                    if s >= WARMUP:
                        ms.append((time.perf_counter() - t0) * 1000)
                    s += 1
                med = sorted(ms)[len(ms) // 2]
                # Names as byel's: JavaScript prints 1.0 as "1".
                wname = wtxt if "." not in wtxt else str(float(wtxt)).rstrip("0").rstrip(".")
                row = {"name": f"{kind}/r18-w{wname}/{size}",
                       "img_s": round(a.batch / (med / 1000), 2),
                       "step_ms": [round(v) for v in ms]}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps({"bench": "torch", "torch": torch.__version__, "threads": a.threads,
                      "batch": a.batch, "steps": a.steps, "rows": rows}))


if __name__ == "__main__":
    main()
