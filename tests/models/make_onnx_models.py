#!/usr/bin/python3
"""Small ONNX models for the ONNX frontend's tests (tests/compiler/test_onnx*.c).

Usage: /usr/bin/python3 make_onnx_models.py OUTDIR

Built with python3-onnx's helper (Debian's onnx 1.12, which has no reference
evaluator), so every runnable model's expected output is computed here with numpy.
For each model NAME this writes:
  NAME.onnx           the model (some with external data files next to it)
  NAME.input.bin      float32 input, ONNX layout (NCHW / NC), uniform in [0, 1)
  NAME.expected.bin   float32 output 0 of the model in ONNX layout
Models that must be refused are written as NAME.onnx only (names start with bad_).
Deterministic: fixed seeds, no timestamps. Run by `make test` (mk/onnx.mk) into
build/onnx-models.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


# ---- numpy reference kernels (NCHW, float64) -----------------------------------------

def conv2d(x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), group=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ekh, ekw = (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
    oh = (h + pads[0] + pads[2] - ekh) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - ekw) // strides[1] + 1
    out = np.zeros((n, m, oh, ow))
    mg = m // group
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dil[0], j * dil[1]
                patch = xs[:, :, r0:r0 + strides[0] * (oh - 1) + 1:strides[0],
                           c0:c0 + strides[1] * (ow - 1) + 1:strides[1]]
                out[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch,
                                                         w[g * mg:(g + 1) * mg, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def pool_out(size, k, s, pb, pe, ceil):
    """Output size and the end padding that makes floor division give it."""
    span = size + pb + pe - k
    o = span // s + 1
    if ceil and span % s:
        o += 1
        if (o - 1) * s >= size + pb:
            o -= 1
    return o, max(pe, (o - 1) * s + k - size - pb)


def pool2d(x, kind, k, s=(1, 1), pads=(0, 0, 0, 0), ceil=False):
    n, c, h, w = x.shape
    oh, pbot = pool_out(h, k[0], s[0], pads[0], pads[2], ceil)
    ow, pright = pool_out(w, k[1], s[1], pads[1], pads[3], ceil)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pbot), (pads[1], pright)), constant_values=fill)
    ones = np.pad(np.ones((h, w)), ((pads[0], pbot), (pads[1], pright)))
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            if kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                cnt = ones[i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return out


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def batchnorm(x, gamma, beta, mean, var, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) \
        + beta.reshape(shape)


def quantize(x, scale, zp, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.rint(x / scale) + zp, info.min, info.max).astype(dtype)


def fake_quant(x, scale, zp, dtype=np.uint8):
    return (quantize(x, scale, zp, dtype).astype(np.float64) - zp) * scale


# ---- building blocks ----------------------------------------------------------------------

class Model:
    """Collects initializers and nodes of one graph."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.inits, self.nodes, self.meta = [], [], {}
        self.count = 0

    def fresh(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def weight(self, shape, fan_in=None):
        fan_in = fan_in or int(np.prod(shape[1:]))
        return self.rng.normal(0, np.sqrt(2.0 / fan_in), shape)

    def const(self, value, dtype=np.float32, name=None, typed=False):
        name = name or self.fresh("c")
        arr = np.asarray(value).astype(dtype)
        if typed:  # the typed repeated fields instead of raw_data
            t = helper.make_tensor(name, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype], arr.shape,
                                   arr.flatten().tolist())
        else:
            t = numpy_helper.from_array(arr, name)
        self.inits.append(t)
        return name

    def node(self, op, inputs, n_out=1, name=None, **attrs):
        outs = [self.fresh(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name or self.fresh(op), **attrs))
        return outs[0] if n_out == 1 else outs

    def build(self, inputs, outputs, opset=OPSET):
        """inputs / outputs: lists of (name, shape) with shapes in ONNX order."""
        ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs]
        outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs]
        g = helper.make_graph(self.nodes, self.name, ins, outs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="mxu-tests")
        for k, v in self.meta.items():
            p = m.metadata_props.add()
            p.key, p.value = k, v
        return m


