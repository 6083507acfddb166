#!/usr/bin/python3
"""Synthesis figures of mxu with Debian's yosys: FPGA resources and generic area.

    fpga_synth.py all                  every target of `make synth`, then the table
    fpga_synth.py run NAME             one target of `make synth` (see TARGETS)
    fpga_synth.py area ROWS COLS [UB_LINES [ACC_ROWS [WB_LINES [PARAM_LINES]]]] [--no-xilinx]
                                       mxu_top in that configuration: prints one JSON
                                       line (generic cells + 7-series LUT/FF/DSP/BRAM)
    fpga_synth.py table                rewrite the table in docs/fpga.md

Every run writes build/synth/NAME.json (counts, seconds, the yosys command) and
NAME.log, and is reused while the sources, parameters and yosys are unchanged.
Runs are hierarchical (each distinct module synthesized once): no optimization
across module boundaries, so counts are a slight upper bound.

Flows:
  xc7      synth_xilinx -family xc7 (Artix-7 / 7-series): LUT, FF, DSP48E1, RAMB36E1
           (RAMB18E1 counts half), LUT RAM. FPGA sources: rtl/*.v with
           rtl/fpga/mem/mxu_ram.v for rtl/mxu_ram.v, plus rtl/fpga/*.v.
  ice40    synth_ice40 -dsp -spram (UltraPlus): SB_LUT4, DFFs, SB_CARRY, SB_RAM40_4K,
           SB_SPRAM256KA, SB_MAC16; LC estimate = max(LUT4, DFF).
  generic  yosys `synth` without memory_map: gate-level cells with every memory
           kept whole (an SRAM macro in a chip), plus the memories' bits, so the
           area model can price logic and SRAM separately. rtl/*.v as simulated.
"""
import fcntl
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, os.environ.get("MXU_BUILD", "build"), "synth")
DOC = os.path.join(ROOT, "docs", "fpga.md")
YOSYS = os.environ.get("YOSYS", "yosys")

# mxu_top's defaults (isa/mxu.isa); a configuration name lists what differs.
DEFAULTS = {"UB_LINES": 16384, "ACC_ROWS": 1024, "WB_LINES": 4096, "PARAM_LINES": 64}
SHORT = {"UB_LINES": "ub", "ACC_ROWS": "acc", "WB_LINES": "wb", "PARAM_LINES": "par"}

ICE40_SMALL = {"ROWS": 4, "COLS": 4, "UB_LINES": 256, "ACC_ROWS": 64, "WB_LINES": 64,
               "PARAM_LINES": 16, "DRAM_BYTES": 16384, "CLK_HZ": 12000000,
               "LED_INVERT": 0b01100000}


def config_name(p):
    name = "%dx%d" % (p["ROWS"], p["COLS"])
    for k in ("UB_LINES", "ACC_ROWS", "WB_LINES", "PARAM_LINES"):
        if k in p and p[k] != DEFAULTS[k]:
            name += "-%s%d" % (SHORT[k], p[k])
    return name


def core_target(kind, params):
    return {"name": "%s-mxu-%s" % (kind, config_name(params)), "kind": kind, "top": "mxu_top",
            "params": params, "what": "mxu_top %s%s" % (config_name(params), "" if "-" in config_name(params) else ", default buffers")}


TARGETS = [   # in the order `all` runs them
    {"name": "ice40-ft232h-4x4", "kind": "ice40", "top": "mxu_fpga_ft232h", "params": ICE40_SMALL,
     "what": "FT232H generic top, 4x4, UB 256 lines, 16 KiB device memory (iCE40 UP5K)"},
    core_target("xc7", {"ROWS": 8, "COLS": 8}),
    core_target("xc7", {"ROWS": 16, "COLS": 16}),
    {"name": "xc7-nexys-video", "kind": "xc7", "top": "mxu_fpga_nexys_video", "params": {},
     "what": "Nexys Video board top (16x16, UB 64 KiB, 512 KiB BRAM device memory, link, PHY)"},
    core_target("generic", {"ROWS": 8, "COLS": 8}),
    core_target("generic", {"ROWS": 16, "COLS": 16}),
]


# ---- sources ---------------------------------------------------------------------
def rtl(pattern_dir):
    d = os.path.join(ROOT, pattern_dir)
    return sorted(os.path.join(pattern_dir, f) for f in os.listdir(d) if f.endswith(".v"))


def sources(kind):
    core = rtl("rtl")
    if kind == "generic":
        return core
    return [f for f in core if f != "rtl/mxu_ram.v"] + ["rtl/fpga/mem/mxu_ram.v"] + rtl("rtl/fpga")


