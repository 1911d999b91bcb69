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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp_common import InteropClient, arguments, report, run, withhold_channel_binding  # noqa: E402


class Client(InteropClient):
    def __init__(self, args):
        super().__init__(args.jid, args.password, args.mechanism, (args.host, args.port), args.cafile)
        if not args.channel_binding:
            withhold_channel_binding(self)
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("failed_all_auth", lambda _: report("failed_all_auth"))
        self.add_event_handler("stream_error", self.on_stream_error)

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

    async def on_command(self, cmd):
        if cmd.get("cmd") == "send":
            self.send_chat(cmd)
            report("sent", id=cmd.get("id"))


if __name__ == "__main__":
    parser = arguments()
    parser.add_argument("--mechanism", default="SCRAM-SHA-256")
    parser.add_argument("--no-channel-binding", dest="channel_binding", action="store_false",
                        help="withhold the TLS channel-binding data from SCRAM (GS2 flag 'n' instead of 'y')")
    args = parser.parse_args()
    run(args, lambda: Client(args))
