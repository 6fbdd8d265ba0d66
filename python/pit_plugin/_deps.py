"""Checks that the interpreter running a plugin has what pit_plugin needs,
and explains on stderr what to do when it does not: before the go-plugin
handshake, so the host shows the message instead of a protocol error."""

import os
import sys

MAGIC_COOKIE_KEY = "PIT_PLUGIN_MAGIC_COOKIE"


def explain_missing(module, err, packages):
    """Writes the missing-module message. Exits the process when it runs as
    a plugin of a pit host (the host shows the message), else raises
    ImportError with it."""
    ver = "%d.%d.%d" % sys.version_info[:3]
    pip = " ".join(packages)
    deb = " ".join("python3-" + p for p in packages)
    msg = (
        f"pit_plugin: {sys.executable} (Python {ver}) cannot import {module}: {err}\n"
        f"  install the plugin's dependencies for this interpreter:\n"
        f"    {sys.executable} -m pip install {pip}\n"
        f"  or, with Debian's python3: apt-get install {deb}\n"
        f"  or run the plugin with an interpreter that has them: change the script's\n"
        f"  first line (#!/usr/bin/env python3 picks the first python3 on PATH) or point\n"
        f"  the experiment at a wrapper script (exec /path/to/python3 plugin.py \"$@\").\n")
    if os.environ.get(MAGIC_COOKIE_KEY):
        sys.stderr.write(msg)
        sys.stderr.flush()
        sys.exit(1)
    raise ImportError(msg) from err


def require_grpc():
    try:
        import grpc  # noqa: F401
        import google.protobuf  # noqa: F401
    except ImportError as e:
        explain_missing("grpc and google.protobuf", e, ["grpcio", "protobuf"])


def require_cryptography():
    try:
        import cryptography  # noqa: F401
    except ImportError as e:
        explain_missing("cryptography", e, ["cryptography"])
