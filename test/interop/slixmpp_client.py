#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client for slixmpp.test.ts.

Logs in over STARTTLS (required) with exactly one SASL mechanism, verifying the server's
certificate against --cafile. Reports what happens as JSON lines on stdout:

  {"event": "session_start", "jid": ..., "tls": true, "tls_version": ..., "mechanism": ...}
  {"event": "message", "from": ..., "type": ..., "id": ..., "body": ...}
  {"event": "failed_auth", "condition": ..., "text": ...}
  {"event": "stream_error", "condition": ...}
  {"event": "disconnected", "reason": ...}
  {"event": "timeout"}                      (the hard timeout fired)

Commands arrive as JSON lines on stdin:
  {"cmd": "send", "to": ..., "body": ..., "id": ...}
  {"cmd": "quit"}                           (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import slixmpp


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class InteropClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mechanism, channel_binding):
        # sasl_mech limits SASL to this one mechanism (feature_mechanisms.use_mech).
        super().__init__(jid, password, sasl_mech=mechanism)
        if not channel_binding:
            # By default, on TLS slixmpp hands SCRAM its tls-unique data even for a non-PLUS
            # mechanism and so sends the GS2 flag 'y' ("I could bind, you can't", RFC 5802 §6).
            # Without the data it sends 'n': a client that does not do channel binding at all.
            mechanisms = self["feature_mechanisms"]
            default_credentials = mechanisms.sasl_callback

            def credentials(required, optional):
                values = default_credentials(required, optional)
                values.pop("channel_binding", None)
                return values

            mechanisms.sasl_callback = credentials
        self.done = asyncio.Event()
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("failed_all_auth", lambda _: report("failed_all_auth"))
        self.add_event_handler("stream_error", self.on_stream_error)
        self.add_event_handler("ssl_invalid_chain", self.on_invalid_chain)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_connection_failed)

    async def on_session_start(self, _event):
        ssl_object = self.transport.get_extra_info("ssl_object") if self.transport else None
        mech = self["feature_mechanisms"].mech
        report(
            "session_start",
            jid=str(self.boundjid),
            tls=ssl_object is not None,
            tls_version=ssl_object.version() if ssl_object else None,
            mechanism=mech.name if mech else None,
        )

    def on_message(self, msg):
        report("message", **{"from": str(msg["from"]), "type": msg["type"], "id": msg["id"], "body": msg["body"]})

    def on_failed_auth(self, failure):
        report("failed_auth", condition=failure["condition"], text=failure["text"])

    def on_stream_error(self, err):
        report("stream_error", condition=err["condition"], text=err["text"])

    def on_invalid_chain(self, exc):
        report("ssl_invalid_chain", error=str(exc))
        self.abort()

    def on_connection_failed(self, exc):
        # slixmpp would retry forever; one attempt is the test's business.
        report("connection_failed", error=str(exc))
        self.done.set()

    def on_disconnected(self, reason):
        report("disconnected", reason=str(reason))
        self.done.set()


async def read_commands(xmpp):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("cmd") == "send":
            msg = xmpp.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
            if cmd.get("id"):
                msg["id"] = cmd["id"]
            msg.send()
            report("sent", id=cmd.get("id"))
        elif cmd.get("cmd") == "quit":
            break
    xmpp.disconnect()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--mechanism", default="SCRAM-SHA-256")
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--no-channel-binding", dest="channel_binding", action="store_false",
                        help="withhold the TLS channel-binding data from SCRAM (GS2 flag 'n' instead of 'y')")
    args = parser.parse_args()

    loop = asyncio.get_running_loop()

    def hard_timeout():
        report("timeout")
        os._exit(3)

    loop.call_later(args.timeout, hard_timeout)

    xmpp = InteropClient(args.jid, args.password, args.mechanism, args.channel_binding)
    # Trust exactly the test's self-signed certificate; hostname checking stays on.
    xmpp.ca_certs = Path(args.cafile)
    # force_starttls: abort unless the server offers STARTTLS; never fall back to plain text.
    xmpp.connect((args.host, args.port), use_ssl=False, force_starttls=True, disable_starttls=False)
    commands = asyncio.ensure_future(read_commands(xmpp))
    await xmpp.done.wait()
    commands.cancel()
    report("exit")


if __name__ == "__main__":
    asyncio.run(main())
    # The stdin pipe reader may keep a thread or fd busy; leave now that we reported.
    sys.stdout.flush()
    os._exit(0)
