"""The in-sandbox half of the protocol: load the student's code, serve calls on it.

This file is copied into the sandbox next to codec.py and runs there as
``python3 runner.py ROOT``; it imports nothing of dlgrade except codec.py and
must not: the sandbox holds no other code of ours.

Everything here is as untrusted as the student's code it shares a process
with. That is fine by design: the trusted side only ever receives plain data
through the codec and judges it against its own references, so a student who
tampers with this runner can at most send wrong answers.

Requests (dicts): {"id", "op": "load" | "call" | "watched" | "new" | "get" | "drop", ...}
Responses: {"id", "ok": True, "value": ...} or {"id", "ok": False, "error": {...}}
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import sys
import threading
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import codec  # noqa: E402  (lives next to this file inside the sandbox)
import cuda_on_cpu  # noqa: E402  (likewise: CUDA mapped onto the CPU on a worker without a GPU)

sys.path.remove(HERE)

# The sandbox gives us a private /tmp; the unprotected fallback points TMPDIR elsewhere.
WORK = os.path.join(os.environ.get("TMPDIR") or "/tmp", "work")
# Where a network trained by a script is looked for when the manifest names no global.
NETWORK_NAMES = ("net", "model", "network")
MAX_TRACEBACK_LINES = 40
# How often the sampler says where the student's code is while a request runs: a call
# stopped for time is located by the last sample, taken at most this long before.
SAMPLE_SECONDS = 0.5
SAMPLE_FRAMES = 8


class Sampler:
    """Sends ``{"id", "where"}`` frames while a request runs: the student's frames of the
    serving thread's stack. The trusted side keeps the latest and names it when the call
    runs out of time (it kills this process, so it cannot ask afterwards). Information
    only: nothing is judged by a sample, so a forged one can only mislead its author."""

    def __init__(self, out, lock: threading.Lock) -> None:
        self.out = out
        self.lock = lock
        self.serving = threading.get_ident()
        self.request: object = None  # the id of the request being served, if any
        self.thread: threading.Thread | None = None

    def begin(self, rid: object) -> None:
        self.request = rid
        if self.thread is None:
            self.thread = threading.Thread(target=self.run, name="dlgrade-sampler", daemon=True)
            self.thread.start()

    def end(self) -> None:
        self.request = None

    def run(self) -> None:
        while True:
            time.sleep(SAMPLE_SECONDS)
            rid = self.request
            if rid is None:
                continue
            try:
                lines = where(sys._current_frames().get(self.serving))
                if not lines:
                    continue
                payload = codec.encode({"id": rid, "where": lines})
                with self.lock:
                    if self.request == rid:  # not after the request's own reply
                        codec.write_frame(self.out, payload)
            except Exception:  # the process is shutting down, or the channel is gone
                return


def where(frame: types.FrameType | None) -> list[str]:
    """The student's frames of a stack, innermost last, as a traceback prints them."""
    if frame is None:
        return []
    frames = [f for f in traceback.extract_stack(frame) if f.filename.startswith(WORK)]
    text = "".join(traceback.format_list(frames[-SAMPLE_FRAMES:])).replace(WORK + "/", "")
    return text.splitlines()


