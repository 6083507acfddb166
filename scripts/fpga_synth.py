#!/usr/bin/python3
"""Synthesis figures of mxu with Debian's yosys: FPGA resources and generic area.

    fpga_synth.py all                  every target of `make synth`, then the table
    fpga_synth.py run NAME             one target of `make synth` (see TARGETS)
    fpga_synth.py area ROWS COLS [UB_LINES [ACC_ROWS [WB_LINES [PARAM_LINES]]]] [--no-xilinx]
                                       mxu_top in that configuration: prints one JSON
                                       line (generic cells + 7-series LUT/FF/DSP/BRAM)
    fpga_synth.py table                rewrite the tables in docs/fpga.md
    fpga_synth.py breakdown NAME...    cells per module of generic / ice40 runs (markdown)

Every run writes build/synth/NAME.json (counts, seconds, the yosys command) and
NAME.log, and is reused while the sources, parameters and yosys are unchanged.
Yosys reads a snapshot of the sources (build/synth/NAME.src/) taken with the
cache key, so files edited during a run cannot mislabel its result.
Generic and iCE40 runs are hierarchical (each distinct module synthesized once,
which also gives the per-module breakdown): no optimization across module
boundaries, so counts are a slight upper bound.

Flows:
  xc7      synth_xilinx -family xc7 (Artix-7 / 7-series): LUT, FF, DSP48E1, RAMB36E1
           (RAMB18E1 counts half), LUT RAM. FPGA sources: rtl/*.v with
           rtl/fpga/mem/mxu_ram.v for rtl/mxu_ram.v, plus rtl/fpga/*.v.
  ice40    synth_ice40 -dsp -spram (UltraPlus): SB_LUT4, DFFs, SB_CARRY, SB_RAM40_4K,
           SB_SPRAM256KA, SB_MAC16; LC estimate = max(LUT4, DFF).
  generic  yosys `synth` without memory_map: gate-level cells with every memory
           kept whole (an SRAM macro in a chip), plus the memories' bits, so the
           area model can price logic and SRAM separately. rtl/*.v as simulated
           (read_verilog defines SYNTHESIS, which skips rtl/mxu_ram.v's power-on
           zeroing loop: unrolled, it cost yosys minutes per memory).
           Transistors: yosys' CMOS cost of each gate (`stat -tech cmos`), and
           every flip-flop priced too (yosys' table has only the plain $_DFF_P_/
           N_, 16): 16, +4 with an asynchronous reset or set, +6 with a
           synchronous one, +12 with an enable (a mux), latches 8.
"""
import fcntl
import hashlib
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# MXU_SYNTH_DIR: results elsewhere (the tests' fake yosys); default build/synth
OUT = os.environ.get("MXU_SYNTH_DIR") or os.path.join(ROOT, os.environ.get("MXU_BUILD", "build"), "synth")
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


def read_sources(srcs):
    """{path relative to ROOT: bytes} of the sources and the ISA header, read once:
    the key and the snapshot yosys reads come from the same bytes."""
    files = {}
    for f in srcs:
        with open(os.path.join(ROOT, f), "rb") as fh:
            files[f] = fh.read()
    with open(isa_header(), "rb") as fh:
        files["gen/mxu_isa.vh"] = fh.read()
    return files


def run_key(t, files):
    h = hashlib.sha256()
    h.update(json.dumps([t["kind"], t["top"], sorted(t["params"].items()), yosys_version(),
                         FLOW_VERSION[t["kind"]]]).encode())
    for f in sorted(files):
        h.update(f.encode() + b"\0" + files[f])
    return h.hexdigest()[:16]


def snapshot(name, files):
    """Write the sources into build/synth/NAME.src/ (same relative paths)."""
    d = os.path.join(OUT, name + ".src")
    shutil.rmtree(d, ignore_errors=True)
    for f, data in files.items():
        path = os.path.join(d, f)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return d


# Bumped when a flow's script or counting changes (invalidates that kind's cache).
FLOW_VERSION = {"xc7": 1, "ice40": 1, "generic": 2}


# ---- yosys scripts -----------------------------------------------------------------
def script(t, srcs, src_dir, stat_json, mem_json):
    rel = os.path.relpath(src_dir, ROOT)
    lines = ["read_verilog -I%s/gen -I%s/rtl %s" % (rel, rel, " ".join(os.path.join(rel, f) for f in srcs))]
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


