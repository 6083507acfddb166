## mxu_fpga_ft232h on a Digilent Arty A7-100T (XC7A100T-1CSG324C) with an FT232H
## module (Adafruit FT232H, FTDI UM232H, ...) on Pmods JA and JB, its EEPROM set
## to 245 FIFO (docs/fpga.md). Any 7-series board works the same way: keep the
## port names, change PACKAGE_PIN, and put ft_clk_i on a clock-capable (SRCC/MRCC) pin.
## Keep the wires short (< 10 cm) and bring GND along every few signals: the bus
## runs at 60 MHz. Timing from the FT232H datasheet (FT245 synchronous FIFO).
##
##   FT232H pin   signal       Arty Pmod   FPGA pin
##   ADBUS0..7    D[7:0]       JA1-4,7-10  G13 B11 A11 D12 D13 B18 A18 K16
##   ACBUS5       CLKOUT       JB1         E15 (IO_L11P_T1_SRCC_15)
##   ACBUS0       RXF#         JB2         E16
##   ACBUS1       TXE#         JB3         D15
##   ACBUS2       RD#          JB4         C15
##   ACBUS3       WR#          JB7         J17
##   ACBUS4       SIWU#        JB8         J18
##   ACBUS6       OE#          JB9         K15
##   GND          GND          JA/JB 5, 11

## ---- clocks ---------------------------------------------------------------------------
set_property -dict {PACKAGE_PIN E3 IOSTANDARD LVCMOS33} [get_ports clk_i]
create_clock -period 10.000 -name core_clk [get_ports clk_i]
set_property -dict {PACKAGE_PIN E15 IOSTANDARD LVCMOS33} [get_ports ft_clk_i]
create_clock -period 16.667 -name ft_clk [get_ports ft_clk_i]

## ---- reset (RESET button, active low), loopback switch (SW0) --------------------------
set_property -dict {PACKAGE_PIN C2 IOSTANDARD LVCMOS33} [get_ports rst_ni]
set_property -dict {PACKAGE_PIN A8 IOSTANDARD LVCMOS33} [get_ports loopback_i]

## ---- FT232H ---------------------------------------------------------------------------
set_property -dict {PACKAGE_PIN G13 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[0]}]
set_property -dict {PACKAGE_PIN B11 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[1]}]
set_property -dict {PACKAGE_PIN A11 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[2]}]
set_property -dict {PACKAGE_PIN D12 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[3]}]
set_property -dict {PACKAGE_PIN D13 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[4]}]
set_property -dict {PACKAGE_PIN B18 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[5]}]
set_property -dict {PACKAGE_PIN A18 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[6]}]
set_property -dict {PACKAGE_PIN K16 IOSTANDARD LVCMOS33} [get_ports {ft_data_io[7]}]
set_property -dict {PACKAGE_PIN E16 IOSTANDARD LVCMOS33 PULLUP TRUE} [get_ports ft_rxf_ni]
set_property -dict {PACKAGE_PIN D15 IOSTANDARD LVCMOS33 PULLUP TRUE} [get_ports ft_txe_ni]
set_property -dict {PACKAGE_PIN C15 IOSTANDARD LVCMOS33} [get_ports ft_rd_no]
set_property -dict {PACKAGE_PIN J17 IOSTANDARD LVCMOS33} [get_ports ft_wr_no]
set_property -dict {PACKAGE_PIN J18 IOSTANDARD LVCMOS33} [get_ports ft_siwu_no]
set_property -dict {PACKAGE_PIN K15 IOSTANDARD LVCMOS33} [get_ports ft_oe_no]

set_input_delay -clock ft_clk -max 7.150 [get_ports {ft_data_io[*] ft_rxf_ni ft_txe_ni}]
set_input_delay -clock ft_clk -min 1.000 [get_ports {ft_data_io[*] ft_rxf_ni ft_txe_ni}]
set_output_delay -clock ft_clk -max 7.500 [get_ports {ft_data_io[*] ft_rd_no ft_wr_no ft_oe_no ft_siwu_no}]
set_output_delay -clock ft_clk -min 0.000 [get_ports {ft_data_io[*] ft_rd_no ft_wr_no ft_oe_no ft_siwu_no}]
set_property IOB TRUE [get_ports {ft_data_io[*] ft_rd_no ft_wr_no ft_oe_no ft_siwu_no}]

## ---- LEDs: LD4-LD7 green, then one colour of each RGB LED -----------------------------
## 0 heartbeat, 1 busy, 2 done, 3 error, 4 link error (LD0 red), 5 rx (LD1 green),
## 6 tx (LD2 green), 7 loopback (LD3 blue)
set_property -dict {PACKAGE_PIN H5  IOSTANDARD LVCMOS33} [get_ports {led_o[0]}]
set_property -dict {PACKAGE_PIN J5  IOSTANDARD LVCMOS33} [get_ports {led_o[1]}]
set_property -dict {PACKAGE_PIN T9  IOSTANDARD LVCMOS33} [get_ports {led_o[2]}]
set_property -dict {PACKAGE_PIN T10 IOSTANDARD LVCMOS33} [get_ports {led_o[3]}]
set_property -dict {PACKAGE_PIN G6  IOSTANDARD LVCMOS33} [get_ports {led_o[4]}]
set_property -dict {PACKAGE_PIN J4  IOSTANDARD LVCMOS33} [get_ports {led_o[5]}]
set_property -dict {PACKAGE_PIN J2  IOSTANDARD LVCMOS33} [get_ports {led_o[6]}]
set_property -dict {PACKAGE_PIN K2  IOSTANDARD LVCMOS33} [get_ports {led_o[7]}]

## ---- clock-domain crossings (see nexys_video.xdc) ------------------------------------
set_max_delay -datapath_only -from [get_clocks ft_clk] -to [get_clocks core_clk] 10.000
set_max_delay -datapath_only -from [get_clocks core_clk] -to [get_clocks ft_clk] 10.000
set_false_path -from [get_ports {rst_ni loopback_i}]
set_false_path -to [get_ports {led_o[*]}]

set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 3.3 [current_design]
