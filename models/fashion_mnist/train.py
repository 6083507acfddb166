#!/usr/bin/python3
"""Train the Fashion-MNIST models mxu ships and export them to ONNX.

Reproducible: fixed seeds, deterministic algorithms, one CPU thread, the data
read straight from Debian's dataset-fashion-mnist IDX files (gzip + numpy).
Run with Debian's python3-torch (`make train`, or /usr/bin/python3 train.py).

Outputs (next to this script unless --out is given):
  cnn.onnx   LeNet-like CNN:  conv5x5(16) relu maxpool2, conv5x5(16) relu maxpool2,
             fc 256->128 relu, fc 128->10
  mlp.onnx   MLP 784-128-64-10 (relu between layers)
  train.log  everything printed: per-epoch loss and accuracy, the float accuracy
             on all 10,000 test images, MACs, the ONNX check

Both models output logits (no softmax). Inputs are pixels/255, no mean or std.
"""
import argparse
import gzip
import os
import platform
import sys
import time

# One BLAS thread (set before torch loads the BLAS): the same reduction order
# on every run.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "Flatten", "Reshape", "Gemm", "MatMul", "Add",
               "Softmax"}
OPSET = 13
BATCH = 128
LEARNING_RATE = 1e-3


class Log:
    """Print to stdout and into train.log."""

    def __init__(self, path):
        self.file = open(path, "w", encoding="utf-8")

    def __call__(self, *args):
        line = " ".join(str(a) for a in args)
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()


# ---- data -------------------------------------------------------------------------

