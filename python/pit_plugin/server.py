"""Serving a pit plugin over go-plugin's gRPC protocol.

What a go-plugin host expects of a plugin process, done here so plugin
authors never see it:

- the magic cookie in the environment (else: explain and exit 1);
- a gRPC server on 127.0.0.1 serving the plugin's service, gRPC health
  ("plugin" SERVING), go-plugin's broker and controller;
- the handshake line "1|1|tcp|ADDR|grpc" as the first line on stdout, after
  which stdout is redirected to stderr (a stray print cannot break the
  protocol);
- graceful shutdown on the controller's Shutdown or SIGTERM; SIGINT is
  ignored (the host decides when plugins stop), and the process exits when
  its parent dies (no orphans after a host is killed with -9).

The host offers reward plugins its model service through the broker: it
announces a connection (service id, network, address) on the broker stream
and names the id in each ScoreRequest; ModelService dials it.
"""

import json
import os
import signal
import sys
import threading
import time
import traceback
from concurrent import futures

import grpc

from .config import ConfigError, decode_config
from .types import Comparison, Input, Pair, Score, Comparisons

from pit.plugin.v1 import plugin_pb2
from pit.reward.v1 import reward_pb2, reward_pb2_grpc
from goplugin import goplugin_pb2, goplugin_pb2_grpc
from grpchealth import health_pb2, health_pb2_grpc
from google.protobuf import json_format, struct_pb2

__all__ = ["serve", "log", "ModelService", "MAGIC_COOKIE_KEY", "MAGIC_COOKIE_VALUE"]

# Must match plugins/sdk.Handshake in the Go SDK.
MAGIC_COOKIE_KEY = "PIT_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "a1c7d0c4-pit-self-improvement-plugins"
CORE_PROTOCOL_VERSION = 1  # go-plugin's
APP_PROTOCOL_VERSION = 1  # pit's (plugins/sdk.ProtocolVersion)
MAX_MESSAGE_SIZE = 64 << 20  # plugins/sdk.MaxMessageSize

_LEVELS = ("trace", "debug", "info", "warn", "error")


