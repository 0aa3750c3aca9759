"""Where the dashboard shows up: a display updated in place, Stop/Abort buttons, plain text.

IPython and ipywidgets are imported only here, and only when a notebook is there to use them.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

from .._signals import hold_interrupts
from ..executors._capture import ROUTER

__all__ = ["in_kernel", "KernelOutput", "Controls", "show"]


class _DisplayRouting:
    """While the engine routes a trial's prints (see ``ROUTER.add_hooks``), send the IPython
    displays of capturing threads (rich's progress bars and tables, which Lightning shows by
    default; ``display()`` in a trial) to their buffers as text, as their prints go. Only a
    Jupyter kernel's own publisher: one that already captures (the manual panel's) is left
    alone. The tuner's own outputs pass (``ROUTER.passthrough``).

    A display redrawn in place stays one display in the text: ``clear_output`` (at once, or
    with ``wait=True`` at the next display) and an update of the same ``display_id`` replace
    the last one when nothing was written after it (a progress bar redrawn a thousand times
    leaves its last frame, not a thousand). An ``ipywidgets.Output`` entered by such a thread
    does nothing: it would divert the cell's own messages into a widget nobody sees.
    """

    def __init__(self) -> None:
        self._patched: Any = None
        self._widgets: Any = None
        #: Per buffer, its last display: [start, end, display_id, cleared with wait=True].
        self._last: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()

    def install(self) -> None:
        if self._patched is not None:
            return  # (still there: an interrupt cut the last removal short)
        from IPython import get_ipython

        shell = get_ipython()
        pub = getattr(shell, "display_pub", None)
        if getattr(shell, "kernel", None) is None or pub is None \
                or type(pub).__name__ != "ZMQDisplayPublisher":
            return
        publish, clear = pub.publish, pub.clear_output

        def routed_publish(data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> Any:
            buf = ROUTER.display_route()
            if buf is None:
                return publish(data, metadata, *args, **kwargs)
            self._quiet_widgets()
            text = data.get("text/plain", "") if isinstance(data, dict) else ""
            if text:
                display_id = (kwargs.get("transient") or {}).get("display_id")
                with ROUTER.write_lock, hold_interrupts():
                    last = self._last.get(buf)
                    if last is not None and buf.tell() == last[1] and (
                            last[3] or (kwargs.get("update") and display_id == last[2])):
                        buf.seek(last[0])
                        buf.truncate()
                    start = buf.tell()
                    buf.write(text if text.endswith("\n") else text + "\n")
                    self._last[buf] = [start, buf.tell(), display_id, False]
            return None

        def routed_clear(wait: bool = False) -> Any:
            buf = ROUTER.display_route()
            if buf is None:
                return clear(wait)
            with ROUTER.write_lock, hold_interrupts():
                last = self._last.get(buf)
                if last is not None and buf.tell() == last[1]:
                    if wait:
                        last[3] = True
                    else:
                        buf.seek(last[0])
                        buf.truncate()
                        self._last.pop(buf, None)
            return None

        pub.publish, pub.clear_output = routed_publish, routed_clear
        self._patched = (pub, routed_publish, routed_clear)
        self._quiet_widgets()

    def _quiet_widgets(self) -> None:
        """Make ``ipywidgets.Output``'s context do nothing in routed threads (once
        ipywidgets is imported: a library imports it just before showing a widget)."""
        output = getattr(sys.modules.get("ipywidgets"), "Output", None)
        if output is None or self._widgets is not None:
            return
        enter, leave = output.__enter__, output.__exit__
        skipped = threading.local()  # per thread: the widgets whose enter did nothing

        def routed_enter(widget: Any) -> Any:
            if ROUTER.display_route() is None:
                return enter(widget)
            skipped.__dict__.setdefault("stack", []).append(widget)
            return None

        def routed_exit(widget: Any, *exc: Any) -> Any:
            stack = skipped.__dict__.get("stack")
            if stack and stack[-1] is widget:  # (nothing to undo, nothing to hide)
                stack.pop()
                return None
            return leave(widget, *exc)

        output.__enter__, output.__exit__ = routed_enter, routed_exit
        self._widgets = (output, enter, leave, routed_enter, routed_exit)

    def uninstall(self) -> None:
        if self._widgets is not None:
            output, enter, leave, ours_enter, ours_exit = self._widgets
            self._widgets = None
            if output.__enter__ is ours_enter and output.__exit__ is ours_exit:
                output.__enter__, output.__exit__ = enter, leave
        if self._patched is None:
            return
        pub, publish, clear = self._patched
        self._patched = None
        for name, ours in (("publish", publish), ("clear_output", clear)):
            if pub.__dict__.get(name) is ours:
                del pub.__dict__[name]


_DISPLAYS = _DisplayRouting()
ROUTER.add_hooks(_DISPLAYS.install, _DISPLAYS.uninstall)


def in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (not a terminal, not a script)."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class KernelOutput:
    """One display in the cell's output, updated in place."""

    def __init__(self) -> None:
        self._handle: Any = None

    def __call__(self, bundle: dict[str, Any]) -> None:
        from IPython.display import display

        # Through the capture of the trial whose report updates it (a trial's own displays
        # go to its output).
        with ROUTER.passthrough():
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)


class Controls:
    """Stop and Abort buttons above the dashboard; removed when the run ends."""

    def __init__(self, study: Any) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self._study = study
        self.stop = widgets.Button(description="Stop", icon="stop",
                                   tooltip="Finish the running trial, then stop")
        self.abort = widgets.Button(description="Abort", icon="times", button_style="danger",
                                    tooltip="Interrupt the running trial now")
        self.stop.on_click(self._on_stop)
        self.abort.on_click(self._on_abort)
        self.box = widgets.HBox([self.stop, self.abort])
        with ROUTER.passthrough():
            self._handle = display(self.box, display_id=True)

    def _on_stop(self, _: Any) -> None:
        self._study.stop()
        self.stop.description, self.stop.disabled = "Stopping...", True

    def _on_abort(self, _: Any) -> None:
        getattr(self._study, "abort", self._study.stop)()
        self.stop.disabled = self.abort.disabled = True
        self.abort.description = "Aborting..."

    def close(self) -> None:
        # Replace the widget output by an empty one: a saved notebook then holds no view of a
        # widget that no longer exists.
        with ROUTER.passthrough():
            self._handle.update({"text/plain": ""}, raw=True)
        for w in (self.stop, self.abort, self.box):
            w.close()


def show(bundle: dict[str, Any]) -> None:
    """Display a MIME bundle in IPython; print its text elsewhere."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display

    if InteractiveShell.initialized():
        with ROUTER.passthrough():
            display(bundle, raw=True)
    else:
        print(bundle["text/plain"])
