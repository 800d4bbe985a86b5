#!/usr/bin/env python3
"""Mutates the example .dl files and requires `dlc check` to fail cleanly.

Each variant (a byte flip, a truncation, a deleted, duplicated or swapped token,
an inserted stray token or a spliced line) must end with exit status 0 or 1,
and status 1 must come with an `error:` line: never a signal, a hang, an
assertion or a stack dump. Seeded, so a failure reproduces.
"""
import argparse
import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

TOKEN = re.compile(rb'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\.|\S')
STRAY = [b"(", b")", b"[", b"]", b"{", b"}", b",", b"=", b":", b"..", b"-", b"/", b"*",
         b"input", b"output", b"model", b"block", b"train", b"for", b"in", b"import",
         b"data", b"0", b"-1", b"99999999999999999999", b"1e999", b"\"", b"\xff", b"\x00",
         b"conv2d(1, 1)", b"dense(0)", b"relu()", b"flatten()", b"x", b"name=\"a/b\""]


def mutate(text: bytes, rng: random.Random) -> bytes:
    tokens = [m.span() for m in TOKEN.finditer(text)]
    kind = rng.randrange(7)
    if kind == 0 and text:  # flip a byte
        i = rng.randrange(len(text))
        return text[:i] + bytes([rng.randrange(256)]) + text[i + 1:]
    if kind == 1:  # truncate
        return text[:rng.randrange(len(text) + 1)]
    if kind == 2 and tokens:  # delete a token
        a, b = rng.choice(tokens)
        return text[:a] + text[b:]
    if kind == 3 and tokens:  # duplicate a token
        a, b = rng.choice(tokens)
        return text[:b] + b" " + text[a:b] + text[b:]
    if kind == 4 and len(tokens) > 1:  # swap two tokens
        (a1, b1), (a2, b2) = sorted(rng.sample(tokens, 2))
        return text[:a1] + text[a2:b2] + text[b1:a2] + text[a1:b1] + text[b2:]
    if kind == 5 and tokens:  # insert a stray token
        a, _ = rng.choice(tokens)
        return text[:a] + rng.choice(STRAY) + b" " + text[a:]
    lines = text.split(b"\n")  # duplicate or drop a line
    i = rng.randrange(len(lines))
    if rng.random() < 0.5:
        lines.insert(i, lines[rng.randrange(len(lines))])
    else:
        del lines[i]
    return b"\n".join(lines)


def run_variant(dlc, workdir, name, text, index):
    path = os.path.join(workdir, f"variant{index}_{name}")
    with open(path, "wb") as f:
        f.write(text)
    try:
        result = subprocess.run([dlc, "check", path], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return f"{name} variant {index}: timed out", text
    finally:
        os.unlink(path)
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode not in (0, 1):
        return f"{name} variant {index}: exit status {result.returncode}\n{stderr[-2000:]}", text
    if result.returncode == 1 and "error:" not in stderr:
        return f"{name} variant {index}: status 1 without an error line\n{stderr[-2000:]}", text
    if "Stack dump" in stderr or "Assertion" in stderr or "PLEASE submit" in stderr:
        return f"{name} variant {index}: crash report\n{stderr[-2000:]}", text
    return None, None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dlc", default="dlc")
    parser.add_argument("--examples", required=True)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    dlc = shutil.which(args.dlc) or args.dlc
    sources = {}
    for name in sorted(os.listdir(args.examples)):
        if name.endswith(".dl"):
            with open(os.path.join(args.examples, name), "rb") as f:
                sources[name] = f.read()
    with open(os.path.join(args.examples, "lib", "vgg16.dl"), "rb") as f:
        sources["vgg16_lib.dl"] = f.read()

    rng = random.Random(args.seed)
    variants = []
    for index in range(args.count):
        name = rng.choice(sorted(sources))
        text = sources[name]
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            text = mutate(text, rng)
        variants.append((name, text, index))

    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        # Imports resolve relative to the variant, so the library sits beside it.
        shutil.copytree(os.path.join(args.examples, "lib"), os.path.join(workdir, "lib"))
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for message, text in pool.map(lambda v: run_variant(dlc, workdir, *v), variants):
                if message:
                    failures.append((message, text))
    clean = args.count - len(failures)
    print(f"{args.count} variants, seed {args.seed}: {clean} ended cleanly, {len(failures)} did not")
    for message, text in failures[:10]:
        print("FAILURE:", message)
        print("input:", text[:3000])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
