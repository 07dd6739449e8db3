"""benchmarks.device end to end against a real OpenSSH server on 127.0.0.1.

The "device" is this machine, reached through Debian's sshd with a throwaway host key,
user key and port. On it, a stand-in `lce_benchmark_model` checks its flags, reads the
model it was given (recording its SHA-256) and prints a real log of the benchmark tool
(tests/benchmarks/fixtures). It can also drop its own SSH connection, to test retries.
"""

import getpass
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from lab_bnn.errors import UserError

import numpy as np
import pandas as pd
import pytest

from benchmarks.device import benchmark_on_device, store_device_result
from benchmarks.device_transport import DeviceConnectionError
from converter import convert
from zoo.cli import main
from zoo.models import SmallBNN

SSHD = "/usr/sbin/sshd"
FIXTURE = Path(__file__).parent / "fixtures" / "lce_benchmark_small_bnn.txt"
REQUIRED = {"graph", "num_threads", "num_runs", "enable_op_profiling"}

STAND_IN = """#!{python}
import hashlib, json, os, signal, sys, time
from pathlib import Path

state = Path({state!r})
known = {{"graph", "num_threads", "num_runs", "enable_op_profiling", "use_xnnpack",
          "use_indirect_bgemm"}}
flags = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
bad = [a for a in sys.argv[1:] if not a.startswith("--") or a[2:].split("=")[0] not in known]
missing = {required!r} - set(flags)
if bad or missing or flags.get("enable_op_profiling") != "true":
    print(f"ERROR: Unconsumed cmdline flags: {{bad}} missing {{sorted(missing)}}", file=sys.stderr)
    sys.exit(1)
model = Path(flags["graph"]).read_bytes()
if model[4:8] != b"TFL3":
    print(f"ERROR: {{flags['graph']}} is not a TFLite model", file=sys.stderr)
    sys.exit(1)
with open(state / "calls.jsonl", "a") as calls:
    calls.write(json.dumps({{"flags": flags, "sha256": hashlib.sha256(model).hexdigest()}}) + "\\n")
drops = state / "drops"
if drops.exists() and int(drops.read_text()) > 0:
    drops.write_text(str(int(drops.read_text()) - 1))
    pid = os.getppid()  # kill this connection's sshd: to the client, the link dropped
    while pid > 1:
        if Path(f"/proc/{{pid}}/comm").read_text().startswith("sshd"):
            os.kill(pid, signal.SIGKILL)
            break
        pid = int(Path(f"/proc/{{pid}}/stat").read_text().rsplit(")", 1)[1].split()[1])
    time.sleep(30)
sys.stdout.write(Path({fixture!r}).read_text())
"""

FAILING = """#!/bin/sh
echo "ERROR: Didn't find op for builtin opcode 'LceBconv2d' version '1'" >&2
exit 1
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    if not Path(SSHD).exists():
        pytest.fail(f"{SSHD} is missing; ./install_requirements.sh installs openssh-server")
    root = tmp_path_factory.mktemp("device")
    host_key = keygen(root / "host_key")
    user_key = keygen(root / "user_key")
    other_key = keygen(root / "other_host_key")
    port = free_port()
    (root / "authorized_keys").write_text(user_key + "\n")
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
        f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nLogLevel ERROR\n"
        "Subsystem sftp internal-sftp\n"
    )  # scp speaks SFTP since OpenSSH 9
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation folder
    log = open(root / "sshd.log", "w")
    server = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(root / "sshd_config")], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None, (root / "sshd.log").read_text()
            assert time.time() < deadline, "sshd did not start listening"
            time.sleep(0.1)
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
    (root / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {other_key}\n")
    state = root / "state"
    state.mkdir()
    bin_dir = root / "bin"
    bin_dir.mkdir()
    try:
        yield SimpleNamespace(
            target=f"ssh://{getpass.getuser()}@127.0.0.1:{port}",
            port=port,
            state=state,
            binary=executable(
                bin_dir / "lce_benchmark_model",
                STAND_IN.format(
                    python=sys.executable, state=str(state), required=REQUIRED, fixture=str(FIXTURE)
                ),
            ),
            failing=executable(bin_dir / "failing_benchmark", FAILING),
            ssh=dict(identity_file=str(root / "user_key"), known_hosts=str(root / "known_hosts")),
            wrong_known_hosts=str(root / "wrong_known_hosts"),
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        shutil.rmtree(root)
        assert not root.exists()


@pytest.fixture(scope="module")
def flatbuffer():
    return convert(SmallBNN(input_shape=(28, 28, 1)))


def printed_run_order(text: str):
    """(node type, avg ms) of the regular runs' Run Order table, read straight off the log."""
    section = text.split("Operator-wise Profiling Info for Regular Benchmark Runs:")[1]
    table = section.split("Run Order")[1].split("\n\n")[0].splitlines()[2:]
    return [
        (cells[1].strip(), float(cells[3]))
        for cells in (line.split("\t") for line in table)
        if len(cells) > 3
    ]


