"""keras_robust.atomic: private temporary folders, no followed symlinks, leftovers cleaned, overwrite only our own."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from keras_robust.atomic import MARKER, atomic_output, check_output, clean_leftovers


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_file_appears_whole_and_no_temporary_is_left(tmp_path):
    target = tmp_path / "out.json"
    with atomic_output(target) as tmp:
        assert tmp.parent.parent == tmp_path and tmp.name == "out.json"  # same file system, same ending
        assert oct(tmp.parent.stat().st_mode & 0o777) == "0o700"  # private: no one else can plant a file in it
        assert not target.exists()
        tmp.write_text("done")
    assert target.read_text() == "done" and _names(tmp_path) == ["out.json"]


def test_a_failing_body_leaves_the_old_target_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_output(target, overwrite=True) as tmp:
            tmp.write_text("new")
            raise RuntimeError("boom")
    assert target.read_text() == "old" and _names(tmp_path) == ["out.txt"]


def test_planted_symlinks_under_predictable_names_are_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    shared = tmp_path / "shared"
    shared.mkdir()
    pid = os.getpid()
    for guess in range(pid - 50, pid + 50):  # what the old writer's f"{path}.tmp{pid}" names would have been
        for name in (f"ranking.json.tmp{guess}", f".ranking.json.tmp-{guess}", f".ranking.json.tmp-{guess}-x"):
            (shared / name).symlink_to(victim)
    with atomic_output(shared / "ranking.json") as tmp:
        tmp.write_text("{}")
    assert victim.read_text() == "precious"
    assert (shared / "ranking.json").read_text() == "{}" and not (shared / "ranking.json").is_symlink()


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.txt").symlink_to(victim)
    with pytest.raises(FileExistsError, match="already exists"):
        with atomic_output(tmp_path / "out.txt") as tmp:
            tmp.write_text("new")
    with atomic_output(tmp_path / "out.txt", overwrite=True) as tmp:
        tmp.write_text("new")
    assert victim.read_text() == "precious" and not (tmp_path / "out.txt").is_symlink()


def test_folders_carry_the_marker_and_only_marked_folders_are_replaced(tmp_path):
    target = tmp_path / "results"
    with atomic_output(target) as tmp:
        tmp.mkdir()
        (tmp / "a.txt").write_text("1")
    assert _names(target) == [MARKER, "a.txt"]
    with atomic_output(target, overwrite=True) as tmp:
        tmp.mkdir()
        (tmp / "b.txt").write_text("2")
    assert _names(target) == [MARKER, "b.txt"] and _names(tmp_path) == ["results"]
    foreign = tmp_path / "my work"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years")
    with pytest.raises(ValueError, match=r"did not write .*never replaced, even with --overwrite"):
        with atomic_output(foreign, overwrite=True) as tmp:
            tmp.mkdir()
    assert (foreign / "thesis.tex").read_text() == "years"
    empty = tmp_path / "made by hand"  # nothing to lose: an empty folder may be replaced
    empty.mkdir()
    with atomic_output(empty, overwrite=True) as tmp:
        tmp.mkdir()
    assert _names(empty) == [MARKER]


def test_a_planted_marker_symlink_does_not_count(tmp_path):
    foreign = tmp_path / "data"
    foreign.mkdir()
    (tmp_path / "elsewhere").write_text("")
    (foreign / MARKER).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="did not write"):
        check_output(foreign, overwrite=True)


@pytest.mark.parametrize("where", ["cwd", "parent_of_cwd"])
def test_the_working_directory_and_its_parents_are_never_outputs(tmp_path, monkeypatch, where):
    work = tmp_path / "work"
    work.mkdir()
    (work / MARKER).write_text("")  # even a marked one
    monkeypatch.chdir(work)
    target = work if where == "cwd" else tmp_path
    with pytest.raises(ValueError, match=r"working directory .*Received: output="):
        check_output(target, overwrite=True)
    with pytest.raises(ValueError, match="working directory"):
        check_output(".", overwrite=True)


def test_an_input_or_a_folder_holding_it_is_never_an_output(tmp_path):
    source = tmp_path / "images"
    source.mkdir()
    (source / MARKER).write_text("")
    for target in (source, tmp_path):
        with pytest.raises(ValueError, match=r"would replace the input .*images"):
            check_output(target, overwrite=True, inputs=["ResNet20PP", str(source)])
    check_output(tmp_path / "other", overwrite=True, inputs=[str(source)])


def test_cheap_output_checks(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="it is a file"):
        check_output(tmp_path / "file" / "out.json")
    with pytest.raises(OSError, match=r"too long .*Received: 300 bytes"):
        check_output(tmp_path / ("x" * 300))
    assert check_output(tmp_path / "new" / "deeper" / "out.json").name == "out.json"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(ValueError, match="empty"):
        check_output("")


@pytest.mark.skipif(os.getuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_found_before_the_work(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="Cannot write into"):
            check_output(folder / "out.json")
    finally:
        folder.chmod(0o700)


WRITER = textwrap.dedent("""
    import signal, sys, time
    from keras_robust.atomic import atomic_output
    # a job started in the background by a non-interactive shell inherits SIGINT ignored: as from a terminal
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with atomic_output(sys.argv[1], overwrite=True) as tmp:
        tmp.mkdir()
        (tmp / "big.bin").write_bytes(b"x" * 1000)
        print("writing", flush=True)
        time.sleep(60)
""")


def _start_writer(target):
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    return process


def test_leftovers_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "prev"
    process = _start_writer(target)
    process.kill()
    process.wait()
    leftovers = [p for p in tmp_path.iterdir() if p.name != "prev"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".prev.tmp-")
    someone_elses = tmp_path / ".prev.tmp-1-planted"  # not removed: a symlink, whoever's it is
    someone_elses.symlink_to(tmp_path / "keep")
    (tmp_path / "keep").mkdir()
    with atomic_output(target) as tmp:
        tmp.mkdir()
    assert sorted(_names(tmp_path)) == sorted(["prev", "keep", someone_elses.name])
    assert clean_leftovers(target) == []


def test_a_live_writer_keeps_its_temporary_folder(tmp_path):
    process = _start_writer(tmp_path / "prev")
    try:
        assert clean_leftovers(tmp_path / "prev") == []
    finally:
        process.kill()
        process.wait()


def test_sigint_during_a_write_is_not_swallowed_and_leaves_nothing(tmp_path):
    target = tmp_path / "prev"
    process = _start_writer(target)
    process.send_signal(signal.SIGINT)
    start = time.monotonic()
    assert process.wait(timeout=30) != 0 and time.monotonic() - start < 30
    assert _names(tmp_path) == []  # interrupted: no target, no temporary