def conv_node(m, x, w, b=None, **attrs):
    inputs = [x, m.const(w)] + ([m.const(b)] if b is not None else [])
    return m.node("Conv", inputs, **attrs)


MODELS = {}


def model(fn):
    MODELS[fn.__name__] = fn
    return fn


# ---- float models ----------------------------------------------------------------------

def conv_case(name, seed, shape, cout, k, group=1, **attrs):
    m = Model(name, seed)
    x = m.rng.uniform(0, 1, shape)
    w = m.weight((cout, shape[1] // group, k[0], k[1]))
    b = m.rng.normal(0, 0.1, cout)
    y = conv_node(m, "x", w, b, kernel_shape=list(k), group=group, **attrs)
    s, d = attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1])
    pads = attrs.get("pads", [0, 0, 0, 0])
    auto = attrs.get("auto_pad")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0, 0, 0, 0]
        for a in range(2):
            o = -(-shape[2 + a] // s[a])
            total = max(0, (o - 1) * s[a] + (k[a] - 1) * d[a] + 1 - shape[2 + a])
            small, big = total // 2, total - total // 2
            pads[a], pads[a + 2] = (small, big) if auto == "SAME_UPPER" else (big, small)
    ref = conv2d(x, w, b, s, pads, d, group)
    return m.build([("x", shape)], [(y, ref.shape)]), x, ref


@model
def conv_basic():
    return conv_case("conv_basic", 1, (1, 3, 8, 8), 4, (3, 3), pads=[1, 1, 1, 1])


@model
def conv_stride_dilation():
    return conv_case("conv_stride_dilation", 2, (1, 4, 11, 9), 6, (3, 3), strides=[2, 1],
                     dilations=[2, 1], pads=[2, 1, 0, 2])


@model
def conv_same_upper():
    return conv_case("conv_same_upper", 3, (1, 3, 9, 8), 5, (4, 3), strides=[2, 2],
                     auto_pad="SAME_UPPER")


@model
def conv_same_lower():
    return conv_case("conv_same_lower", 4, (1, 3, 9, 8), 5, (4, 3), strides=[2, 2],
                     auto_pad="SAME_LOWER")


@model
def conv_valid():
    return conv_case("conv_valid", 5, (1, 2, 7, 7), 3, (3, 3), auto_pad="VALID")


@model
def conv_group():
    return conv_case("conv_group", 6, (1, 4, 6, 6), 6, (3, 3), group=2, pads=[1, 1, 1, 1])


@model
def conv_depthwise():
    return conv_case("conv_depthwise", 7, (1, 5, 6, 6), 5, (3, 3), group=5, pads=[1, 1, 1, 1])


@model
def conv_relu_pool_gemm():
    """Conv, Relu, MaxPool, Flatten (C > 1, H*W > 1: CHW order), Gemm(transB=1), Softmax."""
    m = Model("conv_relu_pool_gemm", 10)
    x = m.rng.uniform(0, 1, (1, 2, 6, 6))
    w = m.weight((3, 2, 3, 3))
    b = m.rng.normal(0, 0.1, 3)
    c = conv_node(m, "x", w, b, pads=[1, 1, 1, 1])
    r = m.node("Relu", [c])
    p = m.node("MaxPool", [r], kernel_shape=[2, 2], strides=[2, 2])
    f = m.node("Flatten", [p], axis=1)
    fw = m.weight((5, 27), 27)
    fb = m.rng.normal(0, 0.1, 5)
    gm = m.node("Gemm", [f, m.const(fw), m.const(fb)], transB=1)
    y = m.node("Softmax", [gm], axis=1)
    h = pool2d(np.maximum(conv2d(x, w, b, pads=(1, 1, 1, 1)), 0), "max", (2, 2), (2, 2))
    ref = softmax(h.reshape(1, -1) @ fw.T + fb, 1)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def reshape_matmul_add():
    """Reshape to [N, -1], MatMul + Add (bias folding), Tanh; typed-field weights."""
    m = Model("reshape_matmul_add", 11)
    x = m.rng.uniform(0, 1, (1, 3, 4, 4))
    w = m.weight((4, 3, 1, 1))
    c = conv_node(m, "x", w)
    shape = m.const([0, -1], np.int64, typed=True)
    r = m.node("Reshape", [c, shape])
    mw = m.weight((64, 7), 64)
    mb = m.rng.normal(0, 0.1, 7)
    mm = m.node("MatMul", [r, m.const(mw, typed=True)])
    a = m.node("Add", [mm, m.const(mb, typed=True)])
    y = m.node("Tanh", [a])
    ref = np.tanh(conv2d(x, w).reshape(1, -1) @ mw + mb)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def shape_chain_flatten():
    """x.view(x.size(0), -1) as exporters write it without constant folding:
    Shape -> Gather -> Unsqueeze -> Concat -> Reshape, then MatMul."""
    m = Model("shape_chain_flatten", 22)
    x = m.rng.uniform(0, 1, (1, 2, 3, 3))
    w = m.weight((3, 2, 1, 1))
    c = conv_node(m, "x", w)
    sh = m.node("Shape", [c])
    n0 = m.node("Gather", [sh, m.const(0, np.int64)], axis=0)
    u = m.node("Unsqueeze", [n0, m.const([0], np.int64)])
    cat = m.node("Concat", [u, m.const([-1], np.int64)], axis=0)
    r = m.node("Reshape", [c, cat])
    mw = m.weight((27, 4), 27)
    y = m.node("MatMul", [r, m.const(mw)])
    ref = conv2d(x, w).reshape(1, -1) @ mw
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def gemm_mlp():
    """2-D input: Gemm(transB=0, alpha, beta), LeakyRelu, Gemm(transB=1), Sigmoid."""
    m = Model("gemm_mlp", 12)
    x = m.rng.uniform(0, 1, (1, 16))
    w1 = m.weight((16, 12), 16)
    b1 = m.rng.normal(0, 0.1, (1, 12))
    g1 = m.node("Gemm", [ "x", m.const(w1), m.const(b1)], alpha=0.5, beta=2.0)
    l1 = m.node("LeakyRelu", [g1], alpha=0.1)
    w2 = m.weight((6, 12), 12)
    b2 = m.rng.normal(0, 0.1, 6)
    g2 = m.node("Gemm", [l1, m.const(w2), m.const(b2)], transB=1)
    y = m.node("Sigmoid", [g2])
    h = 0.5 * (x @ w1) + 2.0 * b1
    h = np.where(h > 0, h, 0.1 * h)
    ref = sigmoid(h @ w2.T + b2)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def pools():
    """MaxPool with pads and ceil_mode, AveragePool (count_include_pad=0) with pads,
    concatenated along channels, then GlobalAveragePool."""
    m = Model("pools", 13)
    x = m.rng.uniform(0, 1, (1, 3, 7, 7))
    mp = m.node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0],
                ceil_mode=1)
    ap = m.node("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = m.node("Concat", [mp, ap], axis=1)
    y = m.node("GlobalAveragePool", [c])
    a = pool2d(x, "max", (3, 3), (2, 2), (1, 1, 0, 0), ceil=True)
    b = pool2d(x, "avg", (3, 3), (2, 2), (1, 1, 1, 1))
    assert a.shape == b.shape, (a.shape, b.shape)
    ref = np.concatenate([a, b], 1).mean(axis=(2, 3), keepdims=True)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def pool_ceil():
    """ceil_mode alone (no pads): the last window hangs over the edge."""
    m = Model("pool_ceil", 14)
    x = m.rng.uniform(0, 1, (1, 2, 6, 6))
    y = m.node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    ref = pool2d(x, "max", (3, 3), (2, 2), ceil=True)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def residual_add():
    m = Model("residual_add", 15)
    x = m.rng.uniform(0, 1, (1, 4, 5, 5))
    w1, w2 = m.weight((4, 4, 3, 3)), m.weight((4, 4, 3, 3))
    b1, b2 = m.rng.normal(0, 0.1, 4), m.rng.normal(0, 0.1, 4)
    c1 = m.node("Relu", [conv_node(m, "x", w1, b1, pads=[1, 1, 1, 1])])
    c2 = conv_node(m, c1, w2, b2, pads=[1, 1, 1, 1])
    a = m.node("Add", [c2, "x"])
    y = m.node("Relu", [a])
    h = np.maximum(conv2d(x, w1, b1, pads=(1, 1, 1, 1)), 0)
    ref = np.maximum(conv2d(h, w2, b2, pads=(1, 1, 1, 1)) + x, 0)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def concat3():
    """Three branches concatenated (k > 2 inputs), then a 1x1 conv."""
    m = Model("concat3", 16)
    x = m.rng.uniform(0, 1, (1, 3, 6, 6))
    ws = [m.weight((c, 3, 1, 1)) for c in (2, 3, 4)]
    outs = [conv_node(m, "x", w) for w in ws]
    c = m.node("Concat", outs, axis=-3)
    w = m.weight((3, 9, 1, 1))
    y = conv_node(m, c, w)
    ref = conv2d(np.concatenate([conv2d(x, w) for w in ws], 1), w)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def batchnorm_model():
    """Conv without bias + BatchNormalization + Clip(0, 6) (opset 13 inputs)."""
    m = Model("batchnorm_model", 17)
    x = m.rng.uniform(0, 1, (1, 3, 6, 6))
    w = m.weight((4, 3, 3, 3))
    c = conv_node(m, "x", w, pads=[1, 1, 1, 1])
    gamma, beta = m.rng.uniform(0.5, 1.5, 4), m.rng.normal(0, 0.2, 4)
    mean, var = m.rng.normal(0, 0.2, 4), m.rng.uniform(0.5, 2, 4)
    bn = m.node("BatchNormalization", [c, m.const(gamma), m.const(beta), m.const(mean),
                                       m.const(var)], epsilon=1e-3)
    y = m.node("Clip", [bn, m.const(0.0), m.const(6.0)])
    ref = np.clip(batchnorm(conv2d(x, w, pads=(1, 1, 1, 1)), gamma, beta, mean, var, 1e-3), 0, 6)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def clip_attrs_opset6():
    """Opset 6: Clip's bounds are attributes; Dropout and Identity pass through."""
    m = Model("clip_attrs_opset6", 18)
    x = m.rng.uniform(0, 1, (1, 10))
    w = m.weight((4, 10), 10)
    g = m.node("Gemm", ["x", m.const(w), m.const(np.zeros(4))], transB=1)
    d = m.node("Dropout", [g], ratio=0.5)
    i = m.node("Identity", [d])
    y = m.node("Clip", [i], min=-0.5, max=0.75)
    ref = np.clip(x @ w.T, -0.5, 0.75)
    return m.build([("x", x.shape)], [(y, ref.shape)], opset=6), x, ref


@model
def softmax_4d():
    """Softmax over channels of an NCHW tensor (opset 13, axis 1); Constant weights."""
    m = Model("softmax_4d", 19)
    x = m.rng.uniform(0, 1, (1, 3, 4, 4))
    w = m.weight((5, 3, 1, 1))
    wn = m.node("Constant", [], value=numpy_helper.from_array(w.astype(np.float32), "wc"))
    c = m.node("Conv", ["x", wn])
    y = m.node("Softmax", [c], axis=1)
    ref = softmax(conv2d(x, w), 1)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def external_data():
    """Conv weights and bias in an external file at an offset (and one more tensor
    in a second file), the rest inline."""
    m = Model("external_data", 20)
    x = m.rng.uniform(0, 1, (1, 2, 5, 5))
    w = m.weight((3, 2, 3, 3)).astype(np.float32)
    b = m.rng.normal(0, 0.1, 3).astype(np.float32)
    y = conv_node(m, "x", w, b, pads=[1, 1, 1, 1])
    ref = conv2d(x, w, b, pads=(1, 1, 1, 1))
    model_ = m.build([("x", x.shape)], [(y, ref.shape)])
    return model_, x, ref


def externalize(model_, outdir, name, tensors):
    """Move the named initializers into files: tensors = {init_name: (file, offset)}."""
    blobs = {}
    for t in model_.graph.initializer:
        if t.name not in tensors:
            continue
        fname, offset = tensors[t.name]
        data = numpy_helper.to_array(t).astype(np.float32).tobytes()
        blob = blobs.setdefault(fname, bytearray())
        if len(blob) < offset:
            blob.extend(b"\xa5" * (offset - len(blob)))
        blob[offset:offset + len(data)] = data
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in (("location", fname), ("offset", str(offset)), ("length", str(len(data)))):
            e = t.external_data.add()
            e.key, e.value = k, v
    for fname, blob in blobs.items():
        path = os.path.join(outdir, fname)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(bytes(blob))


@model
def metadata():
    m = Model("metadata", 21)
    x = m.rng.uniform(0, 1, (1, 1, 4, 4))
    w = m.weight((2, 1, 3, 3))
    y = conv_node(m, "x", w)
    m.meta = {
        "mxu.preprocess.scale": "0.00392156862745098",
        "mxu.preprocess.mean": "0.485,0.456,0.406",
        "mxu.preprocess.std": "0.229,0.224,0.225",
        "mxu.preprocess.order": "bgr",
        "mxu.float_accuracy": "0.9123",
        "mxu.classes": "cat,dog,T-shirt/top",
        "other.tool": "ignored",
    }
    ref = conv2d(x, w)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


# ---- pre-quantized models ------------------------------------------------------------------

def per_channel_int8(w):
    s = np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127
    return quantize(w / s.reshape((-1,) + (1,) * (w.ndim - 1)), 1, 0, np.int8), s


@model
def qdq_conv():
    """QDQ: uint8 activations, int8 per-channel weights, int32 bias, Relu."""
    m = Model("qdq_conv", 30)
    x = m.rng.uniform(0, 1, (1, 3, 6, 6))
    s_in, zp_in = 1 / 255, 0
    xq = m.node("QuantizeLinear", ["x", m.const(s_in), m.const(zp_in, np.uint8)])
    xd = m.node("DequantizeLinear", [xq, m.const(s_in), m.const(zp_in, np.uint8)])
    w = m.weight((4, 3, 3, 3))
    wq, sw = per_channel_int8(w)
    wd = m.node("DequantizeLinear", [m.const(wq, np.int8), m.const(sw),
                                     m.const(np.zeros(4), np.int8)], axis=0)
    b = m.rng.normal(0, 0.1, 4)
    sb = (np.float32(s_in) * sw.astype(np.float32)).astype(np.float32)
    bq = np.rint(b / sb).astype(np.int32)
    bd = m.node("DequantizeLinear", [m.const(bq, np.int32), m.const(sb),
                                     m.const(np.zeros(4), np.int32)], axis=0)
    c = m.node("Conv", [xd, wd, bd], pads=[1, 1, 1, 1])
    r = m.node("Relu", [c])
    xf = fake_quant(x, s_in, zp_in)
    wf = wq * sw.reshape(-1, 1, 1, 1)
    h = np.maximum(conv2d(xf, wf, bq * sb, pads=(1, 1, 1, 1)), 0)
    s_out = float(h.max()) / 255
    yq = m.node("QuantizeLinear", [r, m.const(s_out), m.const(0, np.uint8)])
    y = m.node("DequantizeLinear", [yq, m.const(s_out), m.const(0, np.uint8)])
    ref = fake_quant(h, np.float32(s_out), 0)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def qdq_gemm():
    """QDQ around Gemm with int8 activations and per-tensor weights."""
    m = Model("qdq_gemm", 31)
    x = m.rng.uniform(0, 1, (1, 12))
    s_in, zp_in = 1 / 254, -127
    xq = m.node("QuantizeLinear", ["x", m.const(s_in), m.const(zp_in, np.int8)])
    xd = m.node("DequantizeLinear", [xq, m.const(s_in), m.const(zp_in, np.int8)])
    w = m.weight((5, 12), 12)
    sw = float(np.abs(w).max()) / 127
    wq = quantize(w, sw, 0, np.int8)
    wd = m.node("DequantizeLinear", [m.const(wq, np.int8), m.const(sw), m.const(0, np.int8)])
    g = m.node("Gemm", [xd, wd], transB=1)
    xf = fake_quant(x, s_in, zp_in, np.int8)
    h = xf @ (wq * np.float32(sw)).T
    s_out = float(np.abs(h).max()) / 127
    yq = m.node("QuantizeLinear", [g, m.const(s_out), m.const(0, np.int8)])
    y = m.node("DequantizeLinear", [yq, m.const(s_out), m.const(0, np.int8)])
    ref = fake_quant(h, np.float32(s_out), 0, np.int8)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


def requant(acc, m_, zp, dtype):
    return quantize(acc * m_, 1, zp, dtype)


@model
def qlinear_conv():
    """QuantizeLinear, QLinearConv (uint8 activations, per-channel int8 weights, int32
    bias), DequantizeLinear."""
    m = Model("qlinear_conv", 32)
    x = m.rng.uniform(0, 1, (1, 3, 6, 6))
    s_x, zp_x = 1 / 255, 0
    w = m.weight((4, 3, 3, 3))
    wq, sw = per_channel_int8(w)
    b = m.rng.normal(0, 0.1, 4)
    bq = np.rint(b / (s_x * sw)).astype(np.int32)
    xq_np = quantize(x, s_x, zp_x, np.uint8)
    acc = conv2d(xq_np.astype(np.float64) - zp_x, wq.astype(np.float64), bq, strides=(2, 2),
                 pads=(1, 1, 1, 1))
    real = acc * (s_x * sw).reshape(1, -1, 1, 1)
    s_y = float(real.max() - min(real.min(), 0)) / 255
    zp_y = int(np.rint(-min(real.min(), 0) / s_y))
    xq = m.node("QuantizeLinear", ["x", m.const(s_x), m.const(zp_x, np.uint8)])
    c = m.node("QLinearConv", [xq, m.const(s_x), m.const(zp_x, np.uint8), m.const(wq, np.int8),
                               m.const(sw), m.const(np.zeros(4), np.int8), m.const(s_y),
                               m.const(zp_y, np.uint8), m.const(bq, np.int32)],
               strides=[2, 2], pads=[1, 1, 1, 1])
    y = m.node("DequantizeLinear", [c, m.const(s_y), m.const(zp_y, np.uint8)])
    yq = quantize(real / np.float32(s_y), 1, zp_y, np.uint8)
    ref = (yq.astype(np.float64) - zp_y) * np.float32(s_y)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


@model
def qlinear_matmul():
    m = Model("qlinear_matmul", 33)
    x = m.rng.uniform(0, 1, (1, 16))
    s_a, zp_a = 1 / 255, 0
    w = m.weight((16, 6), 16)
    sw = float(np.abs(w).max()) / 127
    wq = quantize(w, sw, 0, np.int8)
    aq = quantize(x, s_a, zp_a, np.uint8)
    real = (aq.astype(np.float64) - zp_a) @ wq.astype(np.float64) * (s_a * sw)
    s_y = float(np.abs(real).max()) / 127
    xq = m.node("QuantizeLinear", ["x", m.const(s_a), m.const(zp_a, np.uint8)])
    mm = m.node("QLinearMatMul", [xq, m.const(s_a), m.const(zp_a, np.uint8), m.const(wq, np.int8),
                                  m.const(sw), m.const(0, np.int8), m.const(s_y),
                                  m.const(0, np.int8)])
    y = m.node("DequantizeLinear", [mm, m.const(s_y), m.const(0, np.int8)])
    ref = fake_quant(real, np.float32(s_y), 0, np.int8)
    return m.build([("x", x.shape)], [(y, ref.shape)]), x, ref


# ---- models the frontend must refuse ------------------------------------------------------

def bad_models():
    out = {}
    m = Model("bad_unsupported_op", 40)
    h = m.node("Erf", ["x"], name="erf_node")
    out["bad_unsupported_op"] = m.build([("x", (1, 3, 4, 4))], [(h, (1, 3, 4, 4))])

    m = Model("bad_count_include_pad", 41)
    h = m.node("AveragePool", ["x"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    out["bad_count_include_pad"] = m.build([("x", (1, 3, 4, 4))], [(h, (1, 3, 4, 4))])

    m = Model("bad_broadcast_add", 42)
    h = m.node("Add", ["x", m.const(np.ones((1, 1, 4, 4)))])
    out["bad_broadcast_add"] = m.build([("x", (1, 3, 4, 4))], [(h, (1, 3, 4, 4))])

    m = Model("bad_undefined_input", 43)
    h = m.node("Relu", ["nowhere"])
    out["bad_undefined_input"] = m.build([("x", (1, 3, 4, 4))], [(h, (1, 3, 4, 4))])

    m = Model("bad_symbolic_dim", 44)
    h = m.node("Relu", ["x"])
    out["bad_symbolic_dim"] = m.build([("x", (1, 3, "height", 4))], [(h, (1, 3, 4, 4))])

    m = Model("bad_flatten_output", 45)
    h = m.node("Flatten", ["x"])
    out["bad_flatten_output"] = m.build([("x", (1, 3, 4, 4))], [(h, (1, 48))])

    m = Model("bad_raw_size", 46)
    w = m.weight((2, 3, 3, 3)).astype(np.float32)
    h = conv_node(m, "x", w)
    bad = m.build([("x", (1, 3, 4, 4))], [(h, (1, 2, 2, 2))])
    bad.graph.initializer[0].raw_data = bad.graph.initializer[0].raw_data[:-4]
    out["bad_raw_size"] = bad
    return out


def external_variants(outdir):
    """The external-data model, plus copies whose locations are unsafe or out of range."""
    model_, x, ref = external_data()
    winit, binit = model_.graph.initializer[0].name, model_.graph.initializer[1].name
    externalize(model_, outdir, "external_data",
                {winit: ("external_data.weights", 16), binit: ("sub/bias.bin", 0)})
    models = {"external_data": model_}

    def variant(name, key, value):
        v = onnx.ModelProto()
        v.CopyFrom(model_)
        for e in v.graph.initializer[0].external_data:
            if e.key == key:
                e.value = value
        models[name] = v

    variant("bad_ext_escape", "location", "../external_data.weights")
    variant("bad_ext_absolute", "location", "/etc/passwd")
    variant("bad_ext_range", "offset", "100000")
    variant("bad_ext_length", "length", "12")
    variant("bad_ext_missing", "location", "no_such_file.bin")
    return models, x, ref


def save(outdir, name, model_, x=None, ref=None):
    with open(os.path.join(outdir, name + ".onnx"), "wb") as f:
        f.write(model_.SerializeToString())
    if x is not None:
        np.asarray(x, np.float32).tofile(os.path.join(outdir, name + ".input.bin"))
        np.asarray(ref, np.float32).tofile(os.path.join(outdir, name + ".expected.bin"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, fn in MODELS.items():
        if name == "external_data":
            continue
        model_, x, ref = fn()
        onnx.checker.check_model(model_)
        save(outdir, name, model_, x, ref)
    ext, x, ref = external_variants(outdir)
    for name, model_ in ext.items():
        save(outdir, name, model_, x if name == "external_data" else None, ref)
    for name, model_ in bad_models().items():
        save(outdir, name, model_)
    print(f"make_onnx_models.py: {len(MODELS) + len(ext) - 1 + len(bad_models())} models in "
          f"{outdir}")


if __name__ == "__main__":
    main()
