"""bf16 autocast against fp32 on this machine: the train-step time of the protocols' networks
under each, interleaved, and whether bf16 is native here (``native_bf16``), which decides the
precision every training stage uses (``taskforget.engine.optim.resolve_precision``).
With ``--threads``, instead: whether the weights trained in fp32 depend on the thread count
(the digest of ResNet-20 after a few seeded SGD steps on 1 and on 2 threads).

    python benchmarks/precision.py --out docs/results/precision.md
    python benchmarks/precision.py --threads
"""
import argparse
import datetime
import hashlib
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import taskforget.tasks  # noqa: F401  (registers the networks)
from taskforget.apis import device_name
from taskforget.checkpoint import write_text_atomic
from taskforget.engine.optim import native_bf16
from taskforget.registry import MODELS

# (network config, input side, batch): the face protocol's ResNet-18 and the CPU protocol's
# ResNet-20, at their batch sizes
NETWORKS = [(dict(type="resnet18_face", num_classes=10), 64, 64),
            (dict(type="resnet20", num_classes=10), 32, 128)]


def step_seconds(net, x, y, bf16: bool) -> float:
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(net(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return time.perf_counter() - start


def measure(repeats: int) -> list:
    rows = []
    for spec, side, batch in NETWORKS:
        torch.manual_seed(0)
        net = MODELS.build(dict(spec)).train()
        x, y = torch.randn(batch, 3, side, side), torch.randint(0, 10, (batch,))
        times = {False: [], True: []}
        for bf16 in (False, True):  # warm-up
            step_seconds(net, x, y, bf16)
        for _ in range(repeats):  # interleaved: a load change hits both alike
            for bf16 in (False, True):
                times[bf16].append(step_seconds(net, x, y, bf16))
        fp32, bf16 = (statistics.median(times[k]) for k in (False, True))
        rows.append(dict(network=spec["type"], input=f"{side}x{side}, batch {batch}",
                         fp32=fp32, bf16=bf16))
    return rows


def thread_digests(steps: int = 15, threads=(1, 2)) -> dict:
    """sha256 prefix of ResNet-20's fp32 weights after ``steps`` seeded SGD steps (batch 128
    of seeded noise), for each intra-op thread count; two runs per count (the same kernels,
    so equal unless the machine itself is not deterministic)."""
    digests = {}
    for count in threads:
        torch.set_num_threads(count)
        for _ in range(2):
            torch.manual_seed(0)
            net = MODELS.build(dict(type="resnet20", num_classes=10)).train()
            optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9,
                                        weight_decay=5e-4)
            data = torch.Generator().manual_seed(1)
            for _ in range(steps):
                x = torch.randn(128, 3, 32, 32, generator=data)
                y = torch.randint(0, 10, (128,), generator=data)
                optimizer.zero_grad()
                F.cross_entropy(net(x), y).backward()
                optimizer.step()
            digest = hashlib.sha256()
            for value in net.state_dict().values():
                digest.update(value.numpy().tobytes())
            digests.setdefault(count, []).append(digest.hexdigest()[:16])
    return digests


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", help="markdown file (default: print only)")
    p.add_argument("--threads", action="store_true",
                   help="only compare the fp32 weights trained on 1 and on 2 threads")
    args = p.parse_args()
    if args.threads:
        for count, digests in thread_digests().items():
            print(f"{count} thread(s): {' '.join(digests)}")
        return
    rows = measure(args.repeats)
    caps = torch.cpu.get_capabilities()
    lines = [f"Machine: {platform.machine()}, {caps.get('cpu_name')}, {device_name()}; "
             f"avx512_bf16 {caps.get('avx512_bf16')}, amx_bf16 {caps.get('amx_bf16')}; native "
             f"bf16: **{native_bf16()}** (training stages use "
             f"{'bf16 autocast' if native_bf16() else 'fp32'}).", "",
             "| network | input | fp32 step (s) | bf16 autocast step (s) | bf16 / fp32 |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['network']} | {r['input']} | {r['fp32']:.3f} | {r['bf16']:.3f} | "
              f"{r['bf16'] / r['fp32']:.2f} |" for r in rows]
    lines += ["", f"Median of {args.repeats} interleaved train steps (forward, backward, SGD) "
              f"each, after one warm-up step. Command: `python benchmarks/precision.py "
              f"{' '.join(sys.argv[1:])}` on {datetime.date.today()}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text_atomic(Path(args.out), text)


if __name__ == "__main__":
    main()