def parse_sections(text):
    """{section name: {"cells": {type: n}, "mem_bits": n, "transistors": n or None}} of a
    `stat` listing; the design total is under "design hierarchy" when there is one."""
    out = {}
    for m in re.finditer(r"^=== (.+?) ===$", text, re.M):
        end = text.find("\n=== ", m.end())
        body = text[m.end():end if end >= 0 else len(text)]
        cells, mem_bits, transistors, in_cells = {}, 0, None, False
        for line in body.splitlines():
            k = re.match(r"\s+Number of memory bits:\s+(\d+)", line)
            if k:
                mem_bits = int(k.group(1))
            k = re.match(r"\s+Estimated number of transistors:\s+(\d+)", line)
            if k:
                transistors = int(k.group(1))
            if re.match(r"\s+Number of cells:", line):
                in_cells = True
                continue
            k = re.match(r"\s+(\S+)\s+(\d+)$", line)
            if in_cells and k:
                cells[k.group(1)] = int(k.group(2))
            elif in_cells:
                in_cells = False
        out[m.group(1)] = {"cells": cells, "mem_bits": mem_bits, "transistors": transistors}
    return out


def parse_stat(text):
    """Cell counts, memory bits and yosys' transistor estimate of the whole design:
    the `design hierarchy` section when there is one, else the last module's."""
    sections = parse_sections(text)
    if "design hierarchy" in sections:
        return sections["design hierarchy"]
    return list(sections.values())[-1] if sections else {"cells": {}, "mem_bits": 0, "transistors": None}


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


# Static CMOS transistors per gate: yosys' `stat -tech cmos` table (kernel/cost.h).
GATE_TRANSISTORS = {"$_BUF_": 1, "$_NOT_": 2, "$_NAND_": 4, "$_NOR_": 4, "$_AND_": 6, "$_OR_": 6,
                    "$_ANDNOT_": 6, "$_ORNOT_": 6, "$_XOR_": 12, "$_XNOR_": 12, "$_MUX_": 12,
                    "$_NMUX_": 10, "$_AOI3_": 6, "$_OAI3_": 6, "$_AOI4_": 8, "$_OAI4_": 8}
FF_RE = re.compile(r"\$_(DFF|DFFE|SDFF|SDFFE|SDFFCE|DFFSR|DFFSRE|ALDFF|ALDFFE|DLATCH|DLATCHSR)_([PN01]+)_")


def cell_transistors(name):
    """Transistors of one fine-grained cell, None when it has no price. Yosys prices
    only $_DFF_P_/$_DFF_N_ (16); the other flip-flops get that plus their extras."""
    if name in GATE_TRANSISTORS:
        return GATE_TRANSISTORS[name]
    m = FF_RE.fullmatch(name)
    if not m:
        return None
    kind, pol = m.groups()
    t = 8 if kind.startswith("DLATCH") else 16
    if kind.startswith("SDFF"):
        t += 6                                  # synchronous reset: a gate in front of D
    elif kind.endswith("SR") or kind.endswith("SRE"):
        t += 8                                  # asynchronous set and reset
    elif kind.startswith("ALDFF"):
        t += 8                                  # asynchronous load
    elif len(pol) - (1 if kind.endswith("E") else 0) >= 3:
        t += 4                                  # asynchronous reset or set (PN0, PP1, ...)
    if kind.endswith("E"):
        t += 12                                 # enable: a mux in front of D
    return t


def transistors(cells):
    """(transistor estimate of the logic, cell types without a price); memories
    ($mem*) are priced by their bits elsewhere, submodule instances skipped."""
    total, unpriced = 0, []
    for name, n in cells.items():
        t = cell_transistors(name)
        if t is not None:
            total += t * n
        elif not name.startswith("$mem") and name.startswith("$"):
            unpriced.append(name)
    return total, sorted(unpriced)


def is_ff(name):
    return FF_RE.fullmatch(name) is not None or name.startswith("SB_DFF") or re.fullmatch(r"FD[CPRS]E", name)


def count_generic(stat, mem_stat):
    cells = stat["cells"]
    tr, unpriced = transistors(cells)
    c = {"cells": sum(cells.values()),
         "ff": sum(n for k, n in cells.items() if is_ff(k)),
         "mem_cells": sum(n for k, n in cells.items() if k.startswith("$mem")),
         "mem_bits": mem_stat["mem_bits"], "transistors": tr,
         "transistors_yosys": stat["transistors"]}
    if unpriced:
        c["unpriced_cells"] = unpriced
    return c


