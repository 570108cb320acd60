"""Jobs that report on the worker process running them (tests of how workers are started)."""

import os


def environment(name: str):
    return os.environ.get(name)


def folder() -> str:
    return os.getcwd()


def parent() -> int:
    return os.getppid()
