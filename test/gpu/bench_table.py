#!/usr/bin/env python3
"""The GPU check's benchmark table: one row per JSON line of ROWS (written by
run.sh's bench phase: dlc-rt bench --json or bench/peer_torch.py, each with
"model", "system" and "precision" added), the ratio of each row's samples/s
to dlc's at the same model and precision (fp32 for tf32), the peak device
memory and the compile time where known.

    bench_table.py ROWS.jsonl"""
import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    dlc = {(r["model"], r["precision"]): r["samples_per_sec"] for r in rows if r["system"] == "dlc"}
    print("| model | system | precision | samples/s | ms/step | dlc / it | peak MiB | compile s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        ours = dlc.get((r["model"], "fp32" if r["precision"] == "tf32" else r["precision"]))
        ratio = "%.2f" % (ours / r["samples_per_sec"]) if ours and r["samples_per_sec"] else "-"
        peak = r.get("peak_memory_bytes", r.get("memory_bytes"))
        compiled = r.get("compile_seconds")
        print("| %s | %s | %s | %.0f | %.3f | %s | %s | %s |" % (
            r["model"], r["system"], r["precision"], r["samples_per_sec"], r["ms_per_step"], ratio,
            "%.1f" % (peak / 2**20) if peak else "-", "%.1f" % compiled if compiled else "-"))


if __name__ == "__main__":
    main()
