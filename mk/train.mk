# make train: retrain the Fashion-MNIST models (models/fashion_mnist/train.py) with
# Debian's python3-torch, rewriting models/fashion_mnist/{cnn,mlp}.onnx and train.log
# (the committed ones). Installs the `train` dependency group first. Deterministic:
# the same machine and packages give the same weights. Not part of `make test`.
TRAIN_ARGS ?=

train:
	@bash scripts/install-deps.sh train
	/usr/bin/python3 models/fashion_mnist/train.py $(TRAIN_ARGS)

.PHONY: train
