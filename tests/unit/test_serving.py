"""dev.serving.ServedApp: the tests' real waitress server starts, answers and always stops cleanly."""

from __future__ import annotations

import time

import requests

from dev.serving import ServedApp


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_serves_and_stops_with_a_keep_alive_connection_open():
    session = requests.Session()
    with ServedApp(hello) as server:
        assert session.get(server.url + "/").text == "hello"  # the connection stays open in the server's map
    assert not server._thread.is_alive()
    session.close()


def test_stops_when_the_loop_has_already_closed_its_own_trigger():
    # CI once failed at teardown with EBADF: the loop had closed its trigger pipe, so the stop request could not
    # be delivered through it. Closing must still stop the server, and say nothing.
    server = ServedApp(hello).start()
    assert requests.get(server.url + "/").text == "hello"
    server._server.trigger.pull_trigger(server._server.trigger.close)
    deadline = time.monotonic() + 5
    while not server._server.trigger._closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server._server.trigger._closed
    server.close()
    assert not server._thread.is_alive()


def test_a_server_never_started_closes():
    server = ServedApp(hello)
    server.close()
    assert not server._thread.is_alive()


def test_stop_process_terminates_and_kills_what_ignores_the_terminate():
    import subprocess
    import sys

    from dev.serving import stop_process

    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop_process(polite)
    assert polite.returncode is not None and polite.returncode != 0
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline()  # the handler is in place
    stop_process(stubborn, timeout=0.5)
    assert stubborn.returncode == -9
    stop_process(stubborn)  # already exited: nothing to do
