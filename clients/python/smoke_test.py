#!/usr/bin/env python3
"""End-to-end smoke test of the tim gRPC gateway from Python, run by `cargo xtask ci`.

    python3 clients/python/smoke_test.py --tim target/debug/tim

It compiles `proto/tim/v1/*.proto` with grpc_tools.protoc into a temporary directory (nothing is committed), starts
`tim serve` on loopback ports with one caller token and no Tencent credentials (so the gateway answers from its
embedded emulator), and checks what a Python caller sees: health, reflection, authentication, typed calls, the
error detail of an invalid request, the generic REST call, a 20,000-recipient fan-out (and what the emulator stored)
and the metrics endpoint.
One line per check; exit status 0 only when every check passed. The gateway's output is printed on failure.

Only grpcio, grpcio-tools, grpcio-health-checking, grpcio-reflection and the standard library are used.
"""

import argparse
import collections
import glob
import importlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request

import grpc
import grpc_tools
from grpc_tools import protoc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from grpc_status import rpc_status
from google.rpc import error_details_pb2

ADMIN = "administrator"
BANNER_TIMEOUT_SECS = 60
# The embedded emulator runs with quotas off, so the fan-out takes well under a second; with quotas on, the gateway
# paces batchsendmsg to Tencent's default (12,000 recipients a minute) and 20,000 recipients take a minute or two.
FANOUT_TIMEOUT_SECS = 600
CALL_TIMEOUT_SECS = 30
FANOUT_UNIQUE = 20_000
FANOUT_BATCH_LINES = 2_000
RPC_STATUS_PROTO = """
syntax = "proto3";
package tim_smoke;
import "google/protobuf/any.proto";
// Wire-compatible with google.rpc.Status.
message RpcStatus {
  int32 code = 1;
  string message = 2;
  repeated google.protobuf.Any details = 3;
}
"""
EXPECTED_SERVICES = ("tim.v1.MessageService", "tim.v1.FanoutService", "tim.v1.RestService")


class CheckFailed(Exception):
    """A check's assertion did not hold; the message says what was expected and what came."""


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def describe_rpc_error(error):
    return f"{error.code().name}: {error.details()!r}"


# --- stubs -----------------------------------------------------------------------------------------------------


def generate_stubs(proto_root, out_dir):
    """Compiles every proto/tim/v1/*.proto into out_dir and imports the modules the checks use."""
    files = sorted(os.path.relpath(p, proto_root) for p in glob.glob(os.path.join(proto_root, "tim", "v1", "*.proto")))
    if not files:
        raise SystemExit(f"smoke_test: no .proto files under {proto_root}/tim/v1")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = ["grpc_tools.protoc", f"-I{proto_root}", f"-I{well_known}", f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}", *files]
    if protoc.main(args) != 0:
        raise SystemExit(f"smoke_test: grpc_tools.protoc failed on {files}")
    # google.rpc.Status, to read grpc-status-details-bin; the googleapis protos are not installed, and only its
    # wire format matters, so it is declared here under a package of this script's own.
    extra = os.path.join(out_dir, "extra_protos")
    os.makedirs(os.path.join(extra, "tim_smoke"))
    with open(os.path.join(extra, "tim_smoke", "rpc_status.proto"), "w", encoding="utf-8") as proto:
        proto.write(RPC_STATUS_PROTO)
    args = ["grpc_tools.protoc", f"-I{extra}", f"-I{well_known}", f"--python_out={out_dir}",
            "tim_smoke/rpc_status.proto"]
    if protoc.main(args) != 0:
        raise SystemExit("smoke_test: grpc_tools.protoc failed on google.rpc.Status")
    sys.path.insert(0, out_dir)
    names = ("common", "accounts", "messages", "fanout", "rest")
    pb2 = {name: importlib.import_module(f"tim.v1.{name}_pb2") for name in names}
    pb2["rpc_status"] = importlib.import_module("tim_smoke.rpc_status_pb2")
    grpc_mods = {name: importlib.import_module(f"tim.v1.{name}_pb2_grpc") for name in names}
    return pb2, grpc_mods


