# make demo: the product end to end. Compile the Fashion-MNIST CNN (an ONNX file
# trained by models/fashion_mnist/train.py), calibrate it on training images,
# classify test images on the cycle-accurate RTL and, all 10,000, on the C model;
# then AlexNet from Debian's Darknet cfg with random weights on the RTL, checked
# against the golden kernels; and a hand-written program on Icarus.
DEMO_DIR := $(BUILD)/demo
DEMO_DATA := /usr/share/datasets/fashion-mnist
DEMO_RTL_IMAGES ?= 300

demo: all
	@mkdir -p $(DEMO_DIR)
	@echo "== 1. Compile the CNN, calibrated on 500 training images"
	$(MXU) compile models/fashion_mnist/cnn.onnx --calib $(DEMO_DATA)/train-images-idx3-ubyte.gz \
	    --calib-count 500 -o $(DEMO_DIR)/cnn.mxp
	@echo "== 2. Classify $(DEMO_RTL_IMAGES) test images on the 16x16 RTL (Verilator), each checked against the golden kernels"
	$(MXU) run $(DEMO_DIR)/cnn.mxp --backend rtl --dataset $(DEMO_DATA)/t10k-images-idx3-ubyte.gz \
	    --labels $(DEMO_DATA)/t10k-labels-idx1-ubyte.gz --limit $(DEMO_RTL_IMAGES) --check
	@echo "== 3. All 10,000 test images on the C model"
	$(MXU) run $(DEMO_DIR)/cnn.mxp --backend model --dataset $(DEMO_DATA)/t10k-images-idx3-ubyte.gz \
	    --labels $(DEMO_DATA)/t10k-labels-idx1-ubyte.gz
	@echo "== 4. AlexNet (Darknet cfg, random weights) on the RTL, checked"
	$(MXU) compile /usr/share/darknet/cfg/alexnet.cfg --random-weights 1 --quiet -o $(DEMO_DIR)/alexnet.mxp
	$(MXU) run $(DEMO_DIR)/alexnet.mxp --backend rtl --random-input 1 --check
	@echo "== 5. A hand-written program on Icarus Verilog, checked"
	$(MXU) asm examples/conv_relu_pool.s -o $(DEMO_DIR)/conv_relu_pool.mxp
	$(MXU) run $(DEMO_DIR)/conv_relu_pool.mxp --backend icarus --random-input 1 --check

.PHONY: demo