def read_idx(path, magic, ndims):
    """An IDX file (gzip-compressed): big-endian magic, dims, then uint8 data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 + 4 * ndims:
        raise ValueError(f"{path}: truncated header")
    got = int.from_bytes(raw[0:4], "big")
    if got != magic:
        raise ValueError(f"{path}: magic 0x{got:08x}, expected 0x{magic:08x}")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndims)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} data bytes, header says {dims}")
    return data.reshape(dims)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), 0x803, 3)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), 0x801, 1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{prefix}: {images.shape[0]} images but {labels.shape[0]} labels")
    # pixels/255 only: mxu's default preprocessing (scale 1/255, mean 0, std 1)
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# ---- models -----------------------------------------------------------------------

class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)      # 28x28x1 -> 24x24x16, pool -> 12x12x16
        self.conv2 = nn.Conv2d(16, 16, 5)     # -> 8x8x16, pool -> 4x4x16
        self.fc1 = nn.Linear(16 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def count_macs(model):
    """Multiply-accumulates of one 1x1x28x28 inference, per conv/linear layer."""
    rows = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            rows.append((module, output.numel() * k))
        elif isinstance(module, nn.Linear):
            rows.append((module, module.in_features * module.out_features))

    names = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in handles:
        h.remove()
    return [(names[m], macs) for m, macs in rows]


# ---- training ---------------------------------------------------------------------

def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / x.shape[0]


def train(name, model, epochs, train_x, train_y, test_x, test_y, seed, log):
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    rng = np.random.default_rng(seed)
    n = train_x.shape[0]
    for epoch in range(1, epochs + 1):
        start = time.time()
        model.train()
        order = torch.from_numpy(rng.permutation(n))
        total_loss, correct = 0.0, 0
        for i in range(0, n, BATCH):
            idx = order[i:i + BATCH]
            xb, yb = train_x[idx], train_y[idx]
            opt.zero_grad()
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            total_loss += loss.item() * idx.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
        test_acc = accuracy(model, test_x, test_y)
        log(f"{name} epoch {epoch}/{epochs}: train loss {total_loss / n:.6f}  "
            f"train acc {correct / n:.4f}  test acc {test_acc:.4f}  "
            f"({time.time() - start:.1f} s)")
    return accuracy(model, test_x, test_y)


# ---- ONNX export and an independent check of the exported file ----------------------

def export(model, path, float_acc, log):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=OPSET,
                      input_names=["input"], output_names=["logits"],
                      do_constant_folding=True)
    m = onnx.load(path)
    meta = {
        "mxu.preprocess.scale": repr(1.0 / 255.0),
        "mxu.preprocess.mean": "0",
        "mxu.preprocess.std": "1",
        "mxu.float_accuracy": f"{float_acc:.4f}",
        "mxu.classes": ",".join(CLASSES),
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.doc_string = ("Fashion-MNIST classifier trained by models/fashion_mnist/train.py; "
                    "input pixels/255, output logits (no softmax)")
    onnx.checker.check_model(m)
    onnx.save(m, path)
    ops = sorted({node.op_type for node in m.graph.node})
    bad = [op for op in ops if op not in ALLOWED_OPS]
    if bad:
        raise RuntimeError(f"{path}: ops outside the supported set: {bad}")
    log(f"{os.path.basename(path)}: opset {m.opset_import[0].version}, ops {', '.join(ops)}, "
        f"{os.path.getsize(path)} bytes")
    for k, v in meta.items():
        log(f"  metadata {k}={v}")
    return m


def numpy_run(m, x):
    """Evaluate the exported graph with numpy (the ops this script exports), so the
    ONNX file itself is checked, not just the torch model."""
    env = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in m.graph.initializer}
    env[m.graph.input[0].name] = x
    for node in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[i] for i in node.input if i]
        op = node.op_type
        if op == "Conv":
            w = ins[0 + 1]
            xin = ins[0]
            pads = a.get("pads", [0, 0, 0, 0])
            if any(pads) or any(s != 1 for s in a.get("strides", [1, 1])) or a.get("group", 1) != 1:
                raise RuntimeError("numpy check: only unpadded stride-1 convolutions")
            kh, kw = w.shape[2], w.shape[3]
            n, c, h, wd = xin.shape
            oh, ow = h - kh + 1, wd - kw + 1
            cols = np.empty((n, c, kh, kw, oh, ow), np.float32)
            for i in range(kh):
                for j in range(kw):
                    cols[:, :, i, j] = xin[:, :, i:i + oh, j:j + ow]
            y = np.einsum("nckloq,fckl->nfoq", cols, w, optimize=True)
            if len(ins) > 2:
                y += ins[2].reshape(1, -1, 1, 1)
            out = y
        elif op == "Relu":
            out = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            k, s = a["kernel_shape"], a.get("strides", [1, 1])
            if k != [2, 2] or s != [2, 2] or any(a.get("pads", [0, 0, 0, 0])):
                raise RuntimeError("numpy check: only 2x2/2 max pooling")
            v = ins[0]
            n, c, h, wd = v.shape
            out = v[:, :, :h // 2 * 2, :wd // 2 * 2].reshape(n, c, h // 2, 2, wd // 2, 2).max((3, 5))
        elif op == "Flatten":
            out = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Reshape":
            shape = [int(d) for d in ins[1]]
            shape = [ins[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
            out = ins[0].reshape(shape)
        elif op == "Gemm":
            av = ins[0].T if a.get("transA", 0) else ins[0]
            bv = ins[1].T if a.get("transB", 0) else ins[1]
            out = a.get("alpha", 1.0) * av @ bv
            if len(ins) > 2:
                out = out + a.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            out = ins[0] @ ins[1]
        elif op == "Add":
            out = ins[0] + ins[1]
        else:
            raise RuntimeError(f"numpy check: op {op} not handled")
        env[node.output[0]] = out.astype(np.float32)
    return env[m.graph.output[0].name]


def check_onnx(m, model, test_x, test_y, log):
    """The exported graph (batch dimension generalised) against the torch model."""
    x = test_x.numpy()
    preds, max_diff = [], 0.0
    model.eval()
    for i in range(0, x.shape[0], 500):
        got = numpy_run(m, x[i:i + 500])
        with torch.no_grad():
            want = model(test_x[i:i + 500]).numpy()
        max_diff = max(max_diff, float(np.abs(got - want).max()))
        preds.append(got.argmax(1))
    acc = float((np.concatenate(preds) == test_y.numpy()).mean())
    log(f"  ONNX file evaluated with numpy: test acc {acc:.4f}, "
        f"max |logit - torch logit| {max_diff:.2e}")
    return acc


def blas_library():
    """The BLAS torch linked at run time (Debian's alternatives pick it): OpenBLAS
    is several times faster than the reference BLAS, and the last digits of the
    results depend on which one ran."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.realpath(p) for p in libs)) or "unknown"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                    help="folder with the four *-ubyte.gz IDX files")
    ap.add_argument("--out", default=here, help="folder for cnn.onnx, mlp.onnx, train.log")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cnn-epochs", type=int, default=10)
    ap.add_argument("--mlp-epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1,
                    help="CPU threads (results are reproducible for a fixed count)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    log = Log(os.path.join(args.out, "train.log"))

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    log(f"train.py: python {platform.python_version()}, torch {torch.__version__}, "
        f"onnx {onnx.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads")
    log(f"BLAS: {blas_library()}")
    log(f"seed {args.seed}, batch {BATCH}, Adam lr {LEARNING_RATE}, data {args.data}")

    start_all = time.time()
    train_x, train_y = load_split(args.data, "train")
    test_x, test_y = load_split(args.data, "t10k")
    log(f"train {tuple(train_x.shape)}, test {tuple(test_x.shape)}; "
        f"first test labels {test_y[:10].tolist()}")

    results = []
    for name, cls, epochs in (("cnn", LeNet, args.cnn_epochs), ("mlp", MLP, args.mlp_epochs)):
        torch.manual_seed(args.seed)
        model = cls()
        macs = count_macs(model)
        params = sum(p.numel() for p in model.parameters())
        log(f"== {name}: {params} parameters, {sum(m for _, m in macs)} MACs per image "
            f"({', '.join(f'{n} {m}' for n, m in macs)})")
        start = time.time()
        acc = train(name, model, epochs, train_x, train_y, test_x, test_y, args.seed, log)
        seconds = time.time() - start
        log(f"{name}: float test accuracy {acc:.4f} ({round(acc * 10000)}/10000) "
            f"after {epochs} epochs, {seconds:.1f} s")
        m = export(model, os.path.join(args.out, f"{name}.onnx"), acc, log)
        onnx_acc = check_onnx(m, model, test_x, test_y, log)
        if abs(onnx_acc - acc) > 1e-4:
            raise RuntimeError(f"{name}: ONNX accuracy {onnx_acc} differs from torch {acc}")
        results.append((name, acc, sum(m for _, m in macs), params, seconds))

    log("== summary")
    for name, acc, macs, params, seconds in results:
        log(f"{name}: float test accuracy {acc:.4f}, {macs} MACs, {params} parameters, "
            f"trained in {seconds:.1f} s")
    log(f"total {time.time() - start_all:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
