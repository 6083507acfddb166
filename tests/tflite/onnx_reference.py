#!/usr/bin/env python3
"""ONNX Runtime references for tests/tflite/test_onnx_ort.c.

    onnx_reference.py OUT_DIR [COUNT]

- ONNX Runtime's float outputs of models/fashion_mnist/{cnn,mlp}.onnx on the
  first COUNT Fashion-MNIST test images (pixels / 255, NCHW):
  OUT_DIR/ort_NAME.f32 ([COUNT][10] float32, little endian).
- A QDQ model made from cnn.onnx by onnxruntime.quantization.quantize_static
  (QDQ format, int8 activations and per-channel int8 weights, calibrated on
  200 training images, MinMax, reduce_range: 7-bit weights, so that ONNX
  Runtime's x86 u8s8 kernels without VNNI do not saturate their 16-bit pair
  sums): OUT_DIR/cnn_qdq.onnx, and ONNX Runtime's
  float outputs of it (OUT_DIR/ort_cnn_qdq.f32), and the int8 output of its
  first layer (conv1, ReLU, max-pool: OUT_DIR/ort_cnn_qdq_pool1.i8, NHWC), where the
  two rounding conventions cannot compound.
"""
import gzip
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime import quantization as q

DATA = '/usr/share/datasets/fashion-mnist'
MODELS = 'models/fashion_mnist'


def idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        raw = f.read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndims).reshape(dims)


def nchw(images):
    return (images.astype(np.float32) / np.float32(255))[:, None, :, :]


def run(path, x, output=0):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    s = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
    name = s.get_inputs()[0].name
    return np.concatenate([s.run(None, {name: x[i:i + 1]})[output] for i in range(len(x))])


def with_first_pool_output(path, out_path):
    """The QDQ model with the int8 output of its first MaxPool's QuantizeLinear
    as a second graph output (one layer: no rounding differences compound)."""
    m = onnx.load(path)
    q = next(n for n in m.graph.node if n.op_type == 'QuantizeLinear' and n.input[0] == '/MaxPool_output_0')
    m.graph.output.append(onnx.helper.make_tensor_value_info(q.output[0], onnx.TensorProto.INT8, None))
    onnx.save(m, out_path)


class Calibration(q.CalibrationDataReader):
    def __init__(self, x):
        self.items = iter([{'input': x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


def main():
    out_dir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    os.makedirs(out_dir, exist_ok=True)
    x = nchw(idx('t10k-images-idx3-ubyte.gz')[:count])
    for name in ('cnn', 'mlp'):
        run(os.path.join(MODELS, name + '.onnx'), x).astype('<f4').tofile(
            os.path.join(out_dir, f'ort_{name}.f32'))
    qdq = os.path.join(out_dir, 'cnn_qdq.onnx')
    q.quantize_static(os.path.join(MODELS, 'cnn.onnx'), qdq,
                      Calibration(nchw(idx('train-images-idx3-ubyte.gz')[:200])),
                      quant_format=q.QuantFormat.QDQ, activation_type=q.QuantType.QInt8,
                      weight_type=q.QuantType.QInt8, per_channel=True, reduce_range=True,
                      calibrate_method=q.CalibrationMethod.MinMax)
    run(qdq, x).astype('<f4').tofile(os.path.join(out_dir, 'ort_cnn_qdq.f32'))
    probe = os.path.join(out_dir, 'cnn_qdq_probe.onnx')
    with_first_pool_output(qdq, probe)
    pool1 = run(probe, x, 1).transpose(0, 2, 3, 1)  # NHWC, as mxu
    pool1.astype(np.int8).tofile(os.path.join(out_dir, 'ort_cnn_qdq_pool1.i8'))
    print(f'onnxruntime {ort.__version__}: cnn, mlp and cnn_qdq on {count} images')


if __name__ == '__main__':
    main()
