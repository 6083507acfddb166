#!/usr/bin/env bash
# Area of one mxu_top configuration from Debian's yosys, for the architecture
# sweeps (issue 7): prints ONE line of JSON and caches the runs under
# build/synth/ (reused while rtl/, the parameters and yosys are unchanged).
#
#   scripts/synth_area.sh ROWS COLS [UB_LINES [ACC_ROWS [WB_LINES [PARAM_LINES]]]] [--no-xilinx]
#
# Fields: config, rows, cols, ub_lines, acc_rows, wb_lines, param_lines;
#   generic `synth` with memories kept whole: cells, ff_generic, mem_bits,
#   transistors (logic only: yosys' CMOS gate costs, every flip-flop priced,
#   see scripts/fpga_synth.py);
#   7-series `synth_xilinx` (FPGA memories: rtl/fpga/mem/mxu_ram.v): lut, ff,
#   dsp, bram (RAMB36E1, a RAMB18E1 counting half, rounded up), lutram (LUTs
#   used as RAM or shift registers) -- null with --no-xilinx;
#   seconds: yosys time of the runs that produced the figures (cached or not).
# A new configuration takes about 5 minutes of CPU (generic; 7-series adds 6 to
# 12); docs/fpga.md lists measured times. Needs yosys (install-deps.sh synth).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
if ! command -v "${YOSYS:-yosys}" >/dev/null; then
    echo "synth_area.sh: yosys not found (bash scripts/install-deps.sh synth)" >&2
    exit 1
fi
[ -f "${MXU_BUILD:-build}/gen/mxu_isa.vh" ] || make -s isa >/dev/null
exec /usr/bin/python3 scripts/fpga_synth.py area "$@"
