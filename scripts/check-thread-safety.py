#!/usr/bin/env python3
"""Clang's thread-safety analysis over our own code: every translation unit of BUILD_DIR's
compile_commands.json outside generated code is compiled again with clang++-14 -fsyntax-only
-Wthread-safety (as errors), so the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations
are checked, not just written. GCC, which builds everything else, ignores them.

  scripts/check-thread-safety.py BUILD_DIR [JOBS]

Prints each file's findings and a last line of counts; exits 1 when any file fails.
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time


def clang_command(entry):
    args = shlex.split(entry["command"])
    # Drop ccache and the compiler, the output and dependency-file options, and -c.
    while args and not args[0].startswith("-"):
        args.pop(0)
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MT", "-MF", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a == entry["file"]:
            continue
        out.append(a)
    return (["clang++-14"] + out +
            ["-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
             # GCC-only warning names in our flags are not clang's business.
             "-Wno-unknown-warning-option", entry["file"]])


def check(entry):
    proc = subprocess.run(clang_command(entry), cwd=entry["directory"], capture_output=True,
                          text=True)
    return entry["file"], proc.returncode, proc.stderr


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    gen = os.path.realpath(os.path.join(build, "gen"))
    ours = [e for e in entries if not os.path.realpath(e["file"]).startswith(gen)]
    start = time.monotonic()
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for path, code, err in pool.map(check, ours):
            if code != 0:
                failed += 1
                print(f"== {path}\n{err}", flush=True)
    print(f"thread-safety: {len(ours)} files, {failed} failing, "
          f"{time.monotonic() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
