#!/usr/bin/env python3
"""PyTorch eager baseline for kdpipe's training throughput (BENCHMARKS.md).

Trains the same VGG-style CNN as kdpipe's `stages::models::Cnn` (conv3x3 with
bias -> BatchNorm -> ReLU -> 2x2 max-pool while the map is >= 2 px, channels
doubling from --width up to --max-width, global average pooling, dropout,
linear) on the same random data size, batch size and thread count as
`cargo test -p stages --release --test tiny_stages -- --ignored --nocapture
bench_train_throughput`, with the same per-batch work: index the batch out of
a preloaded tensor, forward, cross-entropy, backward, Adam step (with weight
decay), and read the loss and the number correct back to the host. Prints
images/s over all epochs, timing the training batches only (as kdpipe's
`train.json` images_per_s does; neither side gets a warm-up epoch).

Default teacher and the depth-2 student:
    python bench/pytorch_train.py --threads 1 --depth 5
    python bench/pytorch_train.py --threads 1 --depth 2
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self, channels, size, classes, depth, width, max_width, dropout):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.pools = []
        c_in = channels
        for i in range(depth):
            c_out = max(1, min(width << i, max_width))
            self.blocks.append(
                nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())
            )
            self.pools.append(size >= 2)
            if size >= 2:
                size //= 2
            c_in = c_out
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c_in, classes)

    def forward(self, x):
        for block, pool in zip(self.blocks, self.pools):
            x = block(x)
            if pool:
                x = F.max_pool2d(x, 2)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(self.dropout(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--max-width", type=int, default=256)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--classes", type=int, default=4)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.randn(a.n, a.channels, a.size, a.size)
    y = torch.randint(0, a.classes, (a.n,))
    model = Cnn(a.channels, a.size, a.classes, a.depth, a.width, a.max_width, 0.2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    params = sum(p.numel() for p in model.parameters())

    seen, elapsed = 0, 0.0
    for _epoch in range(a.epochs):
        model.train()
        order = torch.randperm(a.n)
        start = time.perf_counter()
        count = 0
        for i in range(0, a.n, a.batch):
            idx = order[i : i + a.batch]
            if len(idx) < 2:
                continue
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            _ = loss.item()
            _ = (logits.argmax(-1) == yb).sum().item()
            count += len(idx)
        elapsed += time.perf_counter() - start
        seen += count
    print(
        f"pytorch-bench depth={a.depth} width={a.width} max_width={a.max_width} size={a.size} "
        f"channels={a.channels} n={a.n} batch={a.batch} threads={a.threads} params={params} "
        f"torch={torch.__version__} images_per_s={seen / elapsed:.1f}"
    )


if __name__ == "__main__":
    main()
