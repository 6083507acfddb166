# Bitstream of an mxu board top with Vivado (non-project batch flow). Vivado is
# not part of Debian and was not available where this was written: the script
# follows Vivado's documented Tcl commands but has not been run (docs/fpga.md).
#
#   make isa        # build/gen/mxu_isa.vh, included by the RTL
#   vivado -mode batch -nojournal -source rtl/fpga/vivado_build.tcl -tclargs BOARD [OUT_DIR]
#
# BOARD: nexys_video   Digilent Nexys Video, mxu_fpga_nexys_video, nexys_video.xdc
#        arty_a7_100t  Digilent Arty A7-100T + FT232H module, mxu_fpga_ft232h, ft232h_generic.xdc
# Writes OUT_DIR (default build/vivado/BOARD): TOP.bit, utilization and timing reports.
if {[llength $argv] < 1} {
    error "usage: vivado -mode batch -source rtl/fpga/vivado_build.tcl -tclargs nexys_video|arty_a7_100t \[OUT_DIR\]"
}
set board [lindex $argv 0]
set out [expr {[llength $argv] > 1 ? [lindex $argv 1] : "build/vivado/$board"}]
switch -- $board {
    nexys_video  { set part xc7a200tsbg484-1; set top mxu_fpga_nexys_video; set xdc rtl/fpga/nexys_video.xdc }
    arty_a7_100t { set part xc7a100tcsg324-1; set top mxu_fpga_ft232h;      set xdc rtl/fpga/ft232h_generic.xdc }
    default      { error "unknown board '$board' (nexys_video, arty_a7_100t)" }
}
if {![file exists build/gen/mxu_isa.vh]} { error "build/gen/mxu_isa.vh missing: run `make isa` first" }
file mkdir $out

# The FPGA sources: rtl/*.v with rtl/fpga/mem/mxu_ram.v for rtl/mxu_ram.v, and rtl/fpga/*.v.
set srcs {}
foreach f [lsort [glob rtl/*.v]] { if {$f ne "rtl/mxu_ram.v"} { lappend srcs $f } }
lappend srcs rtl/fpga/mem/mxu_ram.v
foreach f [lsort [glob rtl/fpga/*.v]] { lappend srcs $f }
read_verilog $srcs
read_xdc $xdc

synth_design -top $top -part $part -include_dirs {build/gen rtl}
opt_design
place_design
phys_opt_design
route_design
report_utilization -file $out/utilization.rpt
report_timing_summary -file $out/timing.rpt
report_clock_interaction -file $out/clock_interaction.rpt
write_bitstream -force $out/$top.bit
puts "bitstream: $out/$top.bit (check $out/timing.rpt: WNS must be >= 0)"
