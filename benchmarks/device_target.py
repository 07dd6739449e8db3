"""Where an on-device benchmark runs: `ssh://user@host[:port]` or `adb://serial`."""

import re
from dataclasses import dataclass
from typing import Optional

from lab_bnn.errors import UserError

_SSH = re.compile(
    r"^ssh://(?:(?P<user>[^@/:\s]+)@)?(?P<host>\[[0-9a-fA-F:]+\]|[^@/:\s\[\]]+)"
    r"(?::(?P<port>\d{1,5}))?/?$"
)
_ADB = re.compile(r"^adb://(?P<serial>[^/\s]+)/?$")
FORMS = "ssh://user@host[:port] (Raspberry Pi, Jetson, any ARM64 Linux board) or adb://serial"


@dataclass(frozen=True)
class DeviceTarget:
    """A parsed target: `kind` "ssh" (with host, user, port) or "adb" (with serial)."""

    kind: str
    host: str = ""
    user: Optional[str] = None
    port: int = 22
    serial: str = ""

    @property
    def name(self) -> str:
        """A short label for file names and messages: the host or the serial."""
        return self.host.strip("[]") if self.kind == "ssh" else self.serial

    def __str__(self) -> str:
        if self.kind == "adb":
            return f"adb://{self.serial}"
        user = f"{self.user}@" if self.user else ""
        return f"ssh://{user}{self.host}" + (f":{self.port}" if self.port != 22 else "")


def parse_target(text: str) -> DeviceTarget:
    """Parse a target URL.

    Raises:
        UserError: naming the value received and the allowed forms.

    Example:
        >>> parse_target("ssh://pi@raspberrypi.local:2222").port
        2222
    """
    text = (text or "").strip()
    ssh = _SSH.match(text)
    if ssh:
        port = int(ssh["port"] or 22)
        if not 1 <= port <= 65535:
            raise UserError(f"target={text!r}: port {port} is outside 1..65535")
        return DeviceTarget("ssh", host=ssh["host"], user=ssh["user"], port=port)
    adb = _ADB.match(text)
    if adb:
        return DeviceTarget("adb", serial=adb["serial"])
    raise UserError(f"target={text!r} is not a device address; allowed: {FORMS}")
