"""Cross-check of kdpipe's side-by-side timing stage in PyTorch eager (BENCHMARKS.md section 8).

Grad-CAM at the last conv layer of CNNs shaped like the default study's teacher (depth 5) and its
depth-4 and depth-1 students (1x48x48 input, width 16 doubling up to 128, conv-BN-ReLU-maxpool blocks,
global average pool, linear head), untrained, one thread. The models are interleaved either per call
or in blocks of 5 calls after one warm-up call; prints each model's median ms and its ratio to the
teacher. Run: .venv/bin/python scripts/timing_crosscheck.py
"""
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.blocks = nn.ModuleList()
        c_in, width = 1, 16
        for _ in range(depth):
            self.blocks.append(
                nn.Sequential(nn.Conv2d(c_in, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
            )
            c_in, width = width, min(width * 2, 128)
        self.fc = nn.Linear(c_in, 2)

    def forward(self, x):
        taps, h = [], x
        for block in self.blocks:
            a = block(h)
            taps.append(a)
            h = F.max_pool2d(a, 2) if a.shape[-1] >= 2 else a
        return taps, self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


def gradcam(model, x):
    x = x.clone().requires_grad_(True)
    taps, logits = model(x)
    score = logits.gather(1, logits.argmax(1).view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(score, taps[-1])
    cam = (grad.mean((2, 3), keepdim=True) * taps[-1].detach()).sum(1, keepdim=True).relu()
    return F.interpolate(cam, size=(48, 48), mode="bilinear")


def measure(models, images, mode, rounds=4, repeats=5):
    secs = {d: [] for d in models}

    def timed(d, x):
        start = time.perf_counter()
        gradcam(models[d], x)
        secs[d].append(time.perf_counter() - start)

    for _ in range(rounds):
        for x in images:
            if mode == "call":
                for _ in range(repeats):
                    for d in models:
                        timed(d, x)
            else:
                for d in models:
                    gradcam(models[d], x)
                    for _ in range(repeats):
                        timed(d, x)
    teacher = statistics.median(secs[5])
    return " ".join(
        f"depth {d}: {1000 * statistics.median(s):.2f} ms ({statistics.median(s) / teacher:.3f})"
        for d, s in secs.items()
    )


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    images = [torch.randn(1, 1, 48, 48) for _ in range(4)]
    models = {d: Cnn(d).eval() for d in (5, 4, 1)}
    for _ in range(3):
        for mode in ("call", "block"):
            print(f"{mode:5s} {measure(models, images, mode)}")


if __name__ == "__main__":
    main()
