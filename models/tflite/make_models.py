#!/usr/bin/env python3
"""Train small Fashion-MNIST networks with Keras and convert them with the real
TFLite converter (PyPI tensorflow-cpu) to int8 full-integer quantized .tflite
files: the models mxu's TFLite frontend is checked against (tests/tflite/).

    python3 -m venv /tmp/tfconv && /tmp/tfconv/bin/pip install tensorflow-cpu
    /tmp/tfconv/bin/python models/tflite/make_models.py [OUT_DIR] > models/tflite/make_models.log

Not run by `make test` (the .tflite files and this script's log are committed).
Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
Quantization: TFLiteConverter with Optimize.DEFAULT, a representative data set
of 500 training images, TFLITE_BUILTINS_INT8 only. Inputs and outputs are int8
except for the MLP, whose float input/output exercise QUANTIZE/DEQUANTIZE.
Every model has batch size 1 (a fixed-shape RESHAPE, no SHAPE/PACK ops).
"""
import gzip
import os
import sys
import time

import numpy as np
import tensorflow as tf

DATA = '/usr/share/datasets/fashion-mnist'
SEED = 1


def idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        raw = f.read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndims).reshape(dims)


def shaped(images, shape):
    """uint8 28x28 images -> float32 model inputs in [0, 1] of `shape` (H, W, C):
    28x28x1 as is, 32x32x3 padded by 2 and the gray replicated, 20x24x1 the
    central crop (rows 4..23, columns 2..25). tests/tflite/reference.py does
    the same."""
    x = images.astype(np.float32) / np.float32(255)
    if shape == (28, 28, 1):
        return x[..., None]
    if shape == (32, 32, 3):
        return np.repeat(np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None], 3, axis=3)
    if shape == (20, 24, 1):
        return x[:, 4:24, 2:26, None]
    raise ValueError(shape)


L = tf.keras.layers


def mlp(shape, batch=None):
    x = inp = tf.keras.Input(shape, batch_size=batch)
    x = L.Flatten()(x)
    x = L.Dense(128, activation='relu')(x)
    x = L.Dense(64, activation='tanh')(x)  # FULLY_CONNECTED, then TANH
    x = L.Dense(10)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def lenet(shape, batch=None):
    x = inp = tf.keras.Input(shape, batch_size=batch)
    x = L.Conv2D(8, 5, activation='relu')(x)
    x = L.MaxPooling2D(2)(x)
    x = L.Conv2D(16, 5, activation='relu')(x)
    x = L.MaxPooling2D(2)(x)
    x = L.Flatten()(x)
    x = L.Dense(64, activation='relu')(x)
    x = L.Dense(10)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def resnet(shape, batch=None):
    x = inp = tf.keras.Input(shape, batch_size=batch)
    x = L.Conv2D(16, 3, padding='same', activation='relu')(x)
    y = L.Conv2D(16, 3, padding='same', activation='relu')(x)
    y = L.Conv2D(16, 3, padding='same')(y)
    x = L.ReLU()(L.Add()([x, y]))  # ADD with a fused RELU
    x = L.MaxPooling2D(2)(x)
    x = L.Conv2D(32, 3, strides=2, padding='same', activation='relu')(x)
    x = L.AveragePooling2D(x.shape[1])(x)  # global average, as AVERAGE_POOL_2D
    x = L.Flatten()(x)
    x = L.Dense(10)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def dwsep(shape, batch=None):
    x = inp = tf.keras.Input(shape, batch_size=batch)
    x = L.Conv2D(8, 3, padding='same')(x)
    x = L.ReLU(6.0)(x)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding='same')(x)
    x = L.ReLU(6.0)(x)
    x = L.Conv2D(16, 1)(x)
    x = L.ReLU(6.0)(x)
    x = L.DepthwiseConv2D(3, strides=2, padding='same')(x)
    x = L.Conv2D(24, 1)(x)
    x = L.Activation('sigmoid')(x)  # LOGISTIC
    x = L.AveragePooling2D(2)(x)
    x = L.Flatten()(x)
    x = L.Dense(10)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


MODELS = [
    ('mlp_28x28', mlp, (28, 28, 1), True),
    ('lenet_28x28', lenet, (28, 28, 1), False),
    ('lenet_32x32x3', lenet, (32, 32, 3), False),
    ('resnet_28x28', resnet, (28, 28, 1), False),
    ('dwsep_28x28', dwsep, (28, 28, 1), False),
    ('dwsep_20x24', dwsep, (20, 24, 1), False),
]


def convert(model, rep, float_io):
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in rep)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def ops_of(content):
    from tensorflow.lite.python.interpreter import Interpreter
    it = Interpreter(model_content=content)
    return [op['op_name'] for op in it._get_ops_details()]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    tf.keras.utils.set_random_seed(SEED)
    train_x, train_y = idx('train-images-idx3-ubyte.gz'), idx('train-labels-idx1-ubyte.gz')
    test_x, test_y = idx('t10k-images-idx3-ubyte.gz'), idx('t10k-labels-idx1-ubyte.gz')
    print(f'tensorflow {tf.__version__}, seed {SEED}, train {len(train_x)}, test {len(test_x)}')
    for name, build, shape, float_io in MODELS:
        t0 = time.time()
        tr, te = shaped(train_x, shape), shaped(test_x, shape)
        model = build(shape)
        model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
        model.fit(tr, train_y, batch_size=64, epochs=2, verbose=0)
        _, acc = model.evaluate(te, test_y, batch_size=64, verbose=0)
        single = build(shape, batch=1)  # the converted graph has batch size 1
        single.set_weights(model.get_weights())
        content = convert(single, tr[:500], float_io)
        path = os.path.join(out_dir, name + '.tflite')
        with open(path, 'wb') as f:
            f.write(content)
        print(f'{name}: input {shape}, float I/O {float_io}, float test accuracy {acc:.4f}, '
              f'{len(content)} bytes, {time.time() - t0:.0f} s')
        print(f'  ops: {" ".join(ops_of(content))}')


if __name__ == '__main__':
    main()
