#!/usr/bin/env python3
"""Outputs of the TFLite interpreter with its default XNNPACK delegate (what
`Interpreter(model_path=...)` runs unless told otherwise), for a measurement
that `make test` does not need: docs/numerics.md reports how far mxu is from it.

    xnnpack_reference.py MODEL_DIR OUT_DIR [COUNT]

Run after tests/tflite/reference.py filled OUT_DIR (same images, same
preprocessing). For each model, OUT_DIR gets NAME.xnn.out (int8 output tensor
of every image; for a float-output model, its DEQUANTIZE input).
tests/tflite/test_tflite_interp.c then reports the bytes that differ from it
(`xnnpack` in its result lines); nothing is asserted.
"""
import os
import sys

import numpy as np
from ai_edge_litert import interpreter as tfl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  (same directory)


def run(path, name, out_dir, images):
    it = tfl.Interpreter(model_path=path, experimental_op_resolver_type=tfl.OpResolverType.AUTO,
                         experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    shape = tuple(int(s) for s in d['shape'][1:])
    x = reference.shaped(images, shape)
    if d['dtype'] != np.float32:
        scale, zp = d['quantization']
        x = reference.quantize(x, scale, zp)
    inp, out_index, q_in, q_out = reference.edge_tensors(it)
    q_scale, q_zp = {t['index']: t['quantization'] for t in it.get_tensor_details()}[q_out]
    want_in = np.fromfile(os.path.join(out_dir, name + '.in'), np.int8)
    outs = []
    for i in range(len(images)):
        it.set_tensor(inp, x[i:i + 1])
        it.invoke()
        got_in = it.get_tensor(q_in).astype(np.int8).ravel()
        if not np.array_equal(got_in, want_in[i * got_in.size:(i + 1) * got_in.size]):
            raise SystemExit(f'{name}: image {i} is quantized differently from reference.py')
        out = it.get_tensor(q_out).copy()
        if q_out != out_index:
            # an edge tensor inside a delegated partition must still be live:
            # the float output is its dequantization
            back = np.round(it.get_tensor(out_index).astype(np.float64) / q_scale) + q_zp
            if not np.array_equal(back.astype(np.int64), out.astype(np.int64)):
                raise SystemExit(f'{name}: image {i}: the int8 output is not the float output\'s source')
        outs.append(out)
    np.concatenate(outs).astype(np.int8).tofile(os.path.join(out_dir, name + '.xnn.out'))
    print(f'{name}: {len(images)} images with the default (XNNPACK) interpreter')


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    images = reference.idx('t10k-images-idx3-ubyte.gz')[:count]
    for f in sorted(os.listdir(model_dir)):
        if f.endswith('.tflite'):
            run(os.path.join(model_dir, f), f[:-len('.tflite')], out_dir, images)


if __name__ == '__main__':
    main()
