"""Run commands on, and copy files to, a device with the `ssh`/`scp` or `adb` commands.

Failures become one exception each, with what the tool said: `DeviceConnectionError`
(unreachable, refused, wrong host key, dropped; `dropped` tells whether the connection
was lost after it was made, which is worth a retry), `DeviceCommandError` (a copy or
command that failed on the device), `DeviceTimeout` and `DeviceToolMissing`. Each is a
`UserError` (`lqz` prints it in one line) and also the builtin error it stands for.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from lab_bnn.errors import UserError

from benchmarks.device_target import DeviceTarget

SSH_CONNECTION_FAILED = 255  # ssh's and scp's exit status when the connection failed
_HOST_KEY = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED")
_ADB_OFFLINE = ("not found", "offline", "no devices", "unauthorized", "device still connecting", "closed")


class DeviceConnectionError(UserError, ConnectionError):
    """The device could not be reached, or the connection was lost."""

    def __init__(self, message: str, dropped: bool = False):
        super().__init__(message)
        self.dropped = dropped


class DeviceCommandError(UserError, ChildProcessError):
    """A copy or a command failed on the device (missing binary, full disk, ...)."""


class DeviceTimeout(UserError, TimeoutError):
    """A step took longer than the time allowed."""


class DeviceToolMissing(UserError, FileNotFoundError):
    """`ssh`, `scp` or `adb` is not installed on this machine."""


def tail(text: str, lines: int = 15) -> str:
    """The last lines of a tool's output, for an error message."""
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass
class Transport:
    """Shared by both transports: run an argv with a timeout, classify failures."""

    target: DeviceTarget
    timeout: float = 600.0

    def run(self, argv: List[str], step: str, timeout: Optional[float] = None) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout or self.timeout,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise DeviceToolMissing(
                f"{argv[0]!r} is not installed on this machine; it is needed to reach {self.target}"
            ) from None
        except subprocess.TimeoutExpired:
            raise DeviceTimeout(
                f"{step} on {self.target} timed out after {timeout or self.timeout:g} s"
            ) from None
        self.check_connection(result, step)
        return result


@dataclass
class SshTransport(Transport):
    """OpenSSH's `ssh` and `scp`, never prompting (BatchMode) and checking host keys."""

    identity_file: Optional[str] = None
    known_hosts: Optional[str] = None
    connect_timeout: int = 10
    connected: bool = False

    def options(self) -> List[str]:
        options = [
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={self.connect_timeout}",
            "-o",
            "StrictHostKeyChecking=yes",
            # A dead link is noticed in ~15 s rather than at the TCP timeout.
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=3",
        ]
        if self.identity_file:
            options += ["-i", self.identity_file, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            options += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        return options

    def destination(self) -> str:
        host = self.target.host.strip("[]")
        return f"{self.target.user}@{host}" if self.target.user else host

    def shell(self, command: str, step: str) -> subprocess.CompletedProcess:
        return self.run(
            ["ssh", *self.options(), "-p", str(self.target.port), self.destination(), command], step
        )

    def push(self, local: Path, remote: str, step: str) -> None:
        # scp needs an IPv6 address in brackets, as the target keeps it.
        destination = (f"{self.target.user}@" if self.target.user else "") + self.target.host
        result = self.run(
            [
                "scp",
                "-q",
                *self.options(),
                "-P",
                str(self.target.port),
                str(local),
                f"{destination}:{remote}",
            ],
            step,
        )
        if result.returncode:
            raise DeviceCommandError(f"{step}: scp to {self.target} failed: {tail(result.stderr)}")

    def check_connection(self, result: subprocess.CompletedProcess, step: str) -> None:
        if result.returncode != SSH_CONNECTION_FAILED:
            self.connected = True
            return
        said = tail(result.stderr, 1) or "(ssh printed nothing)"
        if any(marker in result.stderr for marker in _HOST_KEY):
            offending = [l.strip() for l in result.stderr.splitlines() if "Offending" in l]
            raise DeviceConnectionError(
                f"the host key of {self.target} does not match the known_hosts entry"
                + (f" ({offending[0]})" if offending else "")
                + "; ssh refused to connect. If the device was reinstalled, check its new "
                "key and update known_hosts"
            )
        raise DeviceConnectionError(
            f"{step}: cannot reach {self.target} (ssh: {said})", dropped=self.connected
        )


@dataclass
class AdbTransport(Transport):
    """Android Debug Bridge: `adb -s <serial> shell | push`."""

    connected: bool = False

    def shell(self, command: str, step: str) -> subprocess.CompletedProcess:
        return self.run(["adb", "-s", self.target.serial, "shell", command], step)

    def push(self, local: Path, remote: str, step: str) -> None:
        result = self.run(["adb", "-s", self.target.serial, "push", str(local), remote], step)
        if result.returncode:
            raise DeviceCommandError(
                f"{step}: adb push to {self.target} failed: {tail(result.stderr or result.stdout)}"
            )

    def check_connection(self, result: subprocess.CompletedProcess, step: str) -> None:
        said = (result.stderr or "").lower()
        if (
            result.returncode
            and said.startswith(("error:", "adb: error"))
            and any(marker in said for marker in _ADB_OFFLINE)
        ):
            raise DeviceConnectionError(
                f"{step}: cannot reach {self.target} (adb: {tail(result.stderr)})", dropped=self.connected
            )
        self.connected = True


def make_transport(
    target: DeviceTarget,
    *,
    timeout: float = 600.0,
    identity_file: Optional[str] = None,
    known_hosts: Optional[str] = None,
) -> Transport:
    if target.kind == "ssh":
        return SshTransport(target, timeout, identity_file=identity_file, known_hosts=known_hosts)
    return AdbTransport(target, timeout)