# ---- per-module breakdown ----------------------------------------------------------
def module_name(section):
    """mxu_fifo for $paramod$<hash>\\mxu_fifo, mxu_pe for \\mxu_pe or mxu_pe."""
    return section.rsplit("\\", 1)[-1]


def breakdown(stat_text, mem_text=None):
    """[(module, instances, own counts)] of a hierarchical run, every parameterization
    of a module together, largest first. Own counts exclude submodules: cells, ff,
    transistors (generic) or lut4/dff/mac16/ram40 (iCE40), mem_bits."""
    sections = parse_sections(stat_text)
    sections.pop("design hierarchy", None)
    mem = parse_sections(mem_text) if mem_text else {}
    children = {m: {c: n for c, n in s["cells"].items() if c in sections} for m, s in sections.items()}
    tops = [m for m in sections if not any(m in ch for ch in children.values())]
    mult = {}

    def visit(m, n):
        mult[m] = mult.get(m, 0) + n
        for c, k in children[m].items():
            visit(c, n * k)
    for t in tops:
        visit(t, 1)
    rows = {}
    for m, sec in sections.items():
        own = {c: n for c, n in sec["cells"].items() if c not in sections}
        n = mult.get(m, 0)
        r = rows.setdefault(module_name(m), {"instances": 0, "cells": 0, "ff": 0, "transistors": 0,
                                             "lut4": 0, "mac16": 0, "ram40": 0, "mem_bits": 0})
        r["instances"] += n
        r["cells"] += n * sum(own.values())
        r["ff"] += n * sum(k for c, k in own.items() if is_ff(c))
        r["transistors"] += n * transistors(own)[0]
        r["lut4"] += n * own.get("SB_LUT4", 0)
        r["mac16"] += n * own.get("SB_MAC16", 0)
        r["ram40"] += n * own.get("SB_RAM40_4K", 0)
        r["mem_bits"] += n * mem.get(m, {}).get("mem_bits", 0)
    return sorted(rows.items(), key=lambda kv: -kv[1]["cells"])


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
    files = read_sources(srcs)
    key = run_key(t, files)
    if not force and cached(out, key):
        return cached(out, key)
    with open(os.path.join(OUT, t["name"] + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and cached(out, key):
            return cached(out, key)
        return synthesize(t, srcs, snapshot(t["name"], files), out, key)


def synthesize(t, srcs, src_dir, out, key):
    stat_json = os.path.join(OUT, t["name"] + ".stat")
    mem_json = os.path.join(OUT, t["name"] + ".mem.stat")
    ys = os.path.join(OUT, t["name"] + ".ys")
    log = os.path.join(OUT, t["name"] + ".log")
    with open(ys, "w") as fh:
        fh.write("\n".join(script(t, srcs, src_dir, stat_json, mem_json)) + "\n")
    cmd = [YOSYS, "-q", "-l", log, "-s", ys]
    print("synth: %s (%s) ..." % (t["name"], t["what"]), file=sys.stderr, flush=True)
    load0 = os.getloadavg()[0]
    t0, ru0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
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
              "cpu_seconds": round(cpu, 1),
              "yosys": yosys_version(), "command": " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c
                                                         for c in cmd),
              "script": os.path.relpath(ys, ROOT), "nproc": os.cpu_count(),
              "load": round((load0 + os.getloadavg()[0]) / 2, 1), "key": key}
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1)
    print("synth: %s done in %.0f s (%.0f s CPU): %s" % (t["name"], seconds, cpu, json.dumps(counts)),
          file=sys.stderr, flush=True)
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
    if r.get("cpu_seconds") is not None:
        t += ", %.0f s CPU" % r["cpu_seconds"]
    return t + (" (load %.1f)" % r["load"] if r.get("load") is not None else "")


def current(t, r):
    """r's design, with a mark when the sources changed since it was synthesized."""
    key = run_key(t, read_sources(sources(t["kind"])))
    return r["what"] + ("" if r.get("key") == key else " *(older sources)*")


