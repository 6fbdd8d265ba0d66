"""Serving a pit plugin over go-plugin's gRPC protocol.

What a go-plugin host expects of a plugin process, done here so plugin
authors never see it:

- the magic cookie in the environment (else: explain and exit 1);
- a gRPC server on a Unix socket in the directory the host names
  (PLUGIN_UNIX_SOCKET_DIR, private to the user) serving the plugin's
  service, gRPC health ("plugin" SERVING), go-plugin's broker and
  controller;
- go-plugin's AutoMTLS: when the host sends its certificate
  (PLUGIN_CLIENT_CERT) the server makes its own key pair, accepts only
  clients with the host's certificate and sends its own in the handshake;
- the handshake line "1|1|unix|PATH|grpc|CERT" as the first line on
  stdout, after which stdout is redirected to stderr (a stray print cannot
  break the protocol);
- graceful shutdown on the controller's Shutdown (so the host logs no
  "failed to exit gracefully" and waits no two seconds) or SIGTERM; SIGINT
  is ignored (the host decides when plugins stop), and the process exits
  when its parent dies (the host also has the kernel kill it).

The host offers reward plugins its model service through the broker: it
announces a connection (service id, network, address) on the broker stream
and names the id in each ScoreRequest; ModelService dials it (with the
same certificates).
"""

import base64
import datetime
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from concurrent import futures

import grpc

from . import _deps
from .config import ConfigError, decode_config
from .types import (AdvantagesRequest, AdvantagesResponse, Comparisons, Input, Knobs,
                    NextRequest, NextResponse, Pair, Score)

from pit.plugin.v1 import plugin_pb2
from pit.reward.v1 import reward_pb2, reward_pb2_grpc
from pit.algorithm.v1 import algorithm_pb2, algorithm_pb2_grpc
from pit.curriculum.v1 import curriculum_pb2, curriculum_pb2_grpc
from goplugin import goplugin_pb2, goplugin_pb2_grpc
from grpchealth import health_pb2, health_pb2_grpc
from google.protobuf import json_format, struct_pb2

__all__ = ["serve", "log", "ModelService", "MAGIC_COOKIE_KEY", "MAGIC_COOKIE_VALUE"]

# Must match hostconn.Handshake (plugins/sdk/internal/wire) in the Go SDK.
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
    def __init__(self, plugin, lock, broker, tls):
        super().__init__(plugin, lock)
        self.broker = broker
        self.tls = tls
        self.models = {}

    def _models(self, service_id):
        if service_id == 0:
            return ModelService()
        if service_id not in self.models:
            info = self.broker.wait(service_id)
            target = f"unix:{info.address}" if info.network == "unix" else info.address
            options = [("grpc.max_send_message_length", MAX_MESSAGE_SIZE),
                       ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE)]
            if self.tls is None:
                channel = grpc.insecure_channel(target, options=options)
            else:
                channel = grpc.secure_channel(target, self.tls.channel_credentials(), options=options + [
                    ("grpc.ssl_target_name_override", "localhost")])
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


def _matrix_from_proto(name, m):
    rows, cols, data = m.rows, m.cols, list(m.data)
    if rows < 0 or cols < 0 or rows * cols != len(data):
        raise ValueError(f"{name}: ragged or malformed matrix ({rows} rows × {cols} cols, {len(data)} values)")
    return [data[i * cols:(i + 1) * cols] for i in range(rows)]


def _matrix_to_proto(rows):
    cols = len(rows[0]) if rows else 0
    flat = [float(x) for r in rows for x in r]
    # Ragged: send a shape that cannot be satisfied so the host reports it.
    return algorithm_pb2.Matrix(rows=len(rows), cols=cols if len(flat) == len(rows) * cols else -1, data=flat)


def _knobs_to_proto(k):
    if not isinstance(k, Knobs):
        raise TypeError(f"knobs are a {type(k).__name__}, want pit_plugin.Knobs")
    return algorithm_pb2.LossKnobs(
        clip_range=k.clip_range, value_coef=k.value_coef, value_clip=k.value_clip, kl_coef=k.kl_coef,
        kl_in_loss=k.kl_in_loss, kl_estimator=k.kl_estimator, entropy_coef=k.entropy_coef,
        epochs=k.epochs, samples_per_prompt=k.samples_per_prompt, greedy_baseline=k.greedy_baseline)


class _Algorithm(_Base, algorithm_pb2_grpc.AlgorithmServicer):
    def Knobs(self, request, context):
        with self.lock:
            return _knobs_to_proto(self.p.knobs())

    def Advantages(self, request, context):
        try:
            req = AdvantagesRequest(
                step=request.step,
                logprobs=_matrix_from_proto("logprobs", request.logprobs),
                ref_logprobs=_matrix_from_proto("ref_logprobs", request.ref_logprobs),
                values=_matrix_from_proto("values", request.values) if request.HasField("values") else None,
                mask=_matrix_from_proto("mask", request.mask),
                rewards=request.rewards, groups=request.groups, greedy_rewards=request.greedy_rewards)
        except ValueError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        with self.lock:
            out = self.p.advantages(req)
        if not isinstance(out, AdvantagesResponse):
            raise TypeError(f"advantages returned {type(out).__name__}, want pit_plugin.AdvantagesResponse")
        return algorithm_pb2.AdvantagesResponse(
            advantages=_matrix_to_proto(out.advantages), returns=_matrix_to_proto(out.returns),
            knobs=_knobs_to_proto(out.knobs), stats=out.stats)

    def Observe(self, request, context):
        with self.lock:
            self.p.observe(request.step, dict(request.stats))
        return plugin_pb2.ObserveResponse()


