"""Which machine measured a number: host latency is not device latency."""

import os
import platform


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host_description() -> str:
    """e.g. 'vm: AMD EPYC, x86_64, 2 cores, Linux'."""
    return (
        f"{platform.node()}: {cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    )