def read_text(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def breakdown_table(results, kind):
    """Markdown: one row per module, a column group per run (hierarchical runs)."""
    data = []
    for r in results:
        stat = read_text(os.path.join(OUT, r["name"] + ".stat"))
        if stat is None:
            return []
        data.append((r, dict(breakdown(stat, read_text(os.path.join(OUT, r["name"] + ".mem.stat"))))))
    last = data[-1][1]
    modules = None  # sorted below, once the columns are known
    if kind == "generic":
        head = "| module |" + "".join(" %s: inst. | cells | share | FF | transistors | memory bits |" %
                                      config_name(r["params"]) for r, _ in data)
        cols = ("instances", "cells", "share", "ff", "transistors", "mem_bits")
    else:
        head = "| module |" + "".join(" inst. | SB_LUT4 | share | DFF | SB_MAC16 | SB_RAM40_4K |" for _ in data)
        cols = ("instances", "lut4", "share", "ff", "mac16", "ram40")
    modules = sorted({m for _, b in data for m in b}, key=lambda m: -last.get(m, {cols[1]: 0})[cols[1]])
    out = [head, "|---|" + "---:|" * (len(cols) * len(data))]
    totals = [sum(v[cols[1]] for v in b.values()) for _, b in data]
    for m in modules:
        line = "| %s |" % m
        for (_, b), total in zip(data, totals):
            v = b.get(m)
            for c in cols:
                if v is None:
                    line += " - |"
                elif c == "share":
                    line += " %.1f%% |" % (100.0 * v[cols[1]] / total if total else 0)
                else:
                    line += " %s |" % f"{v[c]:,}"
        out.append(line)
    return out


def table():
    rows = []
    for t in TARGETS:
        path = os.path.join(OUT, t["name"] + ".json")
        if os.path.exists(path):
            with open(path) as fh:
                r = json.load(fh)
            r["what"] = current(t, r)
            rows.append(r)
    if not rows:
        sys.exit("synth: no results in %s (run `make synth`)" % OUT)
    out = ["Generated by `scripts/fpga_synth.py table` from build/synth/*.json (`make synth`). Each",
           "run is `yosys -q -l build/synth/NAME.log -s build/synth/NAME.ys` (the script is kept);",
           "%s, %d cores. Times are wall clock and CPU on a shared machine; \"load\" is the" % (rows[0]["yosys"], rows[0]["nproc"]),
           "1-minute load average around the run (2 = both cores busy), so an idle machine is faster.",
           "*(older sources)* marks a figure synthesized before the last change of its sources.", ""]
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
        out += ["**Generic (`synth`, memories kept whole)** — the area model's input (`scripts/synth_area.sh`).",
                "Transistors: the logic only (yosys' CMOS gate costs, every flip-flop priced, see",
                "`scripts/fpga_synth.py`); the memories are their bits.", "",
                "| design | cells | of which FF | memories | memory bits | transistors (logic) | time |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for r in gen:
            c = r["counts"]
            tr = f"{c['transistors']:,}" if c["transistors"] is not None else "-"
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["what"], f"{c['cells']:,}", f"{c['ff']:,}", c["mem_cells"], f"{c['mem_bits']:,}",
                tr, fmt_time(r)))
        out.append("")
        bd = breakdown_table(gen, "generic")
        if bd:
            out += ["Where the generic cells go (each module's own cells, all its instances and",
                    "parameterizations together; `scripts/fpga_synth.py breakdown NAME`):", ""] + bd + [""]
    if ice:
        bd = breakdown_table(ice, "ice40")
        if bd:
            out += ["Where the iCE40 LUTs go (%s):" % ice[0]["name"], ""] + bd + [""]
    with open(DOC) as fh:
        doc = fh.read()
    if BEGIN not in doc or END not in doc:
        sys.exit("synth: %s has no %s ... %s markers" % (DOC, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as fh:
        fh.write(head + BEGIN + "\n" + "\n".join(out) + "\n" + END + tail)
    print("synth: tables written to docs/fpga.md", file=sys.stderr)


def print_breakdown(names):
    results = []
    for n in names:
        path = os.path.join(OUT, n + ".json")
        if not os.path.exists(path):
            sys.exit("synth: no %s (run it first)" % path)
        with open(path) as fh:
            results.append(json.load(fh))
    kinds = {r["kind"] for r in results}
    if len(kinds) != 1 or "xc7" in kinds:
        sys.exit("synth: breakdown takes generic or ice40 runs of one kind (xc7 runs are flattened)")
    print("\n".join(breakdown_table(results, kinds.pop())))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd = argv[0]
    if cmd == "all":
        # generic first: the area model and sweeps wait for them; the table keeps TARGETS' order
        for t in sorted(TARGETS, key=lambda t: t["kind"] != "generic"):
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
    elif cmd == "breakdown" and len(argv) >= 2:
        print_breakdown(argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
