#!/usr/bin/env python3
"""The GPU check's benchmark table: one row per JSON line of ROWS (written by
run.sh's bench phase: dlc-rt bench --json or bench/peer_torch.py, each with
"model", "system", "precision" and "mode" added), the ratio of each row's
samples/s to dlc's at the same model, mode and precision (dlc's fp32 where
it has no row of that precision),
the peak device memory and the compile time where known; then, from
COMPILE_TIMES (prepare.sh's compile-times.jsonl), dlc's own compile times,
cold (an empty kernel cache) and warm.

    bench_table.py ROWS.jsonl [COMPILE_TIMES.jsonl]"""
import json
import os
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    dlc = {(r["model"], r.get("mode", "train"), r["precision"]): r["samples_per_sec"]
           for r in rows if r["system"] == "dlc"}
    print("| model | mode | system | precision | samples/s | ms/step | dlc / it | peak MiB | compile s |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        mode = r.get("mode", "train")
        ours = dlc.get((r["model"], mode, r["precision"]), dlc.get((r["model"], mode, "fp32")))
        ratio = "%.2f" % (ours / r["samples_per_sec"]) if ours and r["samples_per_sec"] else "-"
        peak = r.get("peak_memory_bytes", r.get("memory_bytes"))
        compiled = r.get("compile_seconds")
        rate = r["samples_per_sec"]
        print("| %s | %s | %s | %s | %s | %.3f | %s | %s | %s |" % (
            r["model"], mode, r["system"], r["precision"], "%.0f" % rate if rate >= 10 else "%.2f" % rate,
            r["ms_per_step"], ratio,
            "%.1f" % (peak / 2**20) if peak else "-", "%.1f" % compiled if compiled else "-"))
    if len(sys.argv) > 2 and os.path.exists(sys.argv[2]):
        print("\n| model | batch | dlc compile, cold s | warm s |")
        print("|---|---:|---:|---:|")
        for line in open(sys.argv[2]):
            if line.strip():
                t = json.loads(line)
                print("| %s | %d | %.2f | %.2f |" % (t["model"], t["batch"], t["cold_seconds"], t["warm_seconds"]))


if __name__ == "__main__":
    main()
