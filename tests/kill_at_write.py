"""Kills ``robust-cli`` commands with SIGKILL in the middle of their writes, then reruns them (the mid-write kill
tests of ``tests/test_kill_mid_write.py``). Production code runs unchanged: an audit hook (``sys.addaudithook``)
sees each write just before it happens.

Usage: ``python kill_at_write.py SPEC.json``, SPEC ``{"root", "args", "preload"}``. A write is an ``open`` for
writing or a rename (``os.replace``) of a path under the run's working folder. In ``ROOT/reference`` the command
runs once uninterrupted, making M writes; then for each kill point N (the 2nd write, the middle one and the M-th,
the final rename), in ``ROOT/killed-N``: the command is killed just before its N-th write, the folder is copied to
``ROOT/killed-N.after-kill``, and the command runs again there (the rerun). Every run is a process forked after the
imports of ``preload`` (a fresh process per run, without paying the imports each time). ``ROOT/report.json`` lists
the runs: folder, kill point, writes seen, exit status or killing signal.
"""

import json
import os
import shutil
import signal
import sys
import traceback

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND


def written_path(event, args):
    """The path an audit event writes, or None."""
    if event == "open":
        path, mode, flags = args
        writing = any(ch in mode for ch in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
        return path if writing else None
    if event == "os.rename":  # os.rename and os.replace
        return args[1]
    return None


def _child(folder, args, kill_at, count_file):
    """In a forked process: run the command in `folder`, SIGKILLed just before write `kill_at` (0: never)."""
    from keras_robust.cli.main import cli

    os.chdir(folder)
    inside, seen = folder + os.sep, 0

    def hook(event, event_args):
        nonlocal seen
        path = written_path(event, event_args)
        if isinstance(path, (str, bytes, os.PathLike)) and os.path.abspath(os.fsdecode(path)).startswith(inside):
            seen += 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    code = 1
    try:
        cli.main(args, prog_name="robust-cli", standalone_mode=False)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with open(count_file, "w") as file:  # outside `folder`: not a write of the run
            file.write(str(seen))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run(root, name, args, kill_at=0):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    count_file = os.path.join(root, f"{name}.{kill_at}.count")
    pid = os.fork()
    if pid == 0:
        _child(folder, args, kill_at, count_file)
    _, status = os.waitpid(pid, 0)
    writes = int(open(count_file).read()) if os.path.exists(count_file) else None
    return {"folder": name, "kill_at": kill_at, "writes": writes,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}


def main():
    spec = json.load(open(sys.argv[1]))
    root, args = os.path.abspath(spec["root"]), spec["args"]
    for module in spec.get("preload", []):
        __import__(module)
    runs = [run(root, "reference", args)]
    writes = runs[0]["writes"] or 0
    for point in sorted({2, (writes + 2) // 2, writes} & set(range(2, writes + 1))):
        name = f"killed-{point}"
        runs.append(run(root, name, args, kill_at=point))
        shutil.copytree(os.path.join(root, name), os.path.join(root, name + ".after-kill"), symlinks=True)
        runs.append(run(root, name, args))
    with open(os.path.join(root, "report.json"), "w") as file:
        json.dump(runs, file, indent=1)


if __name__ == "__main__":
    main()
