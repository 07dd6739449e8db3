"""Device addresses: what parses, and one clear error for what does not."""

import pytest

from benchmarks.device_target import DeviceTarget, parse_target


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ssh://pi@raspberrypi.local", DeviceTarget("ssh", host="raspberrypi.local", user="pi")),
        ("ssh://ubuntu@10.0.0.7:2222", DeviceTarget("ssh", host="10.0.0.7", user="ubuntu", port=2222)),
        ("ssh://jetson", DeviceTarget("ssh", host="jetson")),
        ("ssh://root@[fe80::1]:22", DeviceTarget("ssh", host="[fe80::1]", user="root")),
        ("adb://R58M123ABC", DeviceTarget("adb", serial="R58M123ABC")),
        ("adb://192.168.1.5:5555", DeviceTarget("adb", serial="192.168.1.5:5555")),
    ],
)
def test_targets_parse(text, expected):
    target = parse_target(text)
    assert target == expected
    assert parse_target(str(target)) == target  # str() gives the address back


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pi@raspberrypi",
        "http://pi@host",
        "ssh://pi@",
        "adb://",
        "ssh://pi@host:port",
        "ssh://pi@host/path",
    ],
)
def test_bad_targets_name_the_value_and_the_forms(text):
    with pytest.raises(
        ValueError,
        match=rf"target={text!r} is not a device address; allowed: "
        r"ssh://user@host\[:port\] .* or adb://serial",
    ):
        parse_target(text)


def test_port_out_of_range():
    with pytest.raises(ValueError, match=r"target='ssh://pi@host:70000': port 70000 is outside 1..65535"):
        parse_target("ssh://pi@host:70000")
