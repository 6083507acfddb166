## mxu_fpga_nexys_video on a Digilent Nexys Video (XC7A200T-1SBG484C).
## Pins from Digilent's Nexys Video master XDC (Rev. A); DPTI = the FT2232H's
## channel A as a synchronous 245 FIFO ("prog_*" nets of the schematic).
## Timing of the FTDI interface from the FT2232H datasheet (FT245 synchronous
## FIFO): the chip's outputs are valid 1..7.15 ns after CLKOUT rises, and it
## needs its inputs 7.5 ns before the edge (0 ns hold).

## ---- clocks ------------------------------------------------------------------------
set_property -dict {PACKAGE_PIN R4 IOSTANDARD LVCMOS33} [get_ports sysclk]
create_clock -period 10.000 -name sysclk [get_ports sysclk]
# FT2232H CLKOUT, 60 MHz, on a clock-capable (MRCC) pin; runs only while the
# host has channel A in synchronous FIFO mode (bitmode 0x40).
set_property -dict {PACKAGE_PIN Y18 IOSTANDARD LVCMOS33} [get_ports prog_clko]
create_clock -period 16.667 -name ft_clk [get_ports prog_clko]
# The core clock is the MMCM's CLKOUT0 (derived by Vivado from sysclk).

## ---- reset button and switch ---------------------------------------------------------
# CPU RESET (active low) sits in the 1.5 V bank 35.
set_property -dict {PACKAGE_PIN G4 IOSTANDARD LVCMOS15} [get_ports cpu_resetn]
# SW0 = byte loopback. Switches are powered from VADJ (1.2 V unless changed).
set_property -dict {PACKAGE_PIN E22 IOSTANDARD LVCMOS12} [get_ports {sw[0]}]

## ---- FT2232H channel A (DPTI) ------------------------------------------------------
set_property -dict {PACKAGE_PIN U20 IOSTANDARD LVCMOS33} [get_ports {prog_d[0]}]
set_property -dict {PACKAGE_PIN P14 IOSTANDARD LVCMOS33} [get_ports {prog_d[1]}]
set_property -dict {PACKAGE_PIN P15 IOSTANDARD LVCMOS33} [get_ports {prog_d[2]}]
set_property -dict {PACKAGE_PIN U17 IOSTANDARD LVCMOS33} [get_ports {prog_d[3]}]
set_property -dict {PACKAGE_PIN R17 IOSTANDARD LVCMOS33} [get_ports {prog_d[4]}]
set_property -dict {PACKAGE_PIN P16 IOSTANDARD LVCMOS33} [get_ports {prog_d[5]}]
set_property -dict {PACKAGE_PIN R18 IOSTANDARD LVCMOS33} [get_ports {prog_d[6]}]
set_property -dict {PACKAGE_PIN N14 IOSTANDARD LVCMOS33} [get_ports {prog_d[7]}]
set_property -dict {PACKAGE_PIN N17 IOSTANDARD LVCMOS33 PULLUP TRUE} [get_ports prog_rxen]
set_property -dict {PACKAGE_PIN Y19 IOSTANDARD LVCMOS33 PULLUP TRUE} [get_ports prog_txen]
set_property -dict {PACKAGE_PIN P19 IOSTANDARD LVCMOS33} [get_ports prog_rdn]
set_property -dict {PACKAGE_PIN R19 IOSTANDARD LVCMOS33} [get_ports prog_wrn]
set_property -dict {PACKAGE_PIN V17 IOSTANDARD LVCMOS33} [get_ports prog_oen]
set_property -dict {PACKAGE_PIN P17 IOSTANDARD LVCMOS33} [get_ports prog_siwun]
# prog_spien (R14) is not used: channel A stays in FIFO mode.

# The chip's outputs relative to CLKOUT.
set_input_delay -clock ft_clk -max 7.150 [get_ports {prog_d[*] prog_rxen prog_txen}]
set_input_delay -clock ft_clk -min 1.000 [get_ports {prog_d[*] prog_rxen prog_txen}]
# What the chip needs of ours: 7.5 ns setup, 0 ns hold.
set_output_delay -clock ft_clk -max 7.500 [get_ports {prog_d[*] prog_rdn prog_wrn prog_oen prog_siwun}]
set_output_delay -clock ft_clk -min 0.000 [get_ports {prog_d[*] prog_rdn prog_wrn prog_oen prog_siwun}]
# The PHY's outputs are registers: keep them in the I/O blocks (shortest clock-to-out).
set_property IOB TRUE [get_ports {prog_d[*] prog_rdn prog_wrn prog_oen prog_siwun}]

## ---- LEDs (2.5 V bank) --------------------------------------------------------------
## 0 heartbeat, 1 busy, 2 done, 3 error, 4 link error, 5 rx, 6 tx, 7 loopback
set_property -dict {PACKAGE_PIN T14 IOSTANDARD LVCMOS25} [get_ports {led[0]}]
set_property -dict {PACKAGE_PIN T15 IOSTANDARD LVCMOS25} [get_ports {led[1]}]
set_property -dict {PACKAGE_PIN T16 IOSTANDARD LVCMOS25} [get_ports {led[2]}]
set_property -dict {PACKAGE_PIN U16 IOSTANDARD LVCMOS25} [get_ports {led[3]}]
set_property -dict {PACKAGE_PIN V15 IOSTANDARD LVCMOS25} [get_ports {led[4]}]
set_property -dict {PACKAGE_PIN W16 IOSTANDARD LVCMOS25} [get_ports {led[5]}]
set_property -dict {PACKAGE_PIN W15 IOSTANDARD LVCMOS25} [get_ports {led[6]}]
set_property -dict {PACKAGE_PIN Y13 IOSTANDARD LVCMOS25} [get_ports {led[7]}]

## ---- clock-domain crossings -----------------------------------------------------------
## Only async_fifo pointers/storage, reset synchronizers and the loopback switch
## cross between ft_clk and the core clock. Bound them by the faster period so the
## Gray-code bits cannot skew apart; the rest is asynchronous by design.
set core_clk [get_clocks -of_objects [get_pins u_clk/u_mmcm/CLKOUT0]]
set_max_delay -datapath_only -from [get_clocks ft_clk] -to $core_clk 16.000
set_max_delay -datapath_only -from $core_clk -to [get_clocks ft_clk] 16.000
set_false_path -from [get_ports {cpu_resetn sw[0]}]
set_false_path -to [get_ports {led[*]}]

## ---- configuration ----------------------------------------------------------------
set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 3.3 [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]
