# make demo: a tour of the product on real programs — assemble the hand-written
# examples, run them on the C model, the Verilator RTL and Icarus, each checked
# against the golden kernels, then AlexNet's layers on the model.
DEMO_PROGRAMS := matmul conv3x3_s2 conv_relu_pool
DEMO_DIR := $(BUILD)/demo

demo: all
	@mkdir -p $(DEMO_DIR)
	@set -e; for p in $(DEMO_PROGRAMS); do \
	    echo "== $$p: mxu asm examples/$$p.s -o $(DEMO_DIR)/$$p.mxp"; \
	    $(MXU) asm examples/$$p.s -o $(DEMO_DIR)/$$p.mxp; \
	    for b in model rtl; do \
	        echo "-- mxu run $(DEMO_DIR)/$$p.mxp --backend $$b --random-input 1 --check"; \
	        $(MXU) run $(DEMO_DIR)/$$p.mxp --backend $$b --random-input 1 --check; \
	    done; \
	done
	@echo "-- mxu run $(DEMO_DIR)/matmul.mxp --backend icarus --random-input 1 --check --json"
	@$(MXU) run $(DEMO_DIR)/matmul.mxp --backend icarus --random-input 1 --check --json
	@echo "== A 4096x256x256 matmul on the 16x16 RTL: mxu bench matmul --backend rtl"
	@$(MXU) bench matmul --backend rtl
	@echo "== AlexNet (Caffe shapes, random weights) on the C model: mxu bench alexnet"
	@$(MXU) bench alexnet

.PHONY: demo
