#!/usr/bin/env python3
"""Clang's thread-safety analysis over our own code: the translation units of BUILD_DIR's
compile_commands.json that lock an absl::Mutex or see one of our annotated headers (by the
build's own dependency lists, `ninja -t deps`) are compiled again with clang++-14 -fsyntax-only
-Wthread-safety (as errors), so the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations
are checked, not just written. GCC, which builds everything else, ignores them. The rest of our
code has nothing for the analysis to check.

  scripts/check-thread-safety.py BUILD_DIR [JOBS] [--all]

Prints each file's findings and a last line of counts; exits 1 when any file fails.
"""
import concurrent.futures
import json
import os
import re
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


ANNOTATION = re.compile(
    r"ABSL_(PT_)?GUARDED_BY|ABSL_(EXCLUSIVE|SHARED)_LOCKS_REQUIRED|ABSL_LOCKS_EXCLUDED|"
    r"ABSL_(EXCLUSIVE_|SHARED_)?(LOCK_FUNCTION|UNLOCK_FUNCTION|TRYLOCK_FUNCTION)|"
    r"ABSL_ASSERT_(EXCLUSIVE|SHARED)_LOCK|absl::(Mutex|MutexLock|ReaderMutexLock|WriterMutexLock)\b")


def mentions_locking(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return ANNOTATION.search(f.read()) is not None
    except OSError:
        return False


def object_deps(build):
    """Object file -> the headers it included, from ninja's dependency log."""
    out = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True,
                         check=True).stdout
    deps, current = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line.split(":")[0]
            deps[current] = []
        elif line.strip() and current is not None:
            deps[current].append(line.strip())
    return deps


def needs_check(entry, deps, source_root, cache):
    if mentions_locking(entry["file"]):
        return True
    args = shlex.split(entry["command"])
    obj = args[args.index("-o") + 1] if "-o" in args else ""
    for header in deps.get(obj, []):
        path = os.path.realpath(os.path.join(entry["directory"], header))
        if not path.startswith(source_root + os.sep):
            continue  # Debian's headers and generated code
        if path not in cache:
            cache[path] = mentions_locking(path)
        if cache[path]:
            return True
    return False


def check(entry):
    proc = subprocess.run(clang_command(entry), cwd=entry["directory"], capture_output=True,
                          text=True)
    return entry["file"], proc.returncode, proc.stderr


def main():
    args = [a for a in sys.argv[1:] if a != "--all"]
    build = args[0] if args else "build"
    jobs = int(args[1]) if len(args) > 1 else os.cpu_count()
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    gen = os.path.realpath(os.path.join(build, "gen"))
    ours = [e for e in entries if not os.path.realpath(e["file"]).startswith(gen)]
    if "--all" not in sys.argv:
        source_root = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
        deps, cache = object_deps(build), {}
        ours = [e for e in ours if needs_check(e, deps, source_root, cache)]
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