def log(level, message, **fields):
    """Logs one line to stderr in hclog's JSON form; the host relays it into
    its own log under the plugin's name. level: trace, debug, info, warn,
    error."""
    if level not in _LEVELS:
        level = "info"
    rec = {"@level": level, "@message": str(message),
           "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())}
    for k, v in fields.items():
        rec[k] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
    sys.__stderr__.write(json.dumps(rec) + "\n")
    sys.__stderr__.flush()


def _value_to_proto(v):
    val = struct_pb2.Value()
    json_format.ParseDict(v, val)
    return val


def _inputs_to_proto(items):
    return [reward_pb2.Input(prompt=list(it.prompt), reference=list(it.reference),
                             response=list(it.response)) for it in items]


def _inputs_from_proto(items):
    return [Input(list(it.prompt), list(it.reference), list(it.response)) for it in items]


class _Broker(goplugin_pb2_grpc.GRPCBrokerServicer):
    """go-plugin's broker, plugin side: records the connections the host
    announces so that the plugin can dial them."""

    def __init__(self, done):
        self._done = done
        self._cond = threading.Condition()
        self._conns = {}

    def StartStream(self, request_iterator, context):
        def read():
            try:
                for info in request_iterator:
                    with self._cond:
                        self._conns[info.service_id] = info
                        self._cond.notify_all()
            except Exception:  # the stream ends with the host
                pass

        threading.Thread(target=read, daemon=True).start()
        # The plugin never offers connections of its own: keep the stream
        # open, sending nothing, until the host or the plugin goes away.
        while context.is_active() and not self._done.wait(0.5):
            pass
        return iter(())

    def wait(self, service_id, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while service_id not in self._conns:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"the host announced no broker connection {service_id} "
                                       f"within {timeout:g}s")
                self._cond.wait(left)
            return self._conns[service_id]


class ModelService:
    """The host's model service as a reward plugin sees it: score(model,
    items) returns one float per Input with the named model ("reward",
    "oracle", "rubric", ...)."""

    def __init__(self, stub=None):
        self._stub = stub

    def score(self, model, items):
        items = list(items)
        if self._stub is None:
            raise RuntimeError(f'model service: the host offers no models (asked for "{model}")')
        resp = self._stub.Score(reward_pb2.ModelScoreRequest(model=model, items=_inputs_to_proto(items)))
        if len(resp.scores) != len(items):
            raise RuntimeError(f"model service: {len(resp.scores)} scores for {len(items)} items")
        return list(resp.scores)


class _Base:
    """The RPCs every plugin kind shares."""

    def __init__(self, plugin, lock):
        self.p = plugin
        self.lock = lock

    def Describe(self, request, context):
        p = self.p
        caps = list(getattr(p, "capabilities", []))
        if hasattr(p, "save_state") and "stateful" not in caps:
            caps.append("stateful")
        d = plugin_pb2.Description(
            name=p.name, version=p.version, kind=p.kind, summary=getattr(p, "summary", ""),
            capabilities=caps,
            needs_learned_model=bool(getattr(p, "needs_learned_model", False)),
            reference_conditioned=bool(getattr(p, "reference_conditioned", False)))
        for f in p.config:
            cf = plugin_pb2.ConfigField(name=f.name, type=f.type, doc=f.doc)
            if f.default is not None:
                cf.default.CopyFrom(_value_to_proto(f.default))
            d.config.append(cf)
        return d

    def Configure(self, request, context):
        raw = json_format.MessageToDict(request.config) if request.HasField("config") else {}
        with self.lock:
            try:
                values = decode_config(raw, self.p.config)
                self.p.configure(values, request.seed)
            except ConfigError as e:
                return plugin_pb2.ConfigureResponse(errors=e.errors)
        return plugin_pb2.ConfigureResponse()

    def SaveState(self, request, context):
        if not hasattr(self.p, "save_state"):
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{self.p.name} is not stateful")
        with self.lock:
            return plugin_pb2.SaveStateResponse(state=self.p.save_state())

    def RestoreState(self, request, context):
        if not hasattr(self.p, "restore_state"):
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{self.p.name} is not stateful")
        with self.lock:
            self.p.restore_state(bytes(request.state))
        return plugin_pb2.RestoreStateResponse()


class _Reward(_Base, reward_pb2_grpc.RewardFormulationServicer):
    def __init__(self, plugin, lock, broker):
        super().__init__(plugin, lock)
        self.broker = broker
        self.models = {}

    def _models(self, service_id):
        if service_id == 0:
            return ModelService()
        if service_id not in self.models:
            info = self.broker.wait(service_id)
            target = f"unix:{info.address}" if info.network == "unix" else info.address
            channel = grpc.insecure_channel(target, options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_SIZE),
                ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE)])
            self.models[service_id] = ModelService(reward_pb2_grpc.ModelServiceStub(channel))
        return self.models[service_id]

    def Comparisons(self, request, context):
        pairs = [Pair(list(p.prompt), list(p.chosen), list(p.rejected)) for p in request.pairs]
        with self.lock:
            out = self.p.comparisons(pairs)
        if not isinstance(out, Comparisons):
            raise TypeError(f"comparisons returned {type(out).__name__}, want pit_plugin.Comparisons")
        resp = reward_pb2.ComparisonsResponse(inputs=_inputs_to_proto(out.inputs),
                                              pair=list(out.pair), tag=list(out.tag))
        for c in out.comparisons:
            resp.comparisons.append(reward_pb2.Comparison(better=c.better, worse=c.worse,
                                                          margin=c.margin, weight=c.weight))
        return resp

    def Score(self, request, context):
        with self.lock:
            models = self._models(request.model_service)
            out = self.p.score(_inputs_from_proto(request.items), models)
        if not isinstance(out, Score):
            raise TypeError(f"score returned {type(out).__name__}, want pit_plugin.Score")
        resp = reward_pb2.ScoreResponse(rewards=[float(r) for r in out.rewards])
        for name, values in out.components.items():
            resp.components[name].values.extend(float(v) for v in values)
        return resp