class _Curriculum(_Base, curriculum_pb2_grpc.CurriculumServicer):
    def Next(self, request, context):
        req = NextRequest(step=request.step, total_steps=request.total_steps,
                          batch_size=request.batch_size, stats=dict(request.stats))
        with self.lock:
            out = self.p.next(req)
        if not isinstance(out, NextResponse):
            raise TypeError(f"next returned {type(out).__name__}, want pit_plugin.NextResponse")
        return curriculum_pb2.NextResponse(counts=out.counts, probs=out.probs, round=out.round,
                                           phase=out.phase, refresh_reward=out.refresh_reward)

    def Observe(self, request, context):
        with self.lock:
            self.p.observe(request.step, dict(request.stats))
        return plugin_pb2.ObserveResponse()


class _TLS:
    """go-plugin's AutoMTLS, plugin side: a fresh self-signed certificate
    for "localhost" (the host pins it from the handshake), and the host's
    certificate as the only accepted client."""

    def __init__(self, client_pem):
        _deps.require_cryptography()
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pit plugin"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(seconds=30))
                .not_valid_after(now + datetime.timedelta(days=30 * 365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                             content_commitment=False, data_encipherment=False,
                                             key_agreement=False, crl_sign=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                      ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(key, hashes.SHA256()))
        self.client_pem = client_pem
        self.key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        # go-plugin reads the certificate as unpadded standard base64 DER.
        self.handshake = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode().rstrip("=")

    def server_credentials(self):
        return grpc.ssl_server_credentials([(self.key_pem, self.cert_pem)],
                                           root_certificates=self.client_pem, require_client_auth=True)

    def channel_credentials(self):
        return grpc.ssl_channel_credentials(root_certificates=self.client_pem, private_key=self.key_pem,
                                            certificate_chain=self.cert_pem)


def _socket_path():
    """A fresh socket path in the host's private directory (or a private
    one of our own when run without it)."""
    d = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.mkdtemp(prefix="pit-plugin-")
    fd, path = tempfile.mkstemp(prefix="plugin", dir=d)
    os.close(fd)
    os.remove(path)
    return path


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
    """Serves plugin until the host stops it: a reward formulation, an RL
    algorithm or a curriculum strategy (an object whose kind is "reward",
    "algorithm" or "curriculum"; see pit_plugin.Reward, Algorithm and
    Curriculum). Never returns normally: it exits the process."""
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
    kind = getattr(plugin, "kind", None)
    if kind not in ("reward", "algorithm", "curriculum"):
        raise ValueError(f"pit_plugin.serve: kind {kind!r} is not a plugin kind "
                         "(subclass pit_plugin.Reward, Algorithm or Curriculum)")

    # AutoMTLS when the host asks for it (pit always does).
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "")
    tls = _TLS(client_cert.encode()) if client_cert else None

    done = threading.Event()
    lock = threading.Lock()
    broker = _Broker(done)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[
        ("grpc.max_send_message_length", MAX_MESSAGE_SIZE),
        ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE)])
    if kind == "reward":
        reward_pb2_grpc.add_RewardFormulationServicer_to_server(
            _errors_as_status(_Reward(plugin, lock, broker, tls)), server)
    elif kind == "algorithm":
        algorithm_pb2_grpc.add_AlgorithmServicer_to_server(_errors_as_status(_Algorithm(plugin, lock)), server)
    else:
        curriculum_pb2_grpc.add_CurriculumServicer_to_server(_errors_as_status(_Curriculum(plugin, lock)), server)
    health_pb2_grpc.add_HealthServicer_to_server(_Health(done), server)
    goplugin_pb2_grpc.add_GRPCBrokerServicer_to_server(broker, server)
    goplugin_pb2_grpc.add_GRPCControllerServicer_to_server(_Controller(done), server)
    path = _socket_path()
    if tls is None:
        ok = server.add_insecure_port("unix:" + path)
    else:
        ok = server.add_secure_port("unix:" + path, tls.server_credentials())
    if not ok:
        sys.stderr.write(f"pit_plugin: could not listen on the Unix socket {path}\n")
        sys.exit(1)
    server.start()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=_watch_parent, args=(done,), daemon=True).start()

    line = f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|unix|{path}|grpc"
    if tls is not None:
        line += "|" + tls.handshake
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    sys.stdout = sys.stderr  # nothing else may reach the host's stdout reader

    while not done.wait(0.5):
        pass
    server.stop(grace=1.0).wait()
    try:
        os.remove(path)
    except OSError:
        pass
    sys.exit(0)