def isa_header():
    path = os.path.join(ROOT, os.environ.get("MXU_BUILD", "build"), "gen", "mxu_isa.vh")
    if not os.path.exists(path):
        sys.exit("fpga_synth: %s missing (run `make isa`)" % path)
    return path


def yosys_version():
    out = subprocess.run([YOSYS, "-V"], capture_output=True, text=True, check=True).stdout
    return out.strip()


def run_key(t, srcs):
    h = hashlib.sha256()
    h.update(json.dumps([t["kind"], t["top"], sorted(t["params"].items()), yosys_version(),
                         FLOW_VERSION]).encode())
    for f in srcs + [os.path.relpath(isa_header(), ROOT)]:
        with open(os.path.join(ROOT, f), "rb") as fh:
            h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()[:16]


FLOW_VERSION = 1


# ---- yosys scripts -----------------------------------------------------------------
def script(t, srcs, stat_json, mem_json):
    gen = os.path.dirname(isa_header())
    lines = ["read_verilog -I%s -Irtl %s" % (gen, " ".join(srcs))]
    for k, v in sorted(t["params"].items()):
        lines.append("chparam -set %s %d %s" % (k, v, t["top"]))
    lines.append("hierarchy -top %s" % t["top"])
    top = t["top"]
    if t["kind"] == "xc7":
        iopad = "" if top.startswith("mxu_fpga_") else " -noiopad"
        lines.append("synth_xilinx -family xc7 -top %s%s" % (top, iopad))
    elif t["kind"] == "ice40":
        lines.append("synth_ice40 -dsp -spram -noflatten -top %s" % top)
    else:
        # yosys `synth`, minus memory_map: memories stay whole ($mem_v2 cells)
        lines += ["proc", "tee -q -o %s stat" % mem_json,
                  "synth -top %s -run coarse:fine" % top,
                  "opt -fast -full", "techmap", "opt -fast", "abc -fast", "opt -fast"]
    # text, not -json: yosys 0.23 mixes the hierarchy listing into stat's JSON
    lines.append("tee -q -o %s stat%s" % (stat_json, " -tech cmos" if t["kind"] == "generic" else ""))
    return lines


def parse_stat(text):
    """Cell counts, memory bits and transistor estimate of the whole design: the
    `design hierarchy` section when there is one, else the last module's."""
    at = text.rfind("=== design hierarchy ===")
    sect = text[at:] if at >= 0 else text[text.rfind("=== "):]
    cells, mem_bits, transistors, in_cells = {}, 0, None, False
    for line in sect.splitlines():
        m = re.match(r"\s+Number of memory bits:\s+(\d+)", line)
        if m:
            mem_bits = int(m.group(1))
        m = re.match(r"\s+Estimated number of transistors:\s+(\d+)", line)
        if m:
            transistors = int(m.group(1))
        if re.match(r"\s+Number of cells:", line):
            in_cells = True
            continue
        m = re.match(r"\s+(\S+)\s+(\d+)$", line)
        if in_cells and m:
            cells[m.group(1)] = int(m.group(2))
        elif in_cells:
            in_cells = False
    return {"cells": cells, "mem_bits": mem_bits, "transistors": transistors}


# ---- counting ------------------------------------------------------------------------
LUTRAM_LUTS = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4,
               "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "RAM32M16": 8,
               "RAM64M8": 8, "SRL16E": 1, "SRLC32E": 1}


def count_xc7(cells):
    c = {"lut": 0, "lut_mem": 0, "ff": 0, "dsp": 0, "bram36": 0.0, "carry4": 0, "inv": 0}
    for name, n in cells.items():
        if re.fullmatch(r"LUT[1-6]", name):
            c["lut"] += n
        elif name in LUTRAM_LUTS:
            c["lut_mem"] += n * LUTRAM_LUTS[name]
        elif re.fullmatch(r"FD[CPRS]E", name):
            c["ff"] += n
        elif name.startswith("DSP48"):
            c["dsp"] += n
        elif name == "RAMB36E1":
            c["bram36"] += n
        elif name == "RAMB18E1":
            c["bram36"] += n / 2
        elif name == "CARRY4":
            c["carry4"] += n
        elif name == "INV":
            c["inv"] += n
    return c


def count_ice40(cells):
    c = {"lut4": cells.get("SB_LUT4", 0), "carry": cells.get("SB_CARRY", 0),
         "ram40": cells.get("SB_RAM40_4K", 0), "spram": cells.get("SB_SPRAM256KA", 0),
         "mac16": cells.get("SB_MAC16", 0)}
    c["dff"] = sum(n for k, n in cells.items() if k.startswith("SB_DFF"))
    c["lc"] = max(c["lut4"], c["dff"])
    return c