class _Health(health_pb2_grpc.HealthServicer):
    def __init__(self, done):
        self.done = done

    def Check(self, request, context):
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    def Watch(self, request, context):
        yield health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
        while context.is_active() and not self.done.wait(0.5):
            pass


class _Controller(goplugin_pb2_grpc.GRPCControllerServicer):
    def __init__(self, done):
        self.done = done

    def Shutdown(self, request, context):
        # Answer first, then stop: the host waits for the reply.
        threading.Timer(0.05, self.done.set).start()
        return goplugin_pb2.Empty()


def _errors_as_status(servicer):
    """Wraps every RPC so that an exception in plugin code reaches the host
    as a gRPC error carrying its message (and its traceback on stderr)."""
    for name in dir(type(servicer)):
        if name.startswith("_") or not name[0].isupper():
            continue
        method = getattr(servicer, name)
        if not callable(method):
            continue

        def wrapped(request, context, _m=method, _n=name):
            try:
                return _m(request, context)
            except grpc.RpcError:
                raise
            except Exception as e:  # plugin bug or bad input: tell the host
                if context.code() is not None:  # context.abort was called
                    raise
                traceback.print_exc(file=sys.__stderr__)
                context.abort(grpc.StatusCode.UNKNOWN, f"{type(e).__name__}: {e}")

        setattr(servicer, name, wrapped)
    return servicer


def _watch_parent(done):
    parent = os.getppid()
    while not done.wait(1.0):
        if os.getppid() != parent:  # re-parented: the host died
            log("warn", "host process gone; exiting")
            done.set()


def serve(plugin):
    """Serves plugin (for now a reward formulation: an object with kind
    "reward"; see pit_plugin.Reward) until the host stops it. Never returns
    normally: it exits the process."""
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(
            "This binary is a plugin. These are not meant to be executed directly.\n"
            "Please execute the program that consumes these plugins, which will\n"
            "load any plugins automatically (pit run, pit validate).\n")
        sys.exit(1)
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(APP_PROTOCOL_VERSION)).split(",")
    if str(APP_PROTOCOL_VERSION) not in [v.strip() for v in versions]:
        sys.stderr.write(f"pit_plugin: the host speaks plugin protocol versions {versions}, "
                         f"this plugin speaks {APP_PROTOCOL_VERSION}\n")
        sys.exit(1)
    if getattr(plugin, "kind", None) != "reward":
        raise ValueError(f"pit_plugin.serve: kind {getattr(plugin, 'kind', None)!r} is not supported "
                         "(the Python SDK serves reward formulations)")

    done = threading.Event()
    lock = threading.Lock()
    broker = _Broker(done)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[
        ("grpc.max_send_message_length", MAX_MESSAGE_SIZE),
        ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE)])
    reward_pb2_grpc.add_RewardFormulationServicer_to_server(
        _errors_as_status(_Reward(plugin, lock, broker)), server)
    health_pb2_grpc.add_HealthServicer_to_server(_Health(done), server)
    goplugin_pb2_grpc.add_GRPCBrokerServicer_to_server(broker, server)
    goplugin_pb2_grpc.add_GRPCControllerServicer_to_server(_Controller(done), server)
    port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        sys.stderr.write("pit_plugin: could not listen on 127.0.0.1\n")
        sys.exit(1)
    server.start()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=_watch_parent, args=(done,), daemon=True).start()

    sys.stdout.write(f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|127.0.0.1:{port}|grpc\n")
    sys.stdout.flush()
    sys.stdout = sys.stderr  # nothing else may reach the host's stdout reader

    while not done.wait(0.5):
        pass
    server.stop(grace=1.0).wait()
    sys.exit(0)