class Runner:
    def __init__(self, root: str, proto_in, proto_out) -> None:
        self.root = root
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.module: types.ModuleType | None = None
        self.namespace: dict = {}
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.write_lock = threading.Lock()  # replies and samples share the channel
        self.sampler = Sampler(proto_out, self.write_lock)

    # -- loading -----------------------------------------------------------------
    def prepare_workdir(self, data_links: dict[str, str]) -> None:
        """Copy the submission to a writable folder and link the declared public data into it."""
        shutil.copytree(os.path.join(self.root, "submission"), WORK, dirs_exist_ok=True)
        for name, rel in data_links.items():
            target = os.path.join(self.root, "data", rel)
            link = os.path.join(WORK, name)
            if os.path.islink(link):
                os.unlink(link)  # a runner started again for another run's data
            if not os.path.lexists(link):
                os.symlink(target, link)
        # The course's homework draws figures: headless, its cache in the scratch space.
        os.environ["MPLBACKEND"] = "Agg"
        os.environ["MPLCONFIGDIR"] = os.path.join(os.path.dirname(WORK), ".matplotlib")
        os.chdir(WORK)
        sys.path.insert(0, WORK)

    def op_load(self, req: dict) -> object:
        if req.get("cuda") == "cpu":
            # The trusted side grades without a GPU: "cuda" in the homework means the CPU.
            cuda_on_cpu.install_when_imported()
        self.prepare_workdir(req.get("data_links", {}))
        path = os.path.join(WORK, req["file"])
        if req.get("mode", "import") == "script":
            return self.load_script(path, req.get("global_name"))
        return self.load_module(path, req["module"], req.get("global_name"))

    def load_module(self, path: str, name: str, global_name: str | None = None) -> dict:
        """Import the submission as a module (``if __name__ == "__main__"`` blocks stay idle)."""
        with open(path, "rb") as fh:
            source = fh.read()
        code = compile(source, path, "exec")
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        exec(code, module.__dict__)
        self.module = module
        self.namespace = module.__dict__
        # A homework that trains at import leaves its network in a global, as a script does.
        return self.loaded(global_name)

    def load_script(self, path: str, global_name: str | None) -> dict:
        """Run a script-style homework as __main__, then find the object it trained."""
        with open(path, "rb") as fh:
            source = fh.read()
        code = compile(source, path, "exec")
        namespace: dict = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__}
        self.namespace = namespace
        try:
            exec(code, namespace)
        except BaseException as exc:  # sys.exit() too: what it defined stays gradable
            # A script that fails after training (a figure saved to a missing folder)
            # still has its network and its functions: the trusted side decides.
            return {**self.loaded(global_name), "error": describe(exc)}
        return self.loaded(global_name)

    def loaded(self, global_name: str | None) -> dict:
        """What a load reports: the public callables, and the network left in a global, if any."""
        namespace = self.namespace
        found = None
        named = [n for n in (global_name, *NETWORK_NAMES) if n and _has_forward(namespace.get(n))]
        if named:
            found = named[0]
        else:
            for key, value in list(namespace.items()):
                if not isinstance(value, type) and _has_forward(value):
                    found = key
                    break
        handle = None
        if found is not None:
            handle = self.new_handle(namespace[found])
        names = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("_"))
        numpy = sys.modules.get("numpy")
        versions = {"python": sys.version.split()[0]}
        if numpy is not None:
            versions["numpy"] = str(getattr(numpy, "__version__", "?"))
        return {"global": found, "handle": handle, "names": names, "versions": versions}

    # -- serving -----------------------------------------------------------------
    def new_handle(self, obj: object) -> int:
        handle = self.next_handle
        self.next_handle += 1
        self.handles[handle] = obj
        return handle

    def target(self, req: dict) -> object:
        if req.get("handle") is not None:
            obj = self.handles[req["handle"]]
            return getattr(obj, req["name"])
        name = req["name"]
        if name not in self.namespace:
            raise LookupError(f"your code does not define '{name}'")
        return self.namespace[name]

    def op_call(self, req: dict) -> object:
        fn = self.target(req)
        if not callable(fn):
            raise TypeError(f"'{req['name']}' is not a function")
        args, kwargs = req.get("args", ()), req.get("kwargs", {})
        args = [self.resolve(a) for a in args]
        kwargs = {k: self.resolve(v) for k, v in kwargs.items()}
        if req.get("handle") is not None:
            module = _torch_module(self.handles[req["handle"]])
            if module is not None and req["name"] in ("forward", "__call__"):
                return _torch_forward(module, args, kwargs)
        # No floating-point error state is set here: anything in this process is the
        # student's to change. Stability is judged by the values that come back.
        return fn(*args, **kwargs)

    def op_watched(self, req: dict) -> dict:
        """A call, and which of its arguments the call changed: {"value", "changed"}.

        The trusted side sends copies, so an input modified in place never reaches
        it; a rule such as "return a new array, do not modify w" can only be seen
        here, by comparing each argument (the plain data sent: arrays, and the dicts
        and lists holding them) with a copy taken before the call. ``changed`` names
        the positions ("0", "1", ...) and keywords of the arguments that differ.
        """
        args, kwargs = list(req.get("args", ())), dict(req.get("kwargs", {}))
        before = {str(i): copy.deepcopy(a) for i, a in enumerate(args) if not _reference(a)}
        before.update({k: copy.deepcopy(v) for k, v in kwargs.items() if not _reference(v)})
        value = self.op_call(req)
        now = {str(i): a for i, a in enumerate(args)} | kwargs
        changed = [key for key, old in before.items() if not _same(now[key], old)]
        return {"value": value, "changed": changed}

    def resolve(self, value: object) -> object:
        """An argument that names something already in the sandbox, as that thing.

        {"__handle__": n}: an object made earlier (a model, passed to the student's
        train function); {"__data__": "run0/X_train.npy"}: a public data file (the
        training set, loaded here rather than sent: 150 MB through a pipe per run).
        """
        if isinstance(value, dict) and len(value) == 1:
            if "__handle__" in value:
                return self.handles[value["__handle__"]]
            if "__data__" in value:
                return self.array(str(value["__data__"]))
        return value

    def op_new(self, req: dict) -> int:
        return self.new_handle(self.op_call(req))

    def op_get(self, req: dict) -> object:
        return self.target(req)

    def op_drop(self, req: dict) -> None:
        self.handles.pop(req["handle"], None)

    def op_set(self, req: dict) -> None:
        setattr(self.handles[req["handle"]], req["name"], req["value"])

    def op_arrays(self, req: dict) -> dict:
        """The object's NumPy array attributes by name (its parameters, for gradient checks)."""
        import numpy as np

        obj = self.handles[req["handle"]]
        return {
            k: np.array(v)
            for k, v in vars(obj).items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f"
        }

    def op_epoch(self, req: dict) -> int:
        """One epoch of minibatch training on public data already inside the sandbox.

        Runs here rather than batch by batch over the pipe so that grading costs
        what training costs. The trusted side never relies on it: whatever
        happens here, accuracy is measured later on images whose labels never
        enter the sandbox.
        """
        import numpy as np

        x = self.array(req["x"])
        y = self.array(req["y"])
        step = getattr(self.handles[req["handle"]], req.get("method", "step"))
        if req.get("order") is not None:
            # The trusted side chose the batches (so it can replay them exactly).
            order = np.asarray(req["order"], dtype=np.int64)
            if order.ndim != 1 or (order.size and (order.min() < 0 or order.max() >= len(x))):
                raise ValueError("the batch order does not index the training data")
        else:
            order = np.random.default_rng(req.get("seed", 0)).permutation(len(x))
        batch = int(req.get("batch_size", 64))
        classes = req.get("one_hot")
        eye = np.eye(int(classes)) if classes else None
        for start in range(0, len(x), batch):
            idx = order[start : start + batch]
            yb = eye[y[idx]] if eye is not None else y[idx]
            step(x[idx], yb)
        return len(x)

    def array(self, rel: str):
        import numpy as np

        if not hasattr(self, "_arrays"):
            self._arrays = {}
        if rel not in self._arrays:
            self._arrays[rel] = np.load(os.path.join(self.root, "data", rel), allow_pickle=False)
        return self._arrays[rel]

    def serve(self) -> None:
        while True:
            try:
                req = codec.recv(self.proto_in, codec.DEFAULT_MAX_BYTES)
            except EOFError:
                return
            rid = req.get("id") if isinstance(req, dict) else None
            self.sampler.begin(rid)
            try:
                op = getattr(self, "op_" + str(req["op"]))
                value = to_plain(op(req))
                payload = codec.encode({"id": rid, "ok": True, "value": value, "rss_kb": peak_kb()})
            except BaseException as exc:
                payload = codec.encode(
                    {"id": rid, "ok": False, "error": describe(exc), "rss_kb": peak_kb()}
                )
            self.sampler.end()
            sys.stdout.flush()
            sys.stderr.flush()
            with self.write_lock:
                codec.write_frame(self.proto_out, payload)


