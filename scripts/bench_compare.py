#!/usr/bin/env python3
"""Compare xinsheng's engines (int8 and f32 fused CPU kernels, candle) with PyTorch and ONNX Runtime (f32, and
their dynamic int8 quantization) on the same weights, in the same run.

    pip install -r scripts/requirements-bench.txt
    cargo build --release
    python3 scripts/bench_compare.py [--model models/default] [--threads 2] [--seconds 10]

1. Loads MODEL/model.safetensors into the PyTorch module of scripts/train_torch.py (same architecture),
   exports it to ONNX (build/bench/model.onnx, and model.int8.onnx by onnxruntime's quantize_dynamic),
   quantizes a PyTorch copy (torch.ao quantize_dynamic), and reports each engine's largest probability
   difference from PyTorch f32 on the first texts.
2. Measures, for each engine with the same number of threads: texts/s at batch 32 (length-sorted batches,
   tokenization included) and single-text latency p50/p99, on 50-character texts drawn from the dev split
   of ChnSentiCorp (cut to 50 characters) — the texts are written to build/bench/texts.txt.
3. Prints a markdown table with the operations per second each engine reaches (2 x multiply-adds of the matrix
   products) against the machine's nominal f32 peak (cores x 64 FLOP/cycle x clock; the clock is read from
   /proc/cpuinfo or --ghz), and the throughput ratios of each xinsheng engine to each peer.

xinsheng runs as a separate process per engine (`xinsheng --threads N --engine E bench ...`), the Python engines in this one;
they run one after the other, never at the same time.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torch import load_model_dir  # noqa: E402


def load_torch(model_dir):
    net, cfg = load_model_dir(model_dir)
    net.eval()
    return net, cfg


class Wrapped(torch.nn.Module):
    """The network with its probability functions, as one graph: softmax or sigmoid per head."""

    def __init__(self, net, cfg):
        super().__init__()
        self.net = net
        self.heads = [(h["name"], h.get("multi_label", False)) for h in cfg["xinsheng"]["heads"]]

    def forward(self, ids, mask):
        logits = self.net(ids, mask)
        return tuple(torch.sigmoid(logits[n]) if multi else torch.softmax(logits[n], -1) for n, multi in self.heads)


def encode(tok, texts, max_len):
    out = []
    for e in tok.encode_batch(texts):
        ids = e.ids
        if len(ids) > max_len:  # head + tail (the bench texts are cut to 50 characters: never reached)
            keep = max_len - 2
            head = keep // 2
            ids = [ids[0]] + ids[1:1 + head] + ids[len(ids) - 1 - (keep - head):len(ids) - 1] + [ids[-1]]
        out.append(ids)
    return out


def pad(batch):
    t = max(len(x) for x in batch)
    ids = np.zeros((len(batch), t), dtype=np.int64)
    mask = np.zeros((len(batch), t), dtype=np.float32)
    for i, x in enumerate(batch):
        ids[i, :len(x)] = x
        mask[i, :len(x)] = 1
    return ids, mask


def measure(run_texts, texts, bs, seconds):
    """run_texts(list of texts) runs tokenization + model; returns (texts/s at bs, p50 ms, p99 ms)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [[texts[i] for i in order[s:s + bs]] for s in range(0, len(order), bs)]
    for b in batches:
        run_texts(b)
    done, start = 0, time.perf_counter()
    while done == 0 or time.perf_counter() - start < seconds:
        for b in batches:
            run_texts(b)
        done += len(texts)
    rate = done / (time.perf_counter() - start)
    lat, start = [], time.perf_counter()
    while not lat or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        run_texts([texts[len(lat) % len(texts)]])
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return rate, lat[len(lat) // 2], lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]


def flops_per_text(cfg, tokens):
    """Multiply-adds x 2 of the encoder for one text of `tokens` tokens (matmuls only)."""
    h, f, n = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    per_layer = 2 * tokens * (4 * h * h + 2 * h * f) + 2 * 2 * tokens * tokens * h
    return n * per_layer + 2 * h * h


def cpu_ghz(default):
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) / 1000
    except OSError:
        pass
    return default


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--texts", type=int, default=256)
    ap.add_argument("--chars", type=int, default=50)
    ap.add_argument("--ghz", type=float, default=2.6, help="clock for the peak when /proc/cpuinfo has none")
    ap.add_argument("--binary", default="target/release/xinsheng")
    ap.add_argument("--engines", default="int8,f32,candle", help="xinsheng engines to measure (comma-separated)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs("build/bench", exist_ok=True)

    rows = [json.loads(l) for l in open("../shared/data/chnsenticorp/dev.jsonl", encoding="utf-8")]
    texts = [r["text"].replace("\n", " ")[:args.chars] for r in rows if len(r["text"]) >= args.chars][:args.texts]
    with open("build/bench/texts.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")

    net, cfg = load_torch(args.model)
    max_len = cfg["xinsheng"]["max_length"]
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    model = Wrapped(net, cfg).eval()

    # ONNX export (dynamic batch and length).
    import onnxruntime as ort
    ids, mask = pad(encode(tok, texts[:2], max_len))
    onnx_path = "build/bench/model.onnx"
    torch.onnx.export(model, (torch.from_numpy(ids), torch.from_numpy(mask)), onnx_path,
                      input_names=["ids", "mask"], output_names=[h for h, _ in model.heads],
                      dynamic_axes={"ids": {0: "b", 1: "t"}, "mask": {0: "b", 1: "t"}}, opset_version=17,
                      dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])

    def run_torch(batch):
        i, m = pad(encode(tok, batch, max_len))
        with torch.inference_mode():
            return [o.numpy() for o in model(torch.from_numpy(i), torch.from_numpy(m))]

    def run_ort(batch):
        i, m = pad(encode(tok, batch, max_len))
        return sess.run(None, {"ids": i, "mask": m})

    # Dynamic int8 peers (weights int8 per channel, activations quantized at run time), like xinsheng int8.
    qmodel = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    onnx_q = "build/bench/model.int8.onnx"
    quantize_dynamic(onnx_path, onnx_q, weight_type=QuantType.QInt8)
    sess_q = ort.InferenceSession(onnx_q, so, providers=["CPUExecutionProvider"])

    def run_torch_q(batch):
        i, m = pad(encode(tok, batch, max_len))
        with torch.inference_mode():
            return [o.numpy() for o in qmodel(torch.from_numpy(i), torch.from_numpy(m))]

    def run_ort_q(batch):
        i, m = pad(encode(tok, batch, max_len))
        return sess_q.run(None, {"ids": i, "mask": m})

    # xinsheng: its own process per engine, same texts, same threads.
    n_check = 16
    xs_runs = {}
    for engine in args.engines.split(","):
        out = subprocess.run([args.binary, "--model", args.model, "--threads", str(args.threads), "--engine", engine,
                              "bench", "--texts", "build/bench/texts.txt", "--batch-size", str(args.batch_size),
                              "--seconds", str(args.seconds), "--probs", str(n_check)],
                             check=True, capture_output=True, text=True)
        xs_runs[engine] = json.loads(out.stdout)

    # Agreement with PyTorch f32 on the first texts (one at a time: no padding effects).
    peers = {"pytorch": run_torch, "onnxruntime": run_ort, "pytorch-int8": run_torch_q, "onnxruntime-int8": run_ort_q}
    ref = [run_torch([texts[k]]) for k in range(n_check)]
    diffs = {}
    for name, fn in peers.items():
        d = 0.0
        for k in range(n_check):
            for j, _ in enumerate(model.heads):
                d = max(d, float(np.abs(fn([texts[k]])[j][0] - ref[k][j][0]).max()))
        diffs[name] = d
    for engine, xs in xs_runs.items():
        d = 0.0
        for k in range(n_check):
            for j, (name, _) in enumerate(model.heads):
                d = max(d, float(np.abs(np.array(xs["probabilities"][k][name]) - ref[k][j][0]).max()))
        diffs[f"xinsheng-{engine}"] = d

    results = {f"xinsheng-{e}": (xs["batch_texts_per_second"], xs["single_p50_ms"], xs["single_p99_ms"])
               for e, xs in xs_runs.items()}
    for name, fn in peers.items():
        results[name] = measure(fn, texts, args.batch_size, args.seconds)

    xs = next(iter(xs_runs.values()))
    ghz = cpu_ghz(args.ghz)
    peak = args.threads * 64 * ghz  # GFLOP/s
    fl = flops_per_text(cfg, round(xs["mean_tokens"]))
    print(f"\n{len(texts)} texts of {args.chars} characters ({xs['mean_tokens']:.1f} tokens), batch {args.batch_size}, "
          f"{args.threads} threads, {args.seconds:.0f} s per measurement; f32 peak {peak:.0f} GFLOP/s "
          f"({args.threads} cores x 64 FLOP/cycle x {ghz:.2f} GHz)\n")
    print("| engine | texts/s (batch) | p50 ms (1 text) | p99 ms | max abs diff vs PyTorch f32 | GOP/s | % of f32 peak |")
    print("|---|---|---|---|---|---|---|")
    for name, (rate, p50, p99) in results.items():
        gf = rate * fl / 1e9
        print(f"| {name} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {diffs[name]:.1e} | {gf:.1f} | {100 * gf / peak:.1f}% |")
    print("\n| xinsheng engine | throughput / PyTorch | / ONNX Runtime | / PyTorch int8 | / ORT int8 | p50 / best peer p50 |")
    print("|---|---|---|---|---|---|")
    best_p50 = min(results[n][1] for n in peers)
    for e in xs_runs:
        rate, p50, _ = results[f"xinsheng-{e}"]
        r = [rate / results[n][0] for n in peers]
        print(f"| {e} | {r[0]:.2f}x | {r[1]:.2f}x | {r[2]:.2f}x | {r[3]:.2f}x | {p50 / best_p50:.2f} |")
    json.dump({"results": results, "diffs": diffs, "mean_tokens": xs["mean_tokens"], "peak_gflops": peak},
              open("build/bench/compare.json", "w"), indent=2)


if __name__ == "__main__":
    main()