def count_generic(stat, mem_stat):
    cells = stat["cells"]
    return {"cells": sum(cells.values()),
            "ff": sum(n for k, n in cells.items() if re.match(r"\$_(S?DFF|DFFE|SDFFE|SDFFCE|ALDFF|DFFSR|DLATCH)", k)),
            "mem_cells": sum(n for k, n in cells.items() if k.startswith("$mem")),
            "mem_bits": mem_stat["mem_bits"], "transistors": stat["transistors"]}


def cached(out, key):
    try:
        with open(out) as fh:
            old = json.load(fh)
    except (OSError, ValueError):
        return None
    return old if old.get("key") == key else None


def run(t, force=False):
    """Synthesize t unless build/synth/NAME.json already holds this key. A lock
    per target lets several callers (make synth, parallel sweeps) share runs."""
    srcs = sources(t["kind"])
    os.makedirs(OUT, exist_ok=True)
    out = os.path.join(OUT, t["name"] + ".json")
    key = run_key(t, srcs)
    if not force and cached(out, key):
        return cached(out, key)
    with open(os.path.join(OUT, t["name"] + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and cached(out, key):
            return cached(out, key)
        return synthesize(t, srcs, out, key)


def synthesize(t, srcs, out, key):
    stat_json = os.path.join(OUT, t["name"] + ".stat")
    mem_json = os.path.join(OUT, t["name"] + ".mem.stat")
    ys = os.path.join(OUT, t["name"] + ".ys")
    log = os.path.join(OUT, t["name"] + ".log")
    with open(ys, "w") as fh:
        fh.write("\n".join(script(t, srcs, stat_json, mem_json)) + "\n")
    cmd = [YOSYS, "-q", "-l", log, "-s", ys]
    print("synth: %s (%s) ..." % (t["name"], t["what"]), file=sys.stderr, flush=True)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    res = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - t0
    if res.returncode != 0:
        sys.exit("synth: %s failed after %.0f s (see %s):\n%s" % (t["name"], seconds, log, res.stderr[-2000:]))
    with open(stat_json) as fh:
        stat = parse_stat(fh.read())
    if t["kind"] == "xc7":
        counts = count_xc7(stat["cells"])
    elif t["kind"] == "ice40":
        counts = count_ice40(stat["cells"])
    else:
        with open(mem_json) as fh:
            counts = count_generic(stat, parse_stat(fh.read()))
    result = {"name": t["name"], "kind": t["kind"], "top": t["top"], "what": t["what"],
              "params": t["params"], "counts": counts, "seconds": round(seconds, 1),
              "yosys": yosys_version(), "command": " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c
                                                         for c in cmd),
              "script": os.path.relpath(ys, ROOT), "nproc": os.cpu_count(),
              "load": round((load0 + os.getloadavg()[0]) / 2, 1), "key": key}
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1)
    print("synth: %s done in %.0f s: %s" % (t["name"], seconds, json.dumps(counts)), file=sys.stderr, flush=True)
    return result


# ---- area of one configuration (issue 7's area model) ------------------------------
def area(argv):
    xilinx = "--no-xilinx" not in argv
    nums = [a for a in argv if not a.startswith("--")]
    if len(nums) < 2 or len(nums) > 6 or not all(n.isdigit() for n in nums):
        sys.exit("usage: synth_area.sh ROWS COLS [UB_LINES [ACC_ROWS [WB_LINES [PARAM_LINES]]]] [--no-xilinx]")
    keys = ["ROWS", "COLS", "UB_LINES", "ACC_ROWS", "WB_LINES", "PARAM_LINES"]
    params = {k: int(v) for k, v in zip(keys, nums)}
    for k in keys[2:]:
        params.setdefault(k, DEFAULTS[k])
    # only what differs from the defaults goes to chparam (and the name)
    p = {k: v for k, v in params.items() if k in ("ROWS", "COLS") or v != DEFAULTS[k]}
    g = run(core_target("generic", p))
    line = {"config": config_name(params), "rows": params["ROWS"], "cols": params["COLS"],
            "ub_lines": params["UB_LINES"], "acc_rows": params["ACC_ROWS"],
            "wb_lines": params["WB_LINES"], "param_lines": params["PARAM_LINES"],
            "cells": g["counts"]["cells"], "ff_generic": g["counts"]["ff"],
            "mem_bits": g["counts"]["mem_bits"], "transistors": g["counts"]["transistors"],
            "lut": None, "ff": None, "dsp": None, "bram": None, "lutram": None,
            "seconds": g["seconds"]}
    if xilinx:
        x = run(core_target("xc7", p))
        c = x["counts"]
        line.update({"lut": c["lut"], "ff": c["ff"], "dsp": c["dsp"], "bram": int(math.ceil(c["bram36"])),
                     "lutram": c["lut_mem"], "seconds": round(g["seconds"] + x["seconds"], 1)})
    print(json.dumps(line))


