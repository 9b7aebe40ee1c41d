"""Run a WSGI app on a real waitress server on a free loopback port, in a background thread (for tests).

    with ServedApp(app) as server:
        requests.get(server.url + "/path")

`server.url` is `http://127.0.0.1:<port>` with no trailing slash. Leaving the block closes the listener and stops
the worker threads. `stop_process` stops a server the tests started as a process of its own.
"""

from __future__ import annotations

import subprocess
import threading

import waitress
from waitress import wasyncore


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within `timeout` seconds; returns once it has exited."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


class ServedApp:
    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, threads: int = 4):
        self.app = app
        self._server = waitress.create_server(app, host=host, port=port, threads=threads)
        self.port = self._server.effective_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.run, name=f"waitress-{self.port}", daemon=True)

    def start(self) -> ServedApp:
        self._thread.start()
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            self._server.close()
            return
        # server.close() alone leaves keep-alive connections in the loop's map, so run() would not return. Closing
        # everything from inside the loop thread (a trigger thunk) also avoids racing its select().
        try:
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        except OSError:
            # The loop already closed its own trigger (it does so when the pipe reports an error or hang-up), so
            # the thunk cannot be delivered: close what is left from here. The loop then finds its map empty, or
            # a closed descriptor in select(), and its thread ends either way.
            wasyncore.close_all(self._server._map, ignore_all=True)
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown(timeout=2)

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
