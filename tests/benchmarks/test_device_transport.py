"""Device failures are user errors (`lqz` prints one line) and still the builtin
error each stands for, so `except TimeoutError` and friends keep working."""

import sys

from lab_bnn.errors import UserError

import pytest

from benchmarks.device_target import parse_target
from benchmarks.device_transport import (
    DeviceCommandError,
    DeviceConnectionError,
    DeviceTimeout,
    DeviceToolMissing,
    Transport,
)


@pytest.mark.parametrize(
    "error,builtin",
    [
        (DeviceConnectionError, ConnectionError),
        (DeviceCommandError, ChildProcessError),
        (DeviceTimeout, TimeoutError),
        (DeviceToolMissing, FileNotFoundError),
    ],
)
def test_each_device_error_is_a_user_error_and_its_builtin(error, builtin):
    assert issubclass(error, UserError) and issubclass(error, builtin)


def test_a_step_over_its_time_is_a_device_timeout():
    transport = Transport(parse_target("ssh://pi@raspberrypi.local"), timeout=0.2)
    with pytest.raises(
        DeviceTimeout,
        match=r"copying on ssh://pi@raspberrypi.local timed out "
        r"after 0.2 s",
    ):
        transport.run([sys.executable, "-c", "import time; time.sleep(5)"], "copying")


def test_a_missing_tool_is_named():
    transport = Transport(parse_target("adb://emulator-5554"))
    with pytest.raises(
        DeviceToolMissing,
        match=r"'adb-not-installed-here' is not installed on "
        r"this machine; it is needed to reach adb://",
    ):
        transport.run(["adb-not-installed-here", "devices"], "connecting")