# ---- docs/fpga.md table ---------------------------------------------------------------
BEGIN, END = "<!-- synth-table:begin -->", "<!-- synth-table:end -->"


def fmt_time(r):
    s = r["seconds"]
    t = "%d min %02d s" % (s // 60, s % 60) if s >= 60 else "%.0f s" % s
    return t + (" (load %.1f)" % r["load"] if r.get("load") is not None else "")


def table():
    rows = []
    for t in TARGETS:
        path = os.path.join(OUT, t["name"] + ".json")
        if os.path.exists(path):
            with open(path) as fh:
                rows.append(json.load(fh))
    if not rows:
        sys.exit("synth: no results in %s (run `make synth`)" % OUT)
    out = ["Generated by `scripts/fpga_synth.py table` from build/synth/*.json (`make synth`). Each",
           "run is `yosys -q -l build/synth/NAME.log -s build/synth/NAME.ys` (the script is kept);",
           "%s, %d cores. Times are wall clock on a shared machine; \"load\" is the" % (rows[0]["yosys"], rows[0]["nproc"]),
           "1-minute load average around the run (2 = both cores busy), so an idle machine is faster.", ""]
    xc7 = [r for r in rows if r["kind"] == "xc7"]
    if xc7:
        out += ["**7-series (`synth_xilinx -family xc7`)** — XC7A200T has 133,800 LUTs, 267,600 FFs,",
                "740 DSP48E1, 365 RAMB36E1.", "",
                "| design | LUT | LUT as RAM/SRL | FF | DSP48E1 | RAMB36 | CARRY4 | time |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in xc7:
            c = r["counts"]
            out.append("| %s | %s | %s | %s | %s | %g | %s | %s |" % (
                r["what"], f"{c['lut']:,}", f"{c['lut_mem']:,}", f"{c['ff']:,}", c["dsp"],
                c["bram36"], f"{c['carry4']:,}", fmt_time(r)))
        out.append("")
    ice = [r for r in rows if r["kind"] == "ice40"]
    if ice:
        out += ["**iCE40 (`synth_ice40 -dsp -spram`)** — UP5K: 5,280 LCs, 30 SB_RAM40_4K, 4 SPRAM, 8 DSP;",
                "HX8K: 7,680 LCs, 32 SB_RAM40_4K.", "",
                "| design | LC (est.) | SB_LUT4 | DFF | SB_CARRY | SB_RAM40_4K | SPRAM | SB_MAC16 | time |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in ice:
            c = r["counts"]
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["what"], f"{c['lc']:,}", f"{c['lut4']:,}", f"{c['dff']:,}", f"{c['carry']:,}",
                c["ram40"], c["spram"], c["mac16"], fmt_time(r)))
        out.append("")
    gen = [r for r in rows if r["kind"] == "generic"]
    if gen:
        out += ["**Generic (`synth`, memories kept whole)** — the area model's input (`scripts/synth_area.sh`).", "",
                "| design | cells | of which FF | memories | memory bits | transistors (logic, `stat -tech cmos`) | time |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for r in gen:
            c = r["counts"]
            tr = f"{c['transistors']:,}" if c["transistors"] is not None else "-"
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["what"], f"{c['cells']:,}", f"{c['ff']:,}", c["mem_cells"], f"{c['mem_bits']:,}",
                tr, fmt_time(r)))
        out.append("")
    with open(DOC) as fh:
        doc = fh.read()
    if BEGIN not in doc or END not in doc:
        sys.exit("synth: %s has no %s ... %s markers" % (DOC, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as fh:
        fh.write(head + BEGIN + "\n" + "\n".join(out) + "\n" + END + tail)
    print("synth: table written to docs/fpga.md", file=sys.stderr)


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd = argv[0]
    if cmd == "all":
        for t in TARGETS:
            run(t)
        table()
    elif cmd == "run" and len(argv) == 2:
        match = [t for t in TARGETS if t["name"] == argv[1]]
        if not match:
            sys.exit("synth: no target %s (%s)" % (argv[1], ", ".join(t["name"] for t in TARGETS)))
        print(json.dumps(run(match[0])["counts"]))
    elif cmd == "area":
        area(argv[1:])
    elif cmd == "table":
        table()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