def _reference(value: object) -> bool:
    """Whether an argument names something in the sandbox (see Runner.resolve)."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and bool({"__handle__", "__data__"} & set(value))
    )


def _same(now: object, before: object) -> bool:
    """Whether an argument still holds what it held before the call (arrays bit for bit)."""
    import numpy as np

    if isinstance(before, np.ndarray):
        return (
            isinstance(now, np.ndarray)
            and now.shape == before.shape
            and now.dtype == before.dtype
            and bool(np.array_equal(now, before, equal_nan=before.dtype.kind in "fc"))
        )
    if isinstance(before, dict):
        return (
            isinstance(now, dict)
            and list(now) == list(before)
            and all(_same(now[k], before[k]) for k in before)
        )
    if isinstance(before, list | tuple):
        return (
            type(now) is type(before)
            and len(now) == len(before)
            and all(_same(a, b) for a, b in zip(now, before, strict=True))
        )
    if isinstance(before, float) and before != before:
        return isinstance(now, float) and now != now
    return type(now) is type(before) and now == before


def _torch_module(obj: object) -> object | None:
    """``obj`` if it is a torch ``nn.Module`` (torch imported by the student), else None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    return obj if isinstance(obj, torch.nn.Module) else None


def _torch_forward(module, args: list, kwargs: dict) -> object:
    """Call a PyTorch network on arrays the way its own test loop would: the arrays as
    tensors on the device and in the dtype of its parameters, in eval mode (dropout off),
    without gradients; its training mode is restored afterwards."""
    import numpy as np

    torch = sys.modules["torch"]
    first = next(iter(module.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32

    def tensor(value: object) -> object:
        if not isinstance(value, np.ndarray):
            return value
        out = torch.from_numpy(np.ascontiguousarray(value)).to(device)
        return out.to(dtype) if value.dtype.kind == "f" else out

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return module(*[tensor(a) for a in args], **{k: tensor(v) for k, v in kwargs.items()})
    finally:
        module.train(was_training)


def _has_forward(value: object) -> bool:
    """Whether a global looks like a network; an object whose lookups raise is not one."""
    try:
        return callable(getattr(value, "forward", None))
    except Exception:  # a lazy proxy, or a hostile __getattr__
        return False


def peak_kb() -> int:
    """This process's peak resident memory: reported for the report, never judged."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def to_plain(value: object) -> object:
    """Turn tensors into arrays (a courtesy for PyTorch homework); the codec rejects the rest."""
    mod = type(value).__module__ or ""
    if mod.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    try:
        codec.encode(value, max_bytes=codec.DEFAULT_MAX_BYTES)
    except codec.CodecError as exc:
        raise TypeError(f"the value returned cannot be graded: {exc}") from None
    return value


def describe(exc: BaseException) -> dict:
    """The exception as the student should see it: type, message, and their own frames only."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(WORK) or f.filename == "<string>"
    ]
    lines = traceback.format_list(frames)
    if isinstance(exc, SyntaxError):
        lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).replace(WORK + "/", "")
    tb_lines = text.splitlines()[-MAX_TRACEBACK_LINES:]
    try:
        message = str(exc)
    except BaseException:
        message = "<unprintable exception>"
    return {"type": type(exc).__name__, "message": message[:2000], "traceback": tb_lines}