# --- the gateway process ---------------------------------------------------------------------------------------


class Gateway:
    """`tim serve` as a subprocess; both output streams are drained by threads for as long as it runs."""

    GRPC_RE = re.compile(r"gRPC on (\S+) ")
    METRICS_RE = re.compile(r"metrics on (\S+)")
    EMULATOR_RE = re.compile(r"(https?://\S+?)/emulator/stats")

    def __init__(self, binary, token):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIM_")}
        env.update({
            "TIM_LISTEN": "127.0.0.1:0",
            "TIM_METRICS_LISTEN": "127.0.0.1:0",
            "TIM_CALLER_TOKENS": f"python={token}",
        })
        self.output = []
        self.lock = threading.Lock()
        self.banner = None
        self.banner_seen = threading.Event()
        self.process = subprocess.Popen([binary, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1)
        self.threads = [
            threading.Thread(target=self._drain, args=(self.process.stdout, "stdout", True), daemon=True),
            threading.Thread(target=self._drain, args=(self.process.stderr, "stderr", False), daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _drain(self, stream, name, look_for_banner):
        for line in stream:
            line = line.rstrip("\n")
            with self.lock:
                self.output.append(f"[{name}] {line}")
            if look_for_banner and self.banner is None and self.GRPC_RE.search(line):
                self.banner = line
                self.banner_seen.set()
        if look_for_banner:
            self.banner_seen.set()  # end of stream: wake the waiter, which then sees no banner

    def wait_for_banner(self):
        """Returns (gRPC address, metrics URL) from the banner line, or raises after BANNER_TIMEOUT_SECS."""
        if not self.banner_seen.wait(BANNER_TIMEOUT_SECS):
            raise CheckFailed(f"no banner line matching {self.GRPC_RE.pattern!r} on stdout within "
                              f"{BANNER_TIMEOUT_SECS} s")
        if self.banner is None:
            try:
                status = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                status = "none yet: still running"
            raise CheckFailed(f"tim serve closed stdout without a banner (exit status {status})")
        grpc_address = self.GRPC_RE.search(self.banner).group(1)
        metrics = self.METRICS_RE.search(self.banner)
        require(metrics is not None, f"banner has no 'metrics on URL': {self.banner!r}")
        return grpc_address, metrics.group(1).rstrip(",.;")

    def emulator_url(self):
        """The embedded emulator's base URL, from the line announcing `URL/emulator/stats` (None when absent)."""
        with self.lock:
            lines = [line for line in self.output if line.startswith("[stdout]")]
        for line in lines:
            found = self.EMULATOR_RE.search(line)
            if found:
                return found.group(1)
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for thread in self.threads:
            thread.join(timeout=5)

    def dump(self, limit=300):
        with self.lock:
            lines = list(self.output)
        print(f"--- tim serve output (exit status {self.process.poll()}, last {min(limit, len(lines))} of "
              f"{len(lines)} lines) ---")
        for line in lines[-limit:]:
            print(line)
        print("--- end of tim serve output ---")


# --- the checks ------------------------------------------------------------------------------------------------


class Smoke:
    def __init__(self, pb2, grpc_mods, channel, token, metrics_url, emulator_url):
        self.pb2 = pb2
        self.grpc = grpc_mods
        self.channel = channel
        self.token = token
        self.metrics_url = metrics_url
        self.emulator_url = emulator_url
        self.auth = (("authorization", f"Bearer {token}"),)
        self.messages = grpc_mods["messages"].MessageServiceStub(channel)
        self.accounts = grpc_mods["accounts"].AccountServiceStub(channel)
        self.rest = grpc_mods["rest"].RestServiceStub(channel)
        self.fanout = grpc_mods["fanout"].FanoutServiceStub(channel)
        self.user = f"py_smoke_{secrets.token_hex(6)}"
        self.sent = None  # (msg_key, msg_random) of the SendMsg check, read back by the REST check
        self.fanout_result = None  # what the fan-out check saw, judged by the two checks after it

    def text_body(self, text):
        common = self.pb2["common"]
        return [common.MsgElement(text=common.TextElem(text=text))]

    def send_request(self, **overrides):
        fields = {"from_account": ADMIN, "to_account": self.user, "msg_body": self.text_body("hello from python")}
        fields.update(overrides)
        return self.pb2["messages"].SendMsgRequest(**fields)

    def expect_code(self, call, expected):
        """Runs call(); it must fail with `expected`. Returns the grpc.RpcError."""
        try:
            answer = call()
        except grpc.RpcError as error:
            require(error.code() == expected, f"expected {expected.name}, got {describe_rpc_error(error)}")
            return error
        raise CheckFailed(f"expected {expected.name}, but the call succeeded: {answer!r}")

    def health(self):
        stub = health_pb2_grpc.HealthStub(self.channel)
        answer = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=CALL_TIMEOUT_SECS)
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        require(answer.status == health_pb2.HealthCheckResponse.SERVING, f"status {status}, expected SERVING")
        return f"status {status} (no token)"

    def reflection(self):
        # grpcio-reflection ships the v1alpha messages only; v1's are the same on the wire, so one pair of
        # serializers serves both paths. v1 first, v1alpha when the server does not offer v1.
        errors = []
        for version in ("v1", "v1alpha"):
            method = f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo"
            call = self.channel.stream_stream(
                method,
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            try:
                answers = list(call(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                    metadata=self.auth, timeout=CALL_TIMEOUT_SECS))
            except grpc.RpcError as error:
                errors.append(f"{version}: {describe_rpc_error(error)}")
                if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                    continue
                raise CheckFailed("; ".join(errors))
            require(len(answers) == 1, f"{version}: expected one answer to list_services, got {len(answers)}")
            answer = answers[0]
            require(answer.WhichOneof("message_response") == "list_services_response",
                    f"{version}: expected list_services_response, got {answer!r}")
            names = sorted(s.name for s in answer.list_services_response.service)
            missing = [s for s in EXPECTED_SERVICES if s not in names]
            require(not missing, f"{version}: {missing} not listed; listed: {names}")
            return f"{version} lists {len(names)} services, including {', '.join(EXPECTED_SERVICES)}"
        raise CheckFailed("no reflection service: " + "; ".join(errors))

    def unauthenticated_without_token(self):
        error = self.expect_code(lambda: self.messages.SendMsg(self.send_request(), timeout=CALL_TIMEOUT_SECS),
                                 grpc.StatusCode.UNAUTHENTICATED)
        return f"{error.code().name}: {error.details()!r}"

    def unauthenticated_with_wrong_token(self):
        wrong = (("authorization", f"Bearer {secrets.token_hex(16)}"),)
        error = self.expect_code(
            lambda: self.messages.SendMsg(self.send_request(), metadata=wrong, timeout=CALL_TIMEOUT_SECS),
            grpc.StatusCode.UNAUTHENTICATED)
        return f"{error.code().name}: {error.details()!r}"

    def account_import(self):
        request = self.pb2["accounts"].AccountImportRequest(user_id=self.user, nick="Python smoke test")
        self.accounts.AccountImport(request, metadata=self.auth, timeout=CALL_TIMEOUT_SECS)
        return f"imported {self.user}"

    def send_msg(self):
        msg_random = secrets.randbelow(2**32 - 1) + 1
        answer = self.messages.SendMsg(self.send_request(msg_random=msg_random), metadata=self.auth,
                                       timeout=CALL_TIMEOUT_SECS)
        require(answer.HasField("msg_key") and answer.msg_key, f"empty msg_key in {answer!r}")
        require(answer.msg_random == msg_random, f"msg_random {answer.msg_random}, sent {msg_random}")
        self.sent = (answer.msg_key, msg_random)
        return f"{ADMIN} -> {self.user}: msg_key {answer.msg_key!r}, msg_random {msg_random} echoed"

    def send_msg_empty_body(self):
        request = self.send_request(msg_body=[])
        error = self.expect_code(lambda: self.messages.SendMsg(request, metadata=self.auth, timeout=CALL_TIMEOUT_SECS),
                                 grpc.StatusCode.INVALID_ARGUMENT)
        # The detail travels in grpc-status-details-bin: a google.rpc.Status whose details hold a
        # tim.v1.ErrorDetail (a bare ErrorDetail is accepted too). The status message is reported beside it.
        detail_bin = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
        require(detail_bin, f"no grpc-status-details-bin trailer (message {error.details()!r})")
        detail, form = self.error_detail(detail_bin)
        require(detail is not None, f"grpc-status-details-bin holds no tim.v1.ErrorDetail: {form}")
        fields = [v.field for v in detail.violations]
        require(any("msg_body" in field for field in fields),
                f"ErrorDetail violations {[(v.field, v.description) for v in detail.violations]} do not name msg_body "
                f"(message {error.details()!r})")
        violations = [(v.field, v.rest_field, v.description) for v in detail.violations]
        # The same status holds the standard details, read as any Python client reads them (grpcio-status and
        # googleapis-common-protos, no tim stubs): google.rpc.ErrorInfo and google.rpc.BadRequest.
        status = rpc_status.from_call(error)
        require(status is not None, "rpc_status.from_call found no google.rpc.Status")
        info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
        found = {any_detail.type_url for any_detail in status.details}
        for any_detail in status.details:
            if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                any_detail.Unpack(info)
            elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                any_detail.Unpack(bad_request)
        require((info.domain, info.reason) == ("tim.v1", "INVALID_REQUEST"),
                f"google.rpc.ErrorInfo {info.domain!r}/{info.reason!r} (details {sorted(found)})")
        require(any("msg_body" in v.field for v in bad_request.field_violations),
                f"google.rpc.BadRequest {[(v.field, v.description) for v in bad_request.field_violations]} "
                f"does not name msg_body (details {sorted(found)})")
        return (f"INVALID_ARGUMENT {error.details()!r}; ErrorDetail ({form}) command {detail.command!r}, "
                f"violations {violations}; ErrorInfo {info.reason} {dict(info.metadata)}, "
                f"BadRequest {len(bad_request.field_violations)} violation(s)")

    def error_detail(self, detail_bin):
        """(ErrorDetail or None, how it was found) from the bytes of grpc-status-details-bin."""
        error_detail = self.pb2["common"].ErrorDetail
        try:
            envelope = self.pb2["rpc_status"].RpcStatus.FromString(detail_bin)
            for any_detail in envelope.details:
                if any_detail.type_url.endswith("/tim.v1.ErrorDetail"):
                    return error_detail.FromString(any_detail.value), f"google.rpc.Status, {any_detail.type_url}"
            types = [d.type_url for d in envelope.details]
        except Exception as decode_error:  # noqa: BLE001 (maybe a bare ErrorDetail)
            types = f"not a google.rpc.Status ({decode_error})"
        try:
            return error_detail.FromString(detail_bin), "a bare ErrorDetail"
        except Exception as decode_error:  # noqa: BLE001
            return None, f"google.rpc.Status details {types}; not a bare ErrorDetail either ({decode_error})"

    def rest_getroammsg(self):
        require(self.sent is not None, "skipped: the SendMsg check did not send a message")
        msg_key, msg_random = self.sent
        body = {"Operator_Account": ADMIN, "Peer_Account": self.user, "MaxCnt": 100, "MinTime": 0,
                "MaxTime": 4_102_444_800}
        request = self.pb2["rest"].CallRequest(command="openim/admin_getroammsg", json_body=json.dumps(body))
        answer = self.rest.Call(request, metadata=self.auth, timeout=CALL_TIMEOUT_SECS)
        require("admin_getroammsg" in answer.command, f"answer for command {answer.command!r}")
        try:
            decoded = json.loads(answer.json_body)
        except ValueError as error:
            raise CheckFailed(f"json_body is not JSON ({error}): {answer.json_body[:500]!r}") from None
        messages = decoded.get("MsgList") or []
        found = [m for m in messages if m.get("MsgKey") == msg_key]
        require(found, f"MsgKey {msg_key!r} not in MsgList of {len(messages)}: {answer.json_body[:1000]}")
        message = found[0]
        require(message.get("MsgRandom") == msg_random, f"MsgRandom {message.get('MsgRandom')}, sent {msg_random}")
        require(message.get("From_Account") == ADMIN, f"From_Account {message.get('From_Account')!r}")
        texts = [e.get("MsgContent", {}).get("Text") for e in message.get("MsgBody", [])]
        require(texts == ["hello from python"], f"MsgBody texts {texts}")
        return f"{answer.command}: {len(messages)} message(s), MsgKey {msg_key!r} found with its text"

    def fanout_run(self):
        """The fan-out: 20,000 distinct recipients (2 of them invalid) plus 5 duplicate lines."""
        pb2 = self.pb2["fanout"]
        prefix = f"py_fan_{secrets.token_hex(3)}_"
        invalid = ["x" * 33, "invalid_" + "y" * 40]  # UserIDs are at most 32 bytes
        valid = [f"{prefix}{i:05}" for i in range(FANOUT_UNIQUE - len(invalid))]
        duplicates = [valid[0], valid[1], valid[4_321], valid[12_345], valid[-1]]
        lines = list(valid)
        lines.insert(7_000, invalid[0])
        lines.insert(15_000, invalid[1])
        # Each duplicate line comes after the recipient's first line, most of them in a later batch.
        for offset, user in zip((2_500, 9_000, 13_000, 19_999), duplicates[:-1]):
            lines.insert(offset, user)
        lines.append(duplicates[-1])
        require(len(lines) == FANOUT_UNIQUE + len(duplicates), f"test bug: {len(lines)} lines")

        start = pb2.FanoutStart(message=self.pb2["messages"].BatchSendMsgRequest(
            msg_body=self.text_body("fan-out from python")))

        def requests():
            yield pb2.FanoutRequest(start=start)
            for at in range(0, len(lines), FANOUT_BATCH_LINES):
                batch = "\n".join(lines[at:at + FANOUT_BATCH_LINES])
                yield pb2.FanoutRequest(recipients=pb2.RecipientBatch(lines=batch))

        begun = time.monotonic()
        events = collections.Counter()
        failures, duplicate_lines, report, after_report = [], [], None, 0
        for event in self.fanout.Fanout(requests(), metadata=self.auth, timeout=FANOUT_TIMEOUT_SECS):
            kind = event.WhichOneof("kind")
            events[kind] += 1
            if report is not None:
                after_report += 1
            if kind == "failures":
                failures.extend(event.failures.failures)
                duplicate_lines.extend(event.failures.duplicates)
            elif kind == "report":
                report = event.report
        elapsed = time.monotonic() - begun
        self.fanout_result = {
            "lines": len(lines), "valid": len(valid), "invalid": invalid, "duplicates": duplicates,
            "sample": [valid[1_000], valid[17_777]],
            "failures": failures, "duplicate_lines": duplicate_lines, "report": report, "events": events,
            "after_report": after_report, "elapsed": elapsed,
        }
        require(report is not None, f"the stream ended OK without a report; events {dict(events)}")
        require(after_report == 0, f"{after_report} event(s) after the report, which must be the last")
        return (f"{len(lines)} lines in {-(-len(lines) // FANOUT_BATCH_LINES)} batches, stream ended OK after "
                f"{elapsed:.1f} s; events {dict(events)} (progress events are not required)")

    def fanout_counts(self):
        result = self.fanout_result
        require(result is not None and result["report"] is not None, "skipped: the fan-out gave no report")
        report = result["report"]
        expected = {"read": result["lines"], "delivered": result["valid"], "failed": 0, "outcome_unknown": 0,
                    "invalid": len(result["invalid"]), "duplicates": len(result["duplicates"])}
        got = {name: getattr(report, name) for name in expected}
        require(got == expected, f"report {got}, expected {expected} (failed_by_code {dict(report.failed_by_code)})")
        require(not report.cancelled, "report says cancelled")
        require(sum(report.failed_by_code.values()) == report.failed,
                f"failed_by_code {dict(report.failed_by_code)} does not add up to failed {report.failed}")
        return (f"read {report.read}, delivered {report.delivered} (= 20,000 - 2 invalid), invalid {report.invalid}, "
                f"failed {report.failed}, duplicates {report.duplicates}, chunks {report.chunks}, failed_by_code "
                f"{dict(report.failed_by_code)}")

    def fanout_failures(self):
        result = self.fanout_result
        require(result is not None and result["report"] is not None, "skipped: the fan-out gave no report")
        failed_ids = sorted(f.user_id for f in result["failures"])
        require(failed_ids == sorted(result["invalid"]),
                f"failures {[(f.user_id, f.error_code, f.reason) for f in result['failures'][:10]]}, expected "
                f"exactly the 2 invalid UserIDs {result['invalid']}")
        require(sorted(result["duplicate_lines"]) == sorted(result["duplicates"]),
                f"duplicates listed {sorted(result['duplicate_lines'])}, expected {sorted(result['duplicates'])}")
        lines = sorted(f.line for f in result["failures"])
        require(all(line > 0 for line in lines), f"invalid entries carry their line numbers: {lines}")
        reasons = "; ".join(f"{f.user_id[:12]}... line {f.line}: {f.reason!r}" for f in result["failures"])
        return f"failures list the 2 invalid UserIDs ({reasons}); duplicates list the 5 repeated lines"

    def fanout_stored(self):
        """What the embedded emulator stored: one message per recipient, duplicates not sent twice."""
        result = self.fanout_result
        require(result is not None and result["report"] is not None, "skipped: the fan-out gave no report")
        require(self.emulator_url, "tim serve announced no embedded emulator (no `URL/emulator/stats` on stdout)")
        sample = sorted(set(result["duplicates"]) | set(result["sample"]))
        for user in sample:
            inbox = get_json(f"{self.emulator_url}/emulator/inbox/{urllib.parse.quote(user, safe='')}")
            texts = [[e.get("MsgContent", {}).get("Text") for e in m.get("MsgBody", [])] for m in inbox]
            require(texts == [["fan-out from python"]], f"inbox of {user}: {texts}, expected the fan-out's text once")
        stats = get_json(f"{self.emulator_url}/emulator/stats")
        calls = stats.get("calls", {}).get("openim/batchsendmsg")
        chunks = result["report"].chunks
        require(calls == chunks, f"the emulator counted {calls} batchsendmsg calls, the report {chunks} chunks")
        return (f"{len(sample)} inboxes (the 5 duplicated recipients among them) hold the message exactly once; "
                f"{calls} batchsendmsg calls = the report's chunks")

    def metrics(self):
        with urllib.request.urlopen(self.metrics_url, timeout=CALL_TIMEOUT_SECS) as answer:
            status = answer.status
            text = answer.read().decode("utf-8", errors="replace")
        require(status == 200, f"HTTP {status}")
        require("tim_grpc_requests" in text, f"no tim_grpc_requests in {len(text)} bytes: {text[:500]!r}")
        # The calls made above are counted: SendMsg twice refused, at least once OK and once invalid.
        send_msg = collections.Counter()
        for name, labels, value in re.findall(r"^(tim_grpc_requests\w*)\{([^}]*)\} (\S+)$", text, re.MULTILINE):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            if labels.get("method", "").endswith("SendMsg"):
                send_msg[labels.get("code")] += float(value)
        expected = {"UNAUTHENTICATED": 2, "OK": 1, "INVALID_ARGUMENT": 1}
        short = {code: n for code, n in expected.items() if send_msg[code] < n}
        require(not short, f"SendMsg counted by code {dict(send_msg)}, expected at least {expected}")
        return (f"GET {self.metrics_url}: HTTP 200, {len(text)} bytes; tim_grpc_requests counts SendMsg by code "
                f"{dict(send_msg)}")

    def all_checks(self):
        return [
            ("health Check(\"\") is SERVING", self.health),
            ("reflection lists the tim.v1 services", self.reflection),
            ("SendMsg without a token is UNAUTHENTICATED", self.unauthenticated_without_token),
            ("SendMsg with a wrong token is UNAUTHENTICATED", self.unauthenticated_with_wrong_token),
            ("AccountService/AccountImport", self.account_import),
            ("MessageService/SendMsg returns msg_key and echoes msg_random", self.send_msg),
            ("SendMsg with an empty msg_body is INVALID_ARGUMENT naming msg_body", self.send_msg_empty_body),
            ("RestService/Call openim/admin_getroammsg finds the message", self.rest_getroammsg),
            ("FanoutService/Fanout of 20,005 lines ends with a report", self.fanout_run),
            ("Fanout report counts", self.fanout_counts),
            ("Fanout failures and duplicates", self.fanout_failures),
            ("embedded emulator stored the fan-out once per recipient", self.fanout_stored),
            ("metrics endpoint serves tim_grpc_requests, counting the calls above", self.metrics),
        ]


def get_json(url):
    with urllib.request.urlopen(url, timeout=CALL_TIMEOUT_SECS) as answer:
        require(answer.status == 200, f"GET {url}: HTTP {answer.status}")
        return json.loads(answer.read())


def run_checks(smoke):
    failed = 0
    for name, check in smoke.all_checks():
        try:
            detail = check()
            print(f"PASS {name}: {detail}", flush=True)
        except CheckFailed as error:
            failed += 1
            print(f"FAIL {name}: {error}", flush=True)
        except grpc.RpcError as error:
            failed += 1
            print(f"FAIL {name}: unexpected gRPC error {describe_rpc_error(error)}", flush=True)
        except Exception as error:  # noqa: BLE001 (a broken check must not hide the others)
            failed += 1
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
            traceback.print_exc()
    return failed


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tim", required=True, help="path to the tim binary")
    parser.add_argument("--proto", default=os.path.normpath(os.path.join(here, "..", "..", "proto")),
                        help="the proto/ directory (default: the repository's)")
    args = parser.parse_args()
    binary = os.path.abspath(args.tim)
    if not os.access(binary, os.X_OK):
        print(f"smoke_test: {binary} is not an executable file", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="tim-py-stubs-") as stubs:
        pb2, grpc_mods = generate_stubs(args.proto, stubs)
        print(f"stubs generated from {args.proto} into a temporary directory", flush=True)
        token = secrets.token_hex(24)
        gateway = Gateway(binary, token)
        failed = 1
        try:
            grpc_address, metrics_url = gateway.wait_for_banner()
            print(f"PASS tim serve started: gRPC on {grpc_address}, metrics on {metrics_url}", flush=True)
            with grpc.insecure_channel(grpc_address) as channel:
                grpc.channel_ready_future(channel).result(timeout=CALL_TIMEOUT_SECS)
                smoke = Smoke(pb2, grpc_mods, channel, token, metrics_url, gateway.emulator_url())
                failed = run_checks(smoke)
            if gateway.process.poll() is not None:
                failed += 1
                print(f"FAIL tim serve is still running: it exited with {gateway.process.poll()}", flush=True)
        except CheckFailed as error:
            print(f"FAIL tim serve started: {error}", flush=True)
        except grpc.FutureTimeoutError:
            print(f"FAIL tim serve started: no gRPC connection within {CALL_TIMEOUT_SECS} s", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        finally:
            gateway.stop()
            if failed:
                gateway.dump()
    if failed:
        print(f"smoke_test: {failed} check(s) failed", flush=True)
        return 1
    print("smoke_test: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
