"""A hostile submission: each probe tries to break out of the sandbox and reports what happened.

Usage: python3 probes.py <probe>. Reports go to /output/report.json so the
test can assert on what the container saw; probes that are meant to be
stopped by a limit (memory, time, output size) never finish on their own.
"""

import json
import os
import socket
import sys
import time

OUTPUT = "/output"
DEFAULT_TARGETS = [["1.1.1.1", 53], ["8.8.8.8", 53], ["172.17.0.1", 2375], ["172.17.0.1", 80]]


def report(document):
    with open(os.path.join(OUTPUT, "report.json"), "w") as handle:
        json.dump(document, handle)


def attempt(action):
    try:
        action()
        return "ok"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def connect(host, port):
    with socket.create_connection((host, port), timeout=2):
        pass


def network():
    targets = list(DEFAULT_TARGETS)
    extra = "/input/probe_targets.json"
    if os.path.exists(extra):
        with open(extra) as handle:
            targets += json.load(handle)
    results = {f"{host}:{port}": attempt(lambda h=host, p=port: connect(h, p)) for host, port in targets}
    with open("/proc/net/dev") as handle:
        interfaces = sorted(line.split(":")[0].strip() for line in handle.readlines()[2:])
    dns = attempt(lambda: socket.getaddrinfo("pypi.org", 443))
    report({"connections": results, "interfaces": interfaces, "dns": dns})


def write_everywhere():
    def write(path):
        with open(path, "w") as handle:
            handle.write("x")

    targets = ["/input/new_file", "/input/manifest.json", "/probe_root_file", "/etc/probe", "/usr/probe", "/home/probe"]
    results = {path: attempt(lambda p=path: write(p)) for path in targets}
    results["mkdir /input/folder"] = attempt(lambda: os.mkdir("/input/folder"))
    results["/tmp/probe"] = attempt(lambda: write("/tmp/probe"))
    report(results)


def scan_input():
    keys, files, unreadable = set(), [], []

    def collect(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                keys.add(key)
                collect(inner)
        elif isinstance(value, list):
            for inner in value:
                collect(inner)

    for folder, _, names in os.walk("/input"):
        for name in names:
            path = os.path.join(folder, name)
            files.append(os.path.relpath(path, "/input"))
            if name.endswith((".json", ".jsonl")):
                try:
                    with open(path) as handle:
                        text = handle.read()
                    for line in [text] if name.endswith(".json") else text.splitlines():
                        collect(json.loads(line))
                except (OSError, ValueError) as exc:
                    unreadable.append(f"{path}: {exc}")
    report({"keys": sorted(keys), "files": sorted(files), "unreadable": unreadable})


def identity():
    with open("/proc/self/status") as handle:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in handle if ":\t" in line)
    report(
        {
            "uid": os.getuid(),
            "gid": os.getgid(),
            "groups": os.getgroups(),
            "cap_eff": status.get("CapEff"),
            "cap_bnd": status.get("CapBnd"),
            "no_new_privs": status.get("NoNewPrivs"),
        }
    )


def fork_bomb():
    children = 0
    failure = None
    for _ in range(10_000):
        try:
            pid = os.fork()
        except OSError as exc:
            failure = f"{type(exc).__name__}: {exc}"
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
    report({"children": children, "failure": failure})
    sys.exit(3)


def allocate():
    import numpy as np

    blocks = []
    while True:
        blocks.append(np.ones(64 * 1024 * 1024 // 8))


def sleep_forever():
    print("sleeping", flush=True)
    while True:
        time.sleep(3600)


def big_output():
    chunk = b"x" * (1024 * 1024)
    with open(os.path.join(OUTPUT, "big.bin"), "wb") as handle:
        for _ in range(200):
            handle.write(chunk)
            handle.flush()
    time.sleep(30)


def symlink_output():
    os.symlink("/etc/passwd", os.path.join(OUTPUT, "scores.npy"))


def fifo_output():
    os.mkfifo(os.path.join(OUTPUT, "scores.npy"))


def flood_logs():
    line = "log line " + "y" * 90 + "\n"
    for _ in range(50_000):
        sys.stdout.write(line)
    sys.stdout.write("last line of the log\n")
    report({"done": True})


def write_until_full(handle, total, chunk=1024 * 1024, offsets=None):
    """Write up to ``total`` bytes (at ``offsets`` when given); returns the bytes the kernel took."""
    data = b"z" * chunk
    written = 0
    for index in range(total // chunk):
        try:
            if offsets is not None:
                handle.seek(offsets(index))
            written += handle.write(data)
            handle.flush()
        except OSError as exc:
            print(f"stopped: {exc.strerror}", flush=True)
            break
    print(f"wrote {written} bytes", flush=True)
    return written


def deleted_open_output():
    """Hide data from a folder walk: a file deleted while still open, kept open."""
    handle = open(os.path.join(OUTPUT, "hidden.bin"), "wb", buffering=0)
    os.unlink(os.path.join(OUTPUT, "hidden.bin"))
    write_until_full(handle, 400 * 1024 * 1024)
    time.sleep(60)


def sparse_output():
    """A 10 GB sparse file, then data spread across it."""
    with open(os.path.join(OUTPUT, "scores.npy"), "wb", buffering=0) as handle:
        handle.truncate(10 << 30)
        write_until_full(handle, 400 * 1024 * 1024, offsets=lambda index: index * (25 << 20))


def fast_writer():
    """Write as fast as possible in big blocks, then exit at once."""
    with open(os.path.join(OUTPUT, "big.bin"), "wb", buffering=0) as handle:
        write_until_full(handle, 400 * 1024 * 1024, chunk=16 * 1024 * 1024)


def deep_output():
    """A folder chain 1,100 deep and a folder of mode 000 with files in it."""
    locked = os.path.join(OUTPUT, "locked")
    os.mkdir(locked)
    with open(os.path.join(locked, "inside.txt"), "w") as handle:
        handle.write("hidden")
    os.chmod(locked, 0)
    os.chdir(OUTPUT)
    for _ in range(1100):
        os.mkdir("d")
        os.chdir("d")
    print("built the chain", flush=True)


def slow_logs():
    for tick in range(16):
        print(f"tick {tick}", flush=True)
        time.sleep(0.25)
    report({"done": True})


def exit_seven():
    print("something went wrong on purpose", file=sys.stderr)
    sys.exit(7)


PROBES = {
    "network": network,
    "write": write_everywhere,
    "scan_input": scan_input,
    "identity": identity,
    "fork_bomb": fork_bomb,
    "allocate": allocate,
    "sleep": sleep_forever,
    "big_output": big_output,
    "symlink_output": symlink_output,
    "fifo_output": fifo_output,
    "flood_logs": flood_logs,
    "exit_seven": exit_seven,
    "deleted_open_output": deleted_open_output,
    "sparse_output": sparse_output,
    "fast_writer": fast_writer,
    "deep_output": deep_output,
    "slow_logs": slow_logs,
}

if __name__ == "__main__":
    PROBES[sys.argv[1]]()