def open_channel(path: str) -> None:
    """Speak the protocol over the trusted side's socket: requests on fd 0, replies on fd 1.

    In a Docker sandbox (grader/sandbox/channel.py): its pipes are relayed by the
    Docker engine, a socket is not. Connected before the submission is imported;
    the trusted side accepts these two connections and no more.
    """
    import socket

    for fd, tag in ((0, b"<"), (1, b">")):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        conn.sendall(tag)
        os.dup2(conn.fileno(), fd)
        conn.close()


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "/sandbox"
    if sys.argv[2:3] == ["--channel"]:
        open_channel(sys.argv[3])
        del sys.argv[2:4]  # the submission sees the arguments a sandbox without one gives
    # Keep private copies of the protocol pipes, then point fds 0/1 away from them,
    # so print() and os.write(1, ...) in student code land in the captured output.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = os.fdopen(1, "w", buffering=1, errors="replace")
    Runner(root, proto_in, proto_out).serve()
    # The trusted side closed the channel: the grading is over, and it waits for this
    # process to end before it reads the last output. What was printed is flushed; the
    # interpreter's own teardown (every module's, numpy's and torch's: 20 ms and more)
    # would only make it wait, and the sandbox is killed and removed after it anyway.
    for stream in (sys.stdout, sys.stderr):
        # A stream the student replaced or closed: nothing more of it to keep.
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
