#!/usr/bin/env python3
"""Reference outputs of the TFLite interpreter (PyPI ai-edge-litert) for the
committed int8 models, on Fashion-MNIST test images, for tests/tflite/*.c.

    reference.py MODEL_DIR OUT_DIR [COUNT]

For each MODEL_DIR/NAME.tflite, OUT_DIR gets (COUNT images, in order):
  NAME.in       int8 input tensor of every image (the QUANTIZE output for a
                float-input model), raw bytes
  NAME.KIND.out int8 output tensor (the DEQUANTIZE input for a float-output
                model), KIND = opt or ref (see below)
  NAME.KIND.f32 float output (float-output models only), little-endian float32
  NAME.txt      input shape, float_in, float_out, images

Interpreters (docs/compiler-tflite.md explains the choice):
  opt: OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, the interpreter's
       builtin kernels without the XNNPACK delegate (which the interpreter
       otherwise applies by default and whose requantization differs)
  ref: OpResolverType.BUILTIN_REF, TFLite's reference kernels
Preprocessing as models/tflite/make_models.py: pixels / 255, 32x32x3 padded
and replicated, 20x24x1 cropped; an int8 input is round(x / scale) + zero point
(half away from zero, saturated), as TFLite's QUANTIZE computes it.
"""
import gzip
import os
import sys

import numpy as np
from ai_edge_litert import interpreter as tfl

DATA = '/usr/share/datasets/fashion-mnist'


def idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        raw = f.read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndims).reshape(dims)


def shaped(images, shape):
    x = images.astype(np.float32) / np.float32(255)
    if shape == (28, 28, 1):
        return x[..., None]
    if shape == (32, 32, 3):
        return np.repeat(np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None], 3, axis=3)
    if shape == (20, 24, 1):
        return x[:, 4:24, 2:26, None]
    raise ValueError(shape)


def quantize(x, scale, zp):
    q = np.float32(x) / np.float32(scale)
    q = np.where(q >= 0, np.floor(q + np.float32(0.5)), np.ceil(q - np.float32(0.5))) + zp
    return np.clip(q, -128, 127).astype(np.int8)


def interpreter(path, kind):
    resolver = {'opt': tfl.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                'ref': tfl.OpResolverType.BUILTIN_REF}[kind]
    it = tfl.Interpreter(model_path=path, experimental_op_resolver_type=resolver,
                         experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    return it


def edge_tensors(it):
    """Tensor indices: the int8 input (QUANTIZE output or the input) and the
    int8 output (DEQUANTIZE input or the output)."""
    inp, out = it.get_input_details()[0]['index'], it.get_output_details()[0]['index']
    q_in, q_out = inp, out
    for op in it._get_ops_details():
        if op['op_name'] == 'QUANTIZE' and op['inputs'][0] == inp:
            q_in = op['outputs'][0]
        if op['op_name'] == 'DEQUANTIZE' and op['outputs'][0] == out:
            q_out = op['inputs'][0]
    return inp, out, q_in, q_out


def run(path, name, out_dir, images):
    first = interpreter(path, 'opt')
    d = first.get_input_details()[0]
    shape = tuple(int(s) for s in d['shape'][1:])
    float_in = d['dtype'] == np.float32
    float_out = first.get_output_details()[0]['dtype'] == np.float32
    x = shaped(images, shape)
    if not float_in:
        scale, zp = d['quantization']
        x = quantize(x, scale, zp)
    n = len(images)
    qin = None
    for kind in ('opt', 'ref'):
        it = first if kind == 'opt' else interpreter(path, kind)
        inp, out, q_in, q_out = edge_tensors(it)
        ins, outs, floats = [], [], []
        for i in range(n):
            it.set_tensor(inp, x[i:i + 1])
            it.invoke()
            ins.append(it.get_tensor(q_in).copy())
            outs.append(it.get_tensor(q_out).copy())
            if float_out:
                floats.append(it.get_tensor(out).copy())
        ins = np.concatenate(ins).astype(np.int8)
        if qin is None:
            qin = ins
            qin.tofile(os.path.join(out_dir, name + '.in'))
        elif not np.array_equal(qin, ins):
            raise SystemExit(f'{name}: the two interpreters quantize the input differently')
        np.concatenate(outs).astype(np.int8).tofile(os.path.join(out_dir, f'{name}.{kind}.out'))
        if float_out:
            np.concatenate(floats).astype('<f4').tofile(os.path.join(out_dir, f'{name}.{kind}.f32'))
    with open(os.path.join(out_dir, name + '.txt'), 'w') as f:
        f.write(f'shape={"x".join(map(str, shape))}\nfloat_in={int(float_in)}\n'
                f'float_out={int(float_out)}\nimages={n}\n')
    print(f'{name}: {n} images, input {shape}, float in/out {int(float_in)}/{int(float_out)}')


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    os.makedirs(out_dir, exist_ok=True)
    images = idx('t10k-images-idx3-ubyte.gz')[:count]
    for f in sorted(os.listdir(model_dir)):
        if f.endswith('.tflite'):
            run(os.path.join(model_dir, f), f[:-len('.tflite')], out_dir, images)


if __name__ == '__main__':
    main()
