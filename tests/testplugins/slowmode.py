"""A test plugin: the white mode, slowed down by VITRINA_TEST_SLOW seconds per job, as mode "slow".

Registered in worker processes through VITRINA_PLUGIN_MODULES=testplugins.slowmode (tests/ on PYTHONPATH),
so fault tests can kill a worker or edit the catalog while a job is certainly running.
"""

import os
import time

from vitrina_sync.hookspecs import hookimpl
from vitrina_sync.modes.white import WhiteMode


class SlowMode(WhiteMode):
    name = "slow"
    version = "slow-1"

    def process(self, source, ctx):
        time.sleep(float(os.environ.get("VITRINA_TEST_SLOW", "1")))
        return super().process(source, ctx)


@hookimpl
def vitrina_register_modes():
    return [SlowMode()]