def calls(device):
    path = device.state / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_benchmarks_a_converted_model_and_stores_what_the_tool_printed(device, flatbuffer, tmp_path):
    before = len(calls(device))
    lines = []
    result = benchmark_on_device(
        flatbuffer,
        device.target,
        device.binary,
        threads=4,
        runs=20,
        use_indirect_bgemm=True,
        model_name="small_bnn",
        log=lines.append,
        **device.ssh,
    )
    call = calls(device)[before]
    assert call["sha256"] == hashlib.sha256(flatbuffer).hexdigest()  # the model arrived whole
    assert call["flags"]["num_threads"] == "4" and call["flags"]["num_runs"] == "20"
    assert call["flags"]["use_indirect_bgemm"] == "true" and "use_xnnpack" not in call["flags"]
    assert not Path(call["flags"]["graph"]).parent.exists()  # nothing left on the device
    assert [l.split("]")[0] for l in lines if l.startswith("[")] == [f"[{i}/5" for i in range(1, 6)]

    paths = store_device_result(result, tmp_path / "small_bnn")
    stored = pd.read_csv(paths["ops"])
    printed = printed_run_order(FIXTURE.read_text())
    assert list(zip(stored.node_type, stored.avg_ms)) == printed
    assert (stored.model == "small_bnn").all() and list(stored.ms) == [ms for _, ms in printed]
    info = json.loads(paths["info"].read_text())
    assert info["device"] == socket.gethostname() and info["threads"] == 4
    assert info["use_indirect_bgemm"] is True and info["target"] == device.target
    again = store_device_result(result, tmp_path / "small_bnn")  # never replaces a result
    assert again["ops"] != paths["ops"] and paths["ops"].exists()


def test_lqz_device_benchmark_converts_a_zoo_model_first(device, tmp_path, capsys):
    assert (
        main(
            [
                "DeviceBenchmark",
                "model=SmallBNN",
                "input_shape=28,28,1",
                "num_classes=10",
                f"output_dir={tmp_path}",
                f"target={device.target}",
                f"binary={device.binary}",
                f"identity_file={device.ssh['identity_file']}",
                f"known_hosts={device.ssh['known_hosts']}",
            ]
        )
        == 0
    )
    host = socket.gethostname()
    stored = pd.read_csv(tmp_path / f"SmallBNN.device-{host}.ops.csv")
    assert set(stored.columns) >= {"model", "op_type", "ms"} and len(stored) > 5
    assert (
        calls(device)[-1]["sha256"] == hashlib.sha256((tmp_path / "SmallBNN.tflite").read_bytes()).hexdigest()
    )


@pytest.mark.parametrize("case", ["wrong host key", "refused"])
def test_unreachable_device_is_one_clear_error_and_nothing_is_written(
    device, flatbuffer, tmp_path, capsys, case
):
    target, known_hosts = device.target, device.wrong_known_hosts
    if case == "refused":
        target, known_hosts = f"ssh://{getpass.getuser()}@127.0.0.1:{free_port()}", device.ssh["known_hosts"]
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(flatbuffer)
    before = len(calls(device))
    code = main(
        [
            "DeviceBenchmark",
            f"tflite={tflite}",
            f"target={target}",
            f"binary={device.binary}",
            f"identity_file={device.ssh['identity_file']}",
            f"known_hosts={known_hosts}",
            "retries=1",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("lqz: error: ")
    assert (
        "does not match the known_hosts entry" if case == "wrong host key" else "Connection refused"
    ) in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]
    assert len(calls(device)) == before


@pytest.mark.parametrize(
    "binary,shown",
    [
        (
            "/nonexistent/lce_benchmark_model",
            r"was not found or is not executable:\n.*(No such file or directory|not found)",
        ),
        ("failing", r"failed \(exit 1\):\nERROR: Didn't find op for builtin opcode 'LceBconv2d'"),
    ],
)
def test_a_missing_or_failing_binary_shows_its_output(device, flatbuffer, binary, shown):
    binary = device.failing if binary == "failing" else binary
    with pytest.raises(ChildProcessError, match=shown) as raised:
        benchmark_on_device(flatbuffer, device.target, binary, log=lambda _: None, **device.ssh)
    assert isinstance(raised.value, UserError)  # `lqz` shows it in one line


def test_a_dropped_connection_is_retried_then_given_up(device, flatbuffer):
    (device.state / "drops").write_text("1")  # the first run drops its connection
    lines = []
    result = benchmark_on_device(
        flatbuffer, device.target, device.binary, retries=2, log=lines.append, **device.ssh
    )
    assert any("connection dropped during running the benchmark; retry 1 of 2" in l for l in lines)
    assert np.isclose(result.ops.avg_ms.sum(), sum(ms for _, ms in printed_run_order(FIXTURE.read_text())))

    (device.state / "drops").write_text("3")  # every attempt drops
    with pytest.raises(
        DeviceConnectionError,
        match=r"running the benchmark: cannot reach .* "
        r"gave up after 2 attempts",
    ) as raised:
        benchmark_on_device(
            flatbuffer, device.target, device.binary, retries=1, log=lambda _: None, **device.ssh
        )
    assert isinstance(raised.value, UserError)
    (device.state / "drops").write_text("0")


FAKE_ADB = """#!/bin/sh
# adb -s SERIAL shell CMD | push LOCAL REMOTE, done on this machine; other serials are offline.
[ "$2" = "emulator-5554" ] || {{ echo "adb: error: device '$2' not found" >&2; exit 1; }}
case "$3" in
  shell) exec sh -c "$4" ;;
  push) cp "$4" "$5" && echo "$4: 1 file pushed." ;;
esac
"""


def test_adb_target_runs_the_same_steps(device, flatbuffer, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "adb", FAKE_ADB.format())
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = benchmark_on_device(
        flatbuffer, "adb://emulator-5554", device.binary, work_root=str(tmp_path), log=lambda _: None
    )
    assert list(zip(result.ops.node_type, result.ops.avg_ms)) == printed_run_order(FIXTURE.read_text())
    assert calls(device)[-1]["sha256"] == hashlib.sha256(flatbuffer).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # work folder removed
    with pytest.raises(DeviceConnectionError, match=r"cannot reach adb://other .*not found"):
        benchmark_on_device(flatbuffer, "adb://other", device.binary, log=lambda _: None)
