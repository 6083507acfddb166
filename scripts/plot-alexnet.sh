#!/usr/bin/env bash
# Plot AlexNet per-layer cycles (mxu on the RTL vs ideal vs SCALE-Sim's formula)
# and utilization from `mxu bench alexnet --json`.
#   plot-alexnet.sh BENCH.json OUT.png
set -euo pipefail
json=$1 out=$2
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# one line per layer: name cycles ideal scalesim utilization
tr '{' '\n' < "$json" | sed -n 's/.*"name": "\([^"]*\)".*"cycles": \([0-9]*\).*"utilization": \([0-9.]*\).*"ideal_cycles": \([0-9]*\).*"scalesim_cycles": \([0-9]*\).*/\1 \2 \4 \5 \3/p' > "$data"
[ -s "$data" ] || { echo "plot-alexnet.sh: no layers in $json" >&2; exit 1; }
gnuplot <<GP
set terminal pngcairo size 960,480 font ",11" noenhanced
set output "$out"
set multiplot layout 1,2 title "AlexNet (Caffe shapes, batch 1) on the 16x16 array"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "cycles (millions)"
set xtics rotate by -30
set key top left
set grid ytics
plot "$data" using (\$2/1e6):xtic(1) title "mxu RTL", "" using (\$3/1e6) title "ideal (MACs/256)", \
     "" using (\$4/1e6) title "SCALE-Sim WS formula"
set ylabel "array utilization (%)"
set yrange [0:100]
unset key
plot "$data" using (\$5*100):xtic(1) title "utilization" linecolor rgb "#2a7ab0"
unset multiplot
GP
